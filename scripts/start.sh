#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, migrate and
# start the daemon with config/ventanilla.example.json on an embedded SQLite
# file in ./data, at http://localhost:8080. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
./build/ventanilla migrate --config config/ventanilla.example.json
# The first time only: an admin account with a one-time password, printed here.
./build/ventanilla user bootstrap --config config/ventanilla.example.json
echo "Ventanilla: http://localhost:8080  (tablero: /tablero, staff: /staff)"
exec ./build/ventanilla serve --config config/ventanilla.example.json

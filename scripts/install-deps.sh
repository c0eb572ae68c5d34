#!/usr/bin/env bash
# Installs the Debian 12 packages Ventanilla needs to build, run and test.
# Installs only what is missing, so it is quick when everything is there.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libwebsockets-dev libcjson-dev libsodium-dev libcurl4-openssl-dev libsqlite3-dev libmagic-dev libgmime-3.0-dev libqrencode-dev libstemmer-dev
  python3 python3-websockets clang libclang-rt-14-dev sqlite3 wrk
  dovecot-imapd python3-aiosmtpd
  chromium faketime libjs-chart.js
  postgresql postgresql-contrib libpq-dev python3-psycopg2
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

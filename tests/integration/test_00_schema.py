"""The two schemas are one: `ventanilla migrate` on SQLite (migrations/) and on
PostgreSQL (migrations/postgresql/) give the same tables, columns, keys and
indexes (scripts/check-schema), and every statement the C code prepares is
valid on PostgreSQL with the types PostgreSQL infers (scripts/check-sql-pg
--strict). Both checks also prove, with their --self-test, that they catch
what they look for.

On the SQLite backend only the SQLite half of check-schema's self-test runs
(there is no PostgreSQL to compare with); the rest runs under integration-pg.
"""

import os
import subprocess
import sys
import unittest

import harness as H

SCRIPTS = os.path.join(H.SOURCE_DIR, "scripts")


def script(name, *args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)


class Schema(unittest.TestCase):
    def test_01_check_schema_catches_differences(self):
        pg = H.Daemon(name="selftest", migrate=False) if H.BACKEND == "postgresql" else None
        try:
            p = script("check-schema", "--self-test", *([pg.store.conninfo] if pg else []))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            H.release(pg)

    @unittest.skipUnless(H.BACKEND == "postgresql", "compares SQLite's schema with PostgreSQL's")
    def test_02_migrate_gives_the_same_schema_on_both(self):
        pg = H.Daemon(name="schema")  # migrated on PostgreSQL
        lite_dir = os.path.join(pg.dir, "sqlite")
        try:
            # The config names PostgreSQL: migrate the SQLite twin with a config of its own.
            lite_cfg = os.path.join(pg.dir, "sqlite.json")
            with open(lite_cfg, "w", encoding="utf-8") as f:
                f.write('{"server": {"data_dir": "%s"}}' % lite_dir)
            p = H.run_cli("migrate", "--config", lite_cfg, "--data-dir", lite_dir)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            c = script("check-schema", os.path.join(lite_dir, "ventanilla.db"), pg.store.conninfo)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            self.assertIn("same schema", c.stdout + c.stderr)
        finally:
            H.release(pg)

    @unittest.skipUnless(H.BACKEND == "postgresql", "prepares the C code's SQL on PostgreSQL")
    def test_03_every_statement_prepares_on_postgresql(self):
        pg = H.Daemon(name="sqlcheck")
        try:
            p = script("check-sql-pg", "--self-test", pg.store.conninfo)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            p = script("check-sql-pg", pg.store.conninfo, "--strict")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            H.release(pg)


if __name__ == "__main__":
    H.main()

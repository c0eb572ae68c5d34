"""CLI: check-config, migrate, schema version guard, calendar."""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
import legal_calendar as LC  # noqa: E402


class CheckConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vt-it-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def write(self, name, obj):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            if isinstance(obj, str):
                f.write(obj)
            else:
                json.dump(obj, f, ensure_ascii=False, indent=2)
        return path

    def check(self, path):
        return H.run_cli("check-config", "--config", path)

    def assert_rejected(self, path, keypath):
        p = self.check(path)
        self.assertNotEqual(p.returncode, 0, "check-config accepted a bad file: %s %s" % (p.stdout, p.stderr))
        prefix = "%s: %s: " % (path, keypath)
        lines = [l for l in p.stderr.splitlines() if l.startswith(prefix)]
        self.assertTrue(lines, "stderr lacks a line %r...: %r" % (prefix, p.stderr))
        self.assertTrue(lines[0][len(prefix):].strip(), "empty message: %r" % lines[0])
        return lines[0]

    def test_01_full_good_file_ok(self):
        cfg = {
            "// comment": "keys starting with // are ignored",
            "server": {"listen": "127.0.0.1", "port": 8080, "data_dir": "data", "max_body_bytes": 26214400,
                       "max_json_bytes": 262144, "trust_forwarded_for": False, "//note": "anything"},
            "entity": {"name": "Alcaldía de Prueba"},
            "office": {"closing_time": "17:00", "non_working_days": ["2030-12-24"]},
            "terms": {"peticion_general": 15, "peticion_documentos": 10, "peticion_consulta": 30, "queja": 15,
                      "reclamo": 15, "sugerencia": 15, "denuncia": 15, "hearing_question": 15},
            "radicado": {"prefix": "ABC", "digits": 6},
            "intake": {"rate_limit_per_minute": 60, "rate_limit_burst": 20, "max_subject_chars": 200,
                       "max_body_chars": 20000},
            "attachments": {"max_bytes": 10485760, "max_count": 5,
                            "allowed_types": ["application/pdf", "image/png", "text/plain"]},
            "classification": {
                "groups": [{"id": "ciudadania", "name": "Ciudadanía"},
                           {"id": "entidades_publicas", "name": "Entidades públicas"},
                           {"id": "medios", "name": "Medios"}],
                "default_group": "ciudadania",
                "domain_rules": [{"pattern": "*.gov.co", "group": "entidades_publicas"}],
                "keyword_rules": [{"keywords": ["periodista"], "group": "medios"}],
            },
            "store": {"batch_max": 1024},
            "live": {"due_soon_days": 3},
            "metrics": {"token": ""},
            "log": {"level": "info"},
        }
        p = self.check(self.write("good.json", cfg))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ok", p.stdout.lower())

    def test_02_empty_object_ok(self):
        p = self.check(self.write("empty.json", {}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ok", p.stdout.lower())

    def test_03_unknown_key(self):
        self.assert_rejected(self.write("unknown.json", {"server": {"prot": 8080}}), "server.prot")

    def test_04_unknown_section(self):
        self.assert_rejected(self.write("unknown_section.json", {"servidor": {}}), "servidor")

    def test_05_wrong_type(self):
        self.assert_rejected(self.write("wrongtype.json", {"server": {"port": "8080"}}), "server.port")
        self.assert_rejected(self.write("wrongtype2.json", {"server": {"trust_forwarded_for": "yes"}}),
                             "server.trust_forwarded_for")
        self.assert_rejected(self.write("wrongtype3.json", {"intake": {"rate_limit_per_minute": 6.5}}),
                             "intake.rate_limit_per_minute")

    def test_06_out_of_range(self):
        self.assert_rejected(self.write("range.json", {"server": {"port": 70000}}), "server.port")
        self.assert_rejected(self.write("range2.json", {"terms": {"queja": 0}}), "terms.queja")
        self.assert_rejected(self.write("range3.json", {"intake": {"rate_limit_per_minute": -1}}),
                             "intake.rate_limit_per_minute")

    def test_07_bad_closing_time_and_log_level(self):
        self.assert_rejected(self.write("closing.json", {"office": {"closing_time": "25:99"}}),
                             "office.closing_time")
        self.assert_rejected(self.write("loglevel.json", {"log": {"level": "chatty"}}), "log.level")

    def test_08_malformed_json(self):
        path = self.write("malformed.json", '{"server": {"port": 8080,}')
        p = self.check(path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path + ":", p.stderr)

    def test_09_missing_file(self):
        p = self.check(os.path.join(self.dir, "does-not-exist.json"))
        self.assertNotEqual(p.returncode, 0)


class Migrations(H.DaemonCase):
    def setUp(self):
        self.d = H.Daemon(name="mig", migrate=False)

    def tearDown(self):
        self.d.cleanup()

    def test_01_migrate_twice(self):
        p1 = self.d.migrate()
        p2 = self.d.migrate()
        self.assertEqual(p1.returncode, 0)
        self.assertEqual(p2.returncode, 0)
        if H.BACKEND == "sqlite":  # PostgreSQL's database has no file of ours
            self.assertTrue(os.path.exists(self.d.db_path))
        tables = self.d.tables()
        for t in ("items", "requesters", "attachments", "audit_events", "audit_head", "contacts",
                  "schema_migrations"):
            self.assertIn(t, tables)
        versions = [r["version"] for r in self.d.query("SELECT version FROM schema_migrations")]
        self.assertEqual(len(versions), len(set(versions)), "a migration was recorded twice: %r" % versions)
        self.assertIn(1, versions)
        # the daemon then serves the migrated database
        self.d.start()
        try:
            self.assertEqual(self.d.get("/healthz").status, 200)
        finally:
            self.d.stop()

    def test_02_newer_schema_refused(self):
        self.d.migrate()
        cols = self.d.columns("schema_migrations")
        names, values = [], []
        for _cid, name, ctype, notnull, dflt, _pk in cols:
            if name == "version":
                names.append(name)
                values.append(9999)
            elif notnull and dflt is None:
                names.append(name)
                values.append(0 if "INT" in (ctype or "").upper() else "9999_future.sql")
        self.d.execute("INSERT INTO schema_migrations (%s) VALUES (%s)" % (",".join(names), ",".join("?" * len(names))),
                       values)

        p = self.d.cli("migrate", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertNotEqual(p.returncode, 0, "migrate accepted a newer schema: %s %s" % (p.stdout, p.stderr))

        proc = subprocess.Popen([H.BIN, "serve", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir,
                                 "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail("serve kept running on a database newer than the binary: %s" % err.decode(errors="replace"))
        self.assertNotEqual(proc.returncode, 0, "serve exited 0 on a newer schema")
        self.assertNotIn(b"event=listening", err)
        # the database was not touched: the future row is still there
        self.assertEqual(self.d.scalar("SELECT max(version) FROM schema_migrations"), 9999)


class Calendar(unittest.TestCase):
    EXPECTED_2025 = ["2025-01-01", "2025-01-06", "2025-03-24", "2025-04-17", "2025-04-18", "2025-05-01",
                     "2025-06-02", "2025-06-23", "2025-06-30", "2025-06-30", "2025-07-20", "2025-08-07",
                     "2025-08-18", "2025-10-13", "2025-11-03", "2025-11-17", "2025-12-08", "2025-12-25"]

    def test_01_holidays_2025(self):
        p = H.run_cli("calendar", "holidays", "2025")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        self.assertEqual(len(lines), 18, p.stdout)
        dates = []
        for l in lines:
            m = re.search(r"\d{4}-\d{2}-\d{2}", l)
            self.assertIsNotNone(m, "line without a date: %r" % l)
            dates.append(m.group(0))
        self.assertEqual(sorted(dates), self.EXPECTED_2025)
        self.assertEqual(dates.count("2025-06-30"), 2)

    def test_07_holidays_every_year_match_the_law(self):
        # The tests' own literal table (legal_calendar.py), year by year.
        for year in sorted(LC.HOLIDAYS):
            p = H.run_cli("calendar", "holidays", str(year))
            self.assertEqual(p.returncode, 0, p.stderr)
            got = {datetime.date.fromisoformat(m) for m in re.findall(r"\d{4}-\d{2}-\d{2}", p.stdout)}
            self.assertEqual(got, LC.HOLIDAYS[year], year)

    def due(self, received, type_="peticion", cls=None):
        return H.cli_due_date(received, type_, cls)

    def test_02_due_business_days(self):
        # Friday 27 June 2025, 10:00: day 1 is Tue 1 July (30 June is a holiday);
        # 15 business days later (20 July is a Sunday) -> Mon 21 July.
        self.assertEqual(self.due("2025-06-27T10:00:00-05:00", "peticion"), "2025-07-21")
        self.assertEqual(self.due("2025-06-27T10:00:00-05:00", "peticion", "general"), "2025-07-21")
        self.assertEqual(self.due("2025-06-27T10:00:00-05:00", "queja"), "2025-07-21")
        self.assertEqual(self.due("2025-06-27T10:00:00-05:00", "peticion", "documentos"), "2025-07-14")
        # 30 business days: from 1 Jul, skipping 7 Aug and 18 Aug -> 12 Aug
        self.assertEqual(self.due("2025-06-27T10:00:00-05:00", "peticion", "consulta"), "2025-08-12")

    def test_03_due_after_closing_time(self):
        # 17:30 counts as received on Tue 1 July -> day 1 is 2 July -> 22 July
        self.assertEqual(self.due("2025-06-27T17:30:00-05:00", "peticion"), "2025-07-22")
        self.assertEqual(self.due("2025-06-27T17:00:00-05:00", "peticion"), "2025-07-22")
        self.assertEqual(self.due("2025-06-27T16:59:59-05:00", "peticion"), "2025-07-21")

    def test_04_due_non_business_day(self):
        # Saturday and the Monday holiday both count as Tue 1 July
        self.assertEqual(self.due("2025-06-28T10:00:00-05:00", "peticion"), "2025-07-22")
        self.assertEqual(self.due("2025-06-30T09:00:00-05:00", "reclamo"), "2025-07-22")

    def test_05_due_utc_offset(self):
        # 21:30Z is 16:30 in Bogotá (before closing); 22:30Z is 17:30 (after)
        self.assertEqual(self.due("2025-06-27T21:30:00Z", "peticion"), "2025-07-21")
        self.assertEqual(self.due("2025-06-27T22:30:00Z", "peticion"), "2025-07-22")

    def test_06_due_bad_type(self):
        p = H.run_cli("calendar", "due", "--type", "reclamacion", "--received", "2025-06-27T10:00:00-05:00")
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    H.main()

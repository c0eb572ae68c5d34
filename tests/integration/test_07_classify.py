"""Stakeholder-group classification: contacts register, domain rules,
declared group, then the learned classifier; without it (classify.enabled
false), keywords and the default group."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CSV = """email,phone,id_number,group,name
control@contraloria-prueba.example.org,,,organismos_control,Contraloría Departamental
,3109876543,,medios,Emisora Comunitaria
,,900123456,sector_privado,Cámara de Comercio
"""


class Classify(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon(name="classify")
        path = os.path.join(cls.d.dir, "partes_interesadas.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(CSV)
        cls.import_result = cls.d.cli("contacts", "import", "--config", cls.d.cfg_path, "--data-dir",
                                      cls.d.data_dir, path)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def intake(self, **over):
        req = H.item_payload(**over)
        doc = H.assert_created(self, self.d.post_json(req))
        row = self.d.query("SELECT stakeholder_group, classified_by FROM items WHERE radicado = ?",
                           (doc["radicado"],))[0]
        self.assertEqual(row["stakeholder_group"], doc["stakeholder_group"])
        self.assertEqual(row["classified_by"], doc["classified_by"])
        return doc

    def requester(self, **over):
        p = H.person()
        r = {"person_type": "natural", "name": p["name"], "id_type": "CC", "id_number": p["id_number"],
             "email": p["email"], "phone": p["phone"]}
        for k, v in over.items():
            if v is None:
                r.pop(k, None)
            else:
                r[k] = v
        return r

    def test_01_import(self):
        p = self.import_result
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"\b3\b", "import should print the count imported")
        rows = self.d.query("SELECT key_type, group_id FROM contacts ORDER BY key_type")
        self.assertEqual(sorted((r["key_type"], r["group_id"]) for r in rows),
                         [("email", "organismos_control"), ("id", "sector_privado"), ("phone", "medios")])

    def test_02_contact_email(self):
        doc = self.intake(requester=self.requester(email="control@contraloria-prueba.example.org"))
        self.assertEqual(doc["stakeholder_group"], "organismos_control")
        self.assertEqual(doc["classified_by"], "contacts:email")

    def test_03_contact_phone_and_id(self):
        doc = self.intake(requester=self.requester(phone="3109876543"))
        self.assertEqual(doc["stakeholder_group"], "medios")
        self.assertTrue(doc["classified_by"].startswith("contacts"), doc)
        doc = self.intake(requester=self.requester(id_type="NIT", id_number="900123456", person_type="juridica"))
        self.assertEqual(doc["stakeholder_group"], "sector_privado")
        self.assertTrue(doc["classified_by"].startswith("contacts"), doc)

    def test_04_domain_rule(self):
        doc = self.intake(requester=self.requester(email="despacho@personeriavillavicencio.gov.co"))
        self.assertEqual(doc["stakeholder_group"], "organismos_control")
        self.assertEqual(doc["classified_by"], "domain:personeria*.gov.co")

    def test_05_declared_wins(self):
        doc = self.intake(requester=self.requester(email="despacho@personeriavillavicencio.gov.co"),
                          declared_group="academia")
        self.assertEqual(doc["stakeholder_group"], "academia")
        self.assertEqual(doc["classified_by"], "declared")
        doc = self.intake(requester=self.requester(email="control@contraloria-prueba.example.org"),
                          declared_group="organizaciones_sociales")
        self.assertEqual(doc["stakeholder_group"], "organizaciones_sociales")
        self.assertEqual(doc["classified_by"], "declared")

    def test_06_model_below_the_rules(self):
        # No rule applies: the learned classifier decides, and says so.
        doc = self.intake(subject="Solicitud de información",
                          body="Como periodista del diario El Llano solicito las cifras de contratación de 2025.",
                          requester=self.requester(email="redaccion%d@gmail.com" % H.unique()))
        self.assertEqual(doc["stakeholder_group"], "medios")
        self.assertRegex(doc["classified_by"], r"^modelo:[0-9a-f]{12}$")
        version = doc["classified_by"].split(":")[1]
        row = self.d.query("SELECT classifier FROM items WHERE radicado = ?", (doc["radicado"],))[0]
        self.assertEqual(H.stored_suggestion(row["classifier"])["model"], version)

    def test_08_web_form_declared_group(self):
        import urllib.parse
        f = H.form_fields(declared_group="academia", email="profesor%d@universidad.example.edu" % H.unique())
        r = self.d.request("POST", "/", urllib.parse.urlencode(f).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        row = self.d.query("SELECT stakeholder_group, classified_by FROM items ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(row["stakeholder_group"], "academia")
        self.assertEqual(row["classified_by"], "declared")

    def test_99_no_crash(self):
        self.assert_no_crash()
        self.d.stop()


class RulesOnly(H.DaemonCase):
    """classify.enabled false: the keyword rules, then the default group, as
    before the learned classifier; nothing is suggested."""

    @classmethod
    def setUpClass(cls):
        cls.d = H.Daemon({"classify": {"enabled": False}}, name="classify-rules")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def intake(self, **over):
        doc = H.assert_created(self, self.d.post_json(H.item_payload(**over)))
        row = self.d.query("SELECT stakeholder_group, classified_by, classifier FROM items WHERE radicado = ?",
                           (doc["radicado"],))[0]
        self.assertIsNone(row["classifier"])
        return row

    def test_01_keyword(self):
        row = self.intake(subject="Solicitud de información",
                          body="Como periodista del diario El Llano solicito las cifras de contratación de 2025.")
        self.assertEqual((row["stakeholder_group"], row["classified_by"]), ("medios", "keyword:periodista"))

    def test_02_default(self):
        row = self.intake(requester={"person_type": "natural", "name": "Vecina",
                                     "email": "vecina.del.barrio%d@gmail.com" % H.unique()})
        self.assertEqual((row["stakeholder_group"], row["classified_by"]), ("ciudadania", "default"))


if __name__ == "__main__":
    H.main()

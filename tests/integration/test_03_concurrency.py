"""200 concurrent intakes: all accepted, radicados gap-free and consecutive."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

N = 200


class Concurrency(H.DaemonCase):
    @classmethod
    def setUpClass(cls):
        # Twenty items are looked up again, from the one test address.
        cls.d = H.Daemon(name="conc", config={"tracking": {"rate_limit_per_minute": 100000, "rate_limit_burst": 100000}})
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_01_concurrent_intakes(self):
        first = H.assert_created(self, self.d.post_json(H.item_payload()))
        base = H.radicado_seq(first["radicado"])
        year = first["radicado"][:4]

        payloads = [H.item_payload(subject="Petición concurrente %d" % i, type="queja") for i in range(N)]
        results = [None] * N
        barrier = threading.Barrier(N)

        def worker(i):
            try:
                barrier.wait(30)
                results[i] = self.d.post_json(payloads[i])
            except Exception as e:  # noqa: BLE001
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - t0
        print("\n  %d concurrent intakes in %.2f s" % (N, elapsed))

        errors = [(i, r) for i, r in enumerate(results) if not isinstance(r, H.Response) or r.status != 201]
        self.assertEqual(errors, [], "%d of %d intakes failed; first: %r" % (len(errors), N, errors[:3]))
        docs = [r.json() for r in results]
        radicados = [d["radicado"] for d in docs]
        self.assertEqual(len(set(radicados)), N, "duplicate radicados")
        self.assertTrue(all(r.startswith(year + "-") for r in radicados))
        seqs = sorted(H.radicado_seq(r) for r in radicados)
        self.assertEqual(seqs, list(range(base + 1, base + N + 1)), "radicados are not gap-free and consecutive")

        # every answer is what was stored for that very request
        rows = self.d.query("SELECT radicado, subject, type FROM items")
        self.assertEqual(len(rows), N + 1)
        by_rad = {r["radicado"]: r for r in rows}
        for p, d in zip(payloads, docs):
            self.assertEqual(by_rad[d["radicado"]]["subject"], p["subject"])
        self.assertEqual(self.d.scalar("SELECT count(*) FROM requesters"), N + 1)
        self.assertEqual(self.d.scalar("SELECT max(radicado_seq) FROM items"), base + N)

        # each answer's tracking code works
        for d in docs[:20]:
            self.assertEqual(self.d.track(d["radicado"], d["tracking_code"]).status, 200)

    def test_02_batches_and_clean_stop(self):
        self.assert_no_crash()
        m = self.d.get("/metrics")
        self.assertEqual(m.status, 200)
        self.assertIn("ventanilla_commit_batches_total", m.text)
        self.d.stop()
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_03_sigterm_during_intakes(self):
        """SIGTERM while intakes are in flight: exit 0, every 201 is stored,
        numbering stays gap-free."""
        if not self.d.running():
            self.d.start()
        before = self.d.scalar("SELECT count(*) FROM items")
        M = 100
        results = [None] * M
        answered = threading.Event()
        barrier = threading.Barrier(M)

        def worker(i):
            try:
                barrier.wait(30)
                results[i] = self.d.post_json(H.item_payload(subject="Durante el apagado %d" % i))
                answered.set()
            except Exception as e:  # noqa: BLE001
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(M)]
        for t in threads:
            t.start()
        answered.wait(10)
        self.d.stop()  # asserts exit 0 within 10 s
        for t in threads:
            t.join(30)
        ok = [r.json()["radicado"] for r in results if isinstance(r, H.Response) and r.status == 201]
        print("\n  %d of %d intakes answered 201 around SIGTERM" % (len(ok), M))
        self.assertGreaterEqual(len(ok), 1)
        stored = {r["radicado"] for r in self.d.query("SELECT radicado FROM items")}
        missing = [r for r in ok if r not in stored]
        self.assertEqual(missing, [], "answered 201 but not stored")
        seqs = sorted(r["radicado_seq"] for r in self.d.query("SELECT radicado_seq FROM items"))
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "gap in radicados after SIGTERM")
        self.assertGreaterEqual(len(seqs), before + len(ok))
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    H.main()

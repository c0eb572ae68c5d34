"""200 concurrent intakes: all accepted, radicados gap-free and consecutive."""
import http.client
import json
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
        """SIGTERM while intakes are in flight: exit 0, numbering stays
        gap-free, and every one of the 100 requests is accounted for: a 201
        whose item is stored whole (item, requester, audit event), or a
        refusal (503) or connection error whose item is not stored at all."""
        if not self.d.running():
            self.d.start()
        before = self.d.scalar("SELECT count(*) FROM items")
        port = self.d.port
        M = 100
        tag = "apagado-%d-%d" % (os.getpid(), H.unique())
        subjects = ["Durante el apagado %s n%03d" % (tag, i) for i in range(M)]
        results = [None] * M
        answered = threading.Event()
        barrier = None

        def worker(i):
            body = json.dumps(H.item_payload(subject=subjects[i]), ensure_ascii=False).encode()
            try:
                if i < first:
                    barrier.wait(60)
                # Straight to the socket: the harness's helper would call a
                # refused connection after the stop a crash.
                results[i] = H.http_request(port, "POST", "/api/v1/items", body,
                                            {"Content-Type": "application/json"}, timeout=60)
                if results[i].status == 201:
                    answered.set()
            except (OSError, http.client.HTTPException) as e:
                results[i] = e
            except Exception as e:  # noqa: BLE001
                results[i] = ("unexpected", e)

        # The first half is in flight when SIGTERM comes; the second half
        # arrives while the daemon drains and after it has gone.
        first = M // 2
        barrier = threading.Barrier(first)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(M)]
        for t in threads[:first]:
            t.start()
        self.assertTrue(answered.wait(60), "no intake was answered before the stop")
        stop_error = []

        def stop():
            try:
                self.d.stop()  # asserts exit 0 (and, on a sanitizer build, no leak)
            except Exception as e:  # noqa: BLE001
                stop_error.append(e)

        stopper = threading.Thread(target=stop)
        stopper.start()
        for t in threads[first:]:
            t.start()
        stopper.join(120)
        for t in threads:
            t.join(60)
        self.assertFalse(stopper.is_alive(), "the stop did not return")
        if stop_error:
            raise stop_error[0]
        self.assertFalse([i for i, t in enumerate(threads) if t.is_alive()], "requests still hanging")

        rows = {r["subject"]: r for r in self.d.query(
            "SELECT i.id, i.radicado, i.subject, "
            "(SELECT count(*) FROM requesters q WHERE q.item_id = i.id) AS requesters, "
            "(SELECT count(*) FROM audit_events a WHERE a.item_id = i.id AND a.action = 'radicado') AS events "
            "FROM items i WHERE i.subject LIKE ?", ("%" + tag + "%",))}
        created, refused, dropped, wrong = 0, 0, 0, []
        for i, r in enumerate(results):
            row = rows.get(subjects[i])
            if isinstance(r, H.Response) and r.status == 201:
                created += 1
                if row is None:
                    wrong.append((i, "answered 201 but not stored", r))
                elif row["radicado"] != r.json()["radicado"]:
                    wrong.append((i, "stored under another radicado", row["radicado"], r))
                elif (row["requesters"], row["events"]) != (1, 1):
                    wrong.append((i, "stored half: requesters, events", row["requesters"], row["events"]))
            elif isinstance(r, H.Response):
                refused += 1
                if r.status != 503:
                    wrong.append((i, "neither 201 nor 503", r))
                else:
                    H.assert_error(self, r, 503)
                if row is not None:
                    wrong.append((i, "refused (%d) but stored as %s" % (r.status, row["radicado"])))
            elif isinstance(r, BaseException):
                dropped += 1
                if row is not None:
                    wrong.append((i, "connection error (%r) but stored as %s" % (r, row["radicado"])))
            else:
                wrong.append((i, "no outcome", r))
        print("\n  of %d intakes around SIGTERM: %d answered 201, %d refused, %d connection errors"
              % (M, created, refused, dropped))
        self.assertEqual(wrong, [])
        self.assertEqual(created + refused + dropped, M)
        self.assertGreaterEqual(created, 1)
        self.assertEqual(len(rows), created, "stored items of this test that were not answered 201")
        seqs = sorted(r["radicado_seq"] for r in self.d.query("SELECT radicado_seq FROM items"))
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "gap in radicados after SIGTERM")
        self.assertEqual(len(seqs), before + created)
        p = self.d.cli("audit", "verify", "--config", self.d.cfg_path, "--data-dir", self.d.data_dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    H.main()

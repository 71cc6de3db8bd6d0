"""One verifier shared by many threads; the GIL is released while warden works."""

import threading
import time

import warden
from conftest import API_KEY, NOW, base_config, pbkdf2_phc, token


def test_threads_share_one_verifier(verifier):
    tokens = [token(sub="user-%d" % i, scope="s%d" % i) for i in range(8)]
    errors = []
    results = {}

    def worker(i):
        try:
            got = []
            for n in range(400):
                j = (i + n) % len(tokens)
                r = verifier.verify_jwt(tokens[j], NOW)
                if not (r.ok and r.subject == "user-%d" % j and r.scopes == ("s%d" % j,)):
                    errors.append((i, n, r))
                got.append(r)
                bad = verifier.verify_jwt(tokens[j][:-3] + "AAA", NOW)
                if bad.code != "bad_signature":
                    errors.append((i, n, bad))
            results[i] = got
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    # Every snapshot is still intact after all the other threads' verifications.
    for i, got in results.items():
        for n, r in enumerate(got):
            j = (i + n) % len(tokens)
            assert r.subject == "user-%d" % j and r.claim("sub") == "user-%d" % j
    assert verifier.verdict_count("jwt", "ok") == 8 * 400


def test_threads_with_reloads(verifier, config):
    stop = threading.Event()
    errors = []
    t = token()

    def reader():
        while not stop.is_set():
            r = verifier.verify_jwt(t, NOW)
            if not r.ok:
                errors.append(r)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for r in readers:
        r.start()
    for _ in range(50):
        verifier.reload_from_config(config)
    stop.set()
    for r in readers:
        r.join()
    assert not errors


def test_rate_limit_is_shared_across_threads(verifier):
    # burst 2: of 16 simultaneous verifications of one key, exactly 2 pass.
    barrier = threading.Barrier(16)
    codes = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        r = verifier.verify_api_key(API_KEY, NOW)
        with lock:
            codes.append(r.code)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes).count("ok") == 2 and codes.count("rate_limited") == 14


def test_gil_released_during_verification():
    """ctypes releases the GIL around foreign calls: while one thread is inside
    a slow warden call (a PBKDF2 check of 2,000,000 iterations), a pure-Python
    thread keeps running. With the GIL held, it could not run at all during
    the call."""
    cfg = base_config(basic={"users": [{"user": "slow", "hash": pbkdf2_phc(b"right", iterations=2_000_000)}]})
    v = warden.Verifier.from_config(cfg)
    samples = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            samples.append(time.monotonic())
            time.sleep(0)  # plain Python work between samples

    th = threading.Thread(target=ticker)
    th.start()
    try:
        time.sleep(0.05)
        start = time.monotonic()
        r = v.verify_basic("slow", "wrong", NOW)
        end = time.monotonic()
    finally:
        stop.set()
        th.join()
    assert r.code == "bad_credentials"
    duration = end - start
    assert duration > 0.05, "the PBKDF2 check was too fast to tell (%.3fs)" % duration
    # Samples taken well inside the call (away from switch-interval edges).
    margin = max(0.02, duration * 0.15)
    inside = [s for s in samples if start + margin < s < end - margin]
    assert len(inside) > 10, "the Python thread did not run during the call: %d samples in %.3fs" % (len(inside), duration)
    v.close()

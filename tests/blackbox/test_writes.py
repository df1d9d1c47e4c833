"""Writes under concurrency. On SQLite single-article writes are group
committed by one writer thread (many requests share a transaction, each in a
savepoint), so these tests check that sharing a commit never mixes outcomes:
a failing write fails alone, an acknowledged write is stored, and a shutdown
in the middle of a stream of writes loses none that were acknowledged."""
import http.client
import socket
import json
import signal
import threading
import time

from helpers import assert_problem


def run_threads(target, n):
    errors = []
    lock = threading.Lock()

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # noqa: BLE001 - collected and reported
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]


def test_failing_writes_fail_alone(fresh_server):
    """Creates, replaces, patches and deletes of missing ids, all at once:
    each gets its own answer, and exactly the successful ones are stored."""
    c = fresh_server.client
    victims = [c.create(f"victim {i}")["id"] for i in range(40)]
    created, lock = [], threading.Lock()

    def worker(n):
        for i in range(30):
            r = c.post("/articles", {"title": f"w{n} {i}"})
            assert r.status == 201, r
            new = r.json()["id"]
            with lock:
                created.append(new)
            assert_problem(c.patch(f"/articles/{10**12 + n * 100 + i}", {"title": "x"}), 404)
            assert_problem(c.delete(f"/articles/{10**12 + n * 100 + i}"), 404)
            r = c.put(f"/articles/{new}", {"title": f"put {n} {i}"})
            assert r.status == 200 and r.json()["title"] == f"put {n} {i}", r
        for v in victims[n * 5:(n + 1) * 5]:
            assert c.delete(f"/articles/{v}").status == 204

    run_threads(worker, 8)
    stored = {a["id"]: a for a in c.snapshot()}
    assert set(stored) == set(created)
    assert len(set(created)) == 8 * 30
    assert all(a["title"].startswith("put ") for a in stored.values())


def test_patch_answers_are_not_mixed_up(fresh_server):
    """Concurrent patches of different articles each answer with their own
    article."""
    c = fresh_server.client
    ids = [c.create(f"a{i}")["id"] for i in range(16)]

    def worker(n):
        for i in range(20):
            r = c.patch(f"/articles/{ids[n]}", {"author": f"author {n} {i}"})
            assert r.status == 200, r
            body = r.json()
            assert body["id"] == ids[n] and body["author"] == f"author {n} {i}", body

    run_threads(worker, 16)
    for n, i in enumerate(ids):
        assert c.get(f"/articles/{i}").json()["author"] == f"author {n} 19"


def test_shutdown_during_writes_keeps_acknowledged(server_factory):
    """SIGTERM while writers stream: the server exits 0, and every article
    whose 201 reached a client is there after a restart."""
    url = server_factory.new_db_url()
    s = server_factory.start(db_url=url)
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        i = 0
        while not stop.is_set():
            body = json.dumps({"title": f"stream {n} {i}"})
            try:
                conn.request("POST", "/articles", body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                return  # the server went away: the request was not acknowledged
            if r.status == 201:
                with lock:
                    acked.append(json.loads(data)["id"])
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    assert s.stop(signal.SIGTERM) == 0
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) > 50, "the writers barely ran"
    s2 = server_factory.start(db_url=url)
    stored = {a["id"] for a in s2.client.snapshot()}
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged articles lost, e.g. {sorted(missing)[:5]}"


def test_request_in_flight_at_sigterm_is_answered(server_factory):
    """A request whose body is still arriving when SIGTERM comes is read to
    the end, applied and answered before the server exits 0; new
    connections are refused meanwhile."""
    url = server_factory.new_db_url()
    s = server_factory.start(db_url=url)
    body = json.dumps({"title": "in flight at shutdown"}).encode()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert s.proc.poll() is None, "the server exited with a request half received"
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    assert refused, "a new connection was accepted during the shutdown"
    sock.sendall(body[10:])
    answer = sock.recv(65536)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert s.stop(signal.SIGTERM) == 0
    s2 = server_factory.start(db_url=url)
    assert [a["title"] for a in s2.client.snapshot()] == ["in flight at shutdown"]

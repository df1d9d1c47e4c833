"""The process: command line, environment, limits flags, restarts,
concurrency, an unreachable database."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import binary, free_port
from helpers import (MIB, Client, assert_article, assert_json_response, assert_problem)

# flag -> (environment variable, default as --help must show it, or None
# where the contract names no default)
FLAGS = {
    "--host": ("HOST", None),
    "--port": ("PORT", None),
    "--database-url": ("DATABASE_URL", None),
    "--max-body-bytes": ("MAX_BODY_BYTES", "2097152"),
    "--max-limit": ("MAX_LIMIT", "1000"),
    "--max-bulk-ops": ("MAX_BULK_OPS", "1000"),
    "--max-title-length": ("MAX_TITLE_LENGTH", "200"),
    "--max-author-length": ("MAX_AUTHOR_LENGTH", "100"),
    "--max-content-bytes": ("MAX_CONTENT_BYTES", "1048576"),
    "--connection-timeout": ("CONNECTION_TIMEOUT", "30"),
    "--max-connections": ("MAX_CONNECTIONS", None),
    "--threads": ("THREADS", "0"),
    "--log-format": ("LOG_FORMAT", None),
    "--log-level": ("LOG_LEVEL", None),
}


def run(args, env=None, cwd=None, timeout=15):
    full_env = {k: v for k, v in os.environ.items() if k not in {v[0] for v in FLAGS.values()}}
    if env:
        full_env.update(env)
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env, cwd=cwd)


def help_blocks(text):
    """flag -> the text of its entry (its line and the lines that follow up
    to the next flag's line)."""
    lines = text.splitlines()
    starts = [i for i, l in enumerate(lines) if re.match(r"^\s*(-\w,\s*)?--[a-z]", l)]
    blocks = {}
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = "\n".join(lines[i:end])
        for flag in re.findall(r"--[a-z][a-z-]*", lines[i]):
            blocks.setdefault(flag, block)
    return blocks


def test_help_lists_every_flag_with_env_and_default(tmp_path):
    r = run(["--help"], cwd=tmp_path)
    assert r.returncode == 0, r
    text = r.stdout
    assert text.strip(), "--help printed nothing on stdout"
    blocks = help_blocks(text)
    for flag, (env, default) in FLAGS.items():
        assert flag in blocks, f"--help does not list {flag}:\n{text}"
        block = blocks[flag]
        assert re.search(rf"\b{env}\b", block), f"{flag}: environment variable {env} not shown in {block!r}"
        assert re.search(r"default", block, re.I), f"{flag}: no default shown in {block!r}"
        if default is not None:
            assert re.search(rf"(?<![\w.]){re.escape(default)}(?![\w.])", block), \
                f"{flag}: default {default} not shown in {block!r}"
    assert "--help" in text and "--version" in text


def test_version(tmp_path):
    from test_ops import makefile_version
    r = run(["--version"], cwd=tmp_path)
    assert r.returncode == 0, r
    assert makefile_version() in r.stdout, r.stdout


BAD_ARGS = [
    ["--bogus"],
    ["--port"],
    ["--port", "abc"],
    ["--port", "70000"],
    ["--port", "-1"],
    ["--port", "80x"],
    ["--max-limit", "0"],
    ["--max-limit", "x"],
    ["--max-body-bytes", "-5"],
    ["--max-bulk-ops", "0"],
    ["--max-title-length", "abc"],
    ["--connection-timeout", "-1"],
    ["--threads", "-1"],
    ["--threads", "many"],
    ["--log-format", "xml"],
    ["--log-level", "loud"],
    ["--database-url", "mysql://localhost/x"],
    ["extra-positional"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=[" ".join(a) for a in BAD_ARGS])
def test_bad_flag_exits_2_with_one_line(tmp_path, args):
    r = run([*args], cwd=tmp_path)
    assert r.returncode == 2, f"{args}: exit {r.returncode}, stderr {r.stderr!r}"
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), f"{args}: stderr must be one line: {r.stderr!r}"


BAD_ENV = [{"PORT": "abc"}, {"MAX_LIMIT": "0"}, {"MAX_BODY_BYTES": "lots"}, {"LOG_FORMAT": "xml"},
           {"THREADS": "-2"}]


@pytest.mark.parametrize("env", BAD_ENV, ids=[next(iter(e.items()))[0] for e in BAD_ENV])
def test_bad_env_value_exits_2_with_one_line(tmp_path, env):
    r = run(["--database-url", f"sqlite:{tmp_path}/a.db"], env=env, cwd=tmp_path)
    assert r.returncode == 2, f"{env}: exit {r.returncode}, stderr {r.stderr!r}"
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), f"{env}: stderr must be one line: {r.stderr!r}"


def check_small_limits(c, limit, bulk, title, author, content):
    c.page_size = limit
    assert c.get(f"/articles?limit={limit}").status == 200
    assert_problem(c.get(f"/articles?limit={limit + 1}"), 400, parameter="limit")
    before = c.snapshot()
    assert_problem(c.post("/articles", {"title": "t" * (title + 1)}), 422, field="title")
    assert_problem(c.post("/articles", {"title": "t", "author": "a" * (author + 1)}), 422, field="author")
    assert_problem(c.post("/articles", {"title": "t", "content": "c" * (content + 1)}), 422, field="content")
    assert_problem(c.post("/articles", {"title": "t", "content": "é" * (content // 2) + "c"}), 422,
                   field="content")
    ops = [{"op": "delete", "id": 10**9 + i} for i in range(bulk + 1)]
    assert_problem(c.post("/articles/bulk", ops), 422)
    assert c.snapshot() == before
    a = assert_json_response(c.post("/articles", {"title": "é" * title, "author": "ü" * author,
                                                   "content": "c" * content}), 201)
    assert_article(a, title="é" * title, author="ü" * author, content="c" * content)
    assert assert_json_response(c.post("/articles/bulk", ops[:bulk]), 200)["results"][0]["status"] == 404


def test_limit_flags(server_factory):
    s = server_factory.start(args=["--max-limit", "5", "--max-bulk-ops", "3", "--max-title-length", "10",
                                   "--max-author-length", "4", "--max-content-bytes", "16",
                                   "--threads", "2", "--max-connections", "50",
                                   "--connection-timeout", "5", "--log-level", "debug"])
    check_small_limits(s.client, 5, 3, 10, 4, 16)


def test_limit_environment_variables(server_factory):
    s = server_factory.start(env={"MAX_LIMIT": "7", "MAX_BULK_OPS": "2", "MAX_TITLE_LENGTH": "12",
                                  "MAX_AUTHOR_LENGTH": "6", "MAX_CONTENT_BYTES": "20",
                                  "MAX_BODY_BYTES": "4096", "THREADS": "1"})
    c = s.client
    check_small_limits(c, 7, 2, 12, 6, 20)
    assert_problem(c.post("/articles", {"title": "t", "content": "x" * 5000}), 413)


def test_port_and_database_url_from_environment(server_factory, tmp_path):
    """--port and --database-url come from PORT and DATABASE_URL when the
    flags are left out."""
    url = server_factory.new_db_url()
    port = free_port()
    env = dict(os.environ, PORT=str(port), DATABASE_URL=url, HOST="127.0.0.1", LOG_FORMAT="json")
    p = subprocess.Popen([binary()], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        c = Client("127.0.0.1", port, timeout=2)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if c.get("/health").status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("the server did not come up on $PORT")
        c.create("from env")
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
    assert p.returncode == 0, err
    # the data went to $DATABASE_URL
    s = server_factory.start(db_url=url)
    assert [a["title"] for a in s.client.snapshot()] == ["from env"]


def test_restart_keeps_the_data(server_factory):
    url = server_factory.new_db_url()
    s1 = server_factory.start(db_url=url)
    c = s1.client
    made = [c.create(f"persist {i}", content="ü" * i, author=None if i % 2 else "p") for i in range(5)]
    c.patch(f"/articles/{made[0]['id']}", {"content": "patched"})
    c.delete(f"/articles/{made[1]['id']}")
    c.put("/articles/777777", {"title": "explicit"})
    before = c.snapshot()
    assert s1.stop() == 0
    if url.startswith("sqlite:"):
        assert os.path.exists(url[len("sqlite:"):]), "the SQLite file is missing after a clean stop"
    s2 = server_factory.start(db_url=url)
    c2 = s2.client
    assert c2.snapshot() == before
    new = c2.create("after restart")
    assert new["id"] not in [a["id"] for a in before]
    assert c2.get("/articles/777777").json()["title"] == "explicit"


def test_concurrent_creates(fresh_server):
    c = fresh_server.client
    results, errors = [], []
    lock = threading.Lock()

    def worker(n):
        mine = []
        try:
            for i in range(50):
                r = c.post("/articles", {"title": f"thread {n} item {i}", "author": f"t{n}"})
                if r.status != 201:
                    raise AssertionError(f"thread {n} item {i}: {r!r}")
                mine.append(r.json()["id"])
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(e)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(results) == 400
    assert len(set(results)) == 400, "two creates got the same id"
    r = c.get("/articles?limit=1000")
    stored = r.json()
    assert r.header("X-Total-Count") == "400"
    assert sorted(a["id"] for a in stored) == sorted(results)
    for n in range(8):
        r = c.get(f"/articles?author=t{n}&limit=1000")
        assert sorted(a["title"] for a in r.json()) == sorted(f"thread {n} item {i}" for i in range(50))


def test_concurrent_mixed_operations(fresh_server):
    """Readers, writers and a bulk writer at once: no errors, no lost data."""
    c = fresh_server.client
    seed = [c.create(f"seed {i}")["id"] for i in range(20)]
    errors = []

    def reader():
        for _ in range(40):
            r = c.get("/articles?limit=50&sort=-updated_at")
            if r.status != 200:
                errors.append(r)
            r = c.get(f"/articles/{seed[0]}")
            if r.status != 200:
                errors.append(r)

    def patcher():
        for i in range(40):
            r = c.patch(f"/articles/{seed[i % 20]}", {"content": f"p{i}"})
            if r.status != 200:
                errors.append(r)

    def bulker():
        for i in range(10):
            ops = [{"op": "upsert", "article": {"id": 500000 + i * 10 + k, "title": "b"}} for k in range(10)]
            r = c.post("/articles/bulk", ops)
            if r.status != 200:
                errors.append(r)

    threads = [threading.Thread(target=f) for f in (reader, reader, patcher, patcher, bulker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    r = c.get("/articles?limit=1000")
    assert r.header("X-Total-Count") == "120"


def test_idle_connection_is_closed_after_the_timeout(server_factory):
    s = server_factory.start(args=["--connection-timeout", "1"])
    for opening in (b"", b"GET /health HTTP/1.1\r\nHost: x\r\n"):
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=6)
        try:
            if opening:
                sock.sendall(opening)
            t0 = time.time()
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""
            except socket.timeout:
                pytest.fail(f"an idle connection ({opening!r}) was still open after 6 s with --connection-timeout 1")
            assert time.time() - t0 < 5
            assert b"200" not in data
        finally:
            sock.close()
    assert s.client.get("/health").status == 200


def test_unreachable_postgresql_fails_the_start(tmp_path):
    """A PostgreSQL URL nobody answers: the start fails at once with a
    non-zero status and a message that names the database (observed: exit 1,
    "cannot open the database: connect: ... Connection refused")."""
    closed = free_port()  # bound and released: nobody listens there
    for log_format in ("text", "json"):
        r = run(["--host", "127.0.0.1", "--port", str(free_port()), "--database-url",
                 f"postgresql://nobody@127.0.0.1:{closed}/articles", "--log-format", log_format],
                cwd=tmp_path, timeout=30)
        assert r.returncode not in (0, None), r
        lines = r.stderr.strip("\n").split("\n")
        assert len(lines) == 1 and re.search(r"database", lines[0], re.I), \
            f"unclear start failure: {r.stderr!r}"
        assert str(closed) in lines[0] or "refused" in lines[0].lower(), lines[0]


@pytest.mark.pg_only
def test_database_outage_health_503_and_recovery(server_factory, backend):
    """PostgreSQL refuses the server's connections: /health answers 503
    {"status":"unavailable"}, data routes a problem, db_errors_total counts;
    when PostgreSQL is back the server recovers by itself."""
    from conftest import psql
    from helpers import parse_metrics, sample_value
    url = server_factory.new_db_url()
    dbname = url.rsplit("/", 1)[1].split("?", 1)[0]
    s = server_factory.start(db_url=url, args=["--threads", "2"])
    c = s.client
    a = c.create("survivor")
    psql(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS false")
    try:
        psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{dbname}'")
        for _ in range(3):
            r = c.get("/health")
            assert r.status == 503, r
            assert r.json() == {"status": "unavailable"}
        r = c.get(f"/articles/{a['id']}")
        assert r.status in (500, 503), r
        assert_problem(r, r.status)
        _, _, samples = parse_metrics(c.get("/metrics").body.decode())
        assert (sample_value(samples, "db_errors_total") or 0) >= 1
    finally:
        psql(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS true")
    deadline = time.time() + 10
    while c.get("/health").status != 200:
        assert time.time() < deadline, "the server did not recover within 10 s"
        time.sleep(0.1)
    for _ in range(4):  # every pooled connection works again
        assert c.get(f"/articles/{a['id']}").json() == a


@pytest.mark.sqlite_only
def test_second_server_on_the_same_sqlite_file_is_refused(server_factory, backend):
    """The REST core holds its SQLite file exclusively: a second server on
    it stops with a clear message, and the first one serves on."""
    url = server_factory.new_db_url()
    first = server_factory.start(db_url=url)
    first.client.create("owned")
    r = subprocess.run([binary(), "--port", str(free_port()), "--database-url", url,
                        "--log-format", "text"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert "held by another process" in r.stderr, r.stderr
    assert [a["title"] for a in first.client.snapshot()] == ["owned"]

"""bin/articles-sync with the direct transport, end to end: a real source database (SQLite file
or a PostgreSQL database of the throwaway cluster) carried into a real REST core (on each back
end), then checked with `verify` and through the REST API."""
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import pytest

from pathlib import Path

from conftest import bin_dir as _bin_dir, free_port, pg_url_for, psql, pg_base_url


def bin_dir():
    return Path(_bin_dir())

SOURCE_KINDS = ["sqlite", "pg"]


class Source:
    """The source database (Base A) with an `articles` table as an application would have it."""

    def __init__(self, kind, tmp_path):
        self.kind = kind
        if kind == "sqlite":
            self.path = tmp_path / "source.db"
            self.url = f"sqlite:{self.path}"
            self.sql("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, content TEXT, "
                     "author TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT, "
                     "views INTEGER DEFAULT 0)")
        else:
            pg_base_url()
            self.db = "src_" + uuid.uuid4().hex[:12]
            psql(f"CREATE DATABASE {self.db}")
            self.url = pg_url_for(self.db)
            self.sql("CREATE TABLE articles (id bigint PRIMARY KEY, title text, content text, "
                     "author text, created_at timestamptz DEFAULT now(), updated_at timestamp, "
                     "views int DEFAULT 0)")

    def sql(self, statement, rows=None):
        if self.kind == "sqlite":
            c = sqlite3.connect(self.path)
            if rows is not None:
                c.executemany(statement, rows)
            else:
                c.executescript(statement)
            c.commit()
            c.close()
            return
        if rows is not None:
            values = ",".join("(" + ",".join(sql_literal(v) for v in r) + ")" for r in rows)
            statement = statement.split(" VALUES")[0] + " VALUES " + values
        psql(statement, self.url)

    def insert(self, rows):
        self.sql("INSERT INTO articles (id, title, content, author) VALUES (?, ?, ?, ?)", rows)

    def drop(self):
        if self.kind == "pg":
            subprocess.run(["psql", pg_base_url(), "-q", "-X", "-c", f"DROP DATABASE IF EXISTS {self.db}"],
                           capture_output=True, timeout=60)


def sql_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


@pytest.fixture(params=SOURCE_KINDS)
def source(request, tmp_path):
    s = Source(request.param, tmp_path)
    yield s
    s.drop()


def sync(*args, source=None, rest=None, env=None, timeout=120, cwd=None):
    e = dict(os.environ)
    e.pop("KAFKA_BROKERS", None)
    if source is not None:
        e["SOURCE_DATABASE_URL"] = source.url
    if rest is not None:
        e["REST_API_URL"] = f"http://127.0.0.1:{rest.port}"
    e["LOG_FORMAT"] = "json"
    e.update(env or {})
    return subprocess.run([str(bin_dir() / "articles-sync"), *args], capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=cwd)


def rest_articles(rest):
    out, after = [], 0
    while True:
        q = f"/articles?limit=1000&sort=id" + (f"&after_id={after}" if after else "")
        page = rest.client.get(q).json()
        if not page:
            return out
        out += page
        after = page[-1]["id"]


def test_carries_inserts_updates_and_deletes(server_factory, source, tmp_path):
    rest = server_factory.start()
    source.insert([(i, f"title {i}", f"content {i}" if i % 7 else None, "ada" if i % 2 else None)
                   for i in range(1, 301)])
    r = sync("init", source=source)
    assert r.returncode == 0, r.stderr
    assert "300 existing articles" in r.stdout
    r = sync("init", source=source)  # idempotent: nothing snapshotted twice
    assert r.returncode == 0 and "0 existing articles" in r.stdout, r.stdout

    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "changes read: 300" in r.stdout and "applied: 300" in r.stdout, r.stdout
    assert "dead-lettered: 0" in r.stdout
    got = rest_articles(rest)
    assert [a["id"] for a in got] == list(range(1, 301))
    assert got[6]["content"] == "" and got[7]["content"] == "content 8" and got[1]["author"] is None

    source.sql("UPDATE articles SET title = 'changed ' || id, views = views + 1 WHERE id <= 20;"
               "DELETE FROM articles WHERE id BETWEEN 21 AND 40;"
               "UPDATE articles SET author = 'grace' WHERE id = 41;"
               "DELETE FROM articles WHERE id = 42;")
    source.insert([(1000, "new", "", None), (42, "back again", "x", "bob")])
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = sync("verify", source=source, rest=rest)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in sync" in r.stdout and "source: 281 articles, REST core: 281" in r.stdout, r.stdout
    assert rest.client.get("/articles/5").json()["title"] == "changed 5"
    assert rest.client.get("/articles/30").status == 404
    assert rest.client.get("/articles/42").json()["title"] == "back again"
    assert rest.client.get("/articles/41").json()["author"] == "grace"

    r = sync("status", source=source)
    assert r.returncode == 0 and "backlog: 0" in r.stdout, r.stdout
    # Caught up: another run reads nothing.
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0 and "changes read: 0" in r.stdout, r.stdout


def test_verify_reports_drift(server_factory, source, tmp_path):
    rest = server_factory.start()
    source.insert([(i, f"t{i}", "c", None) for i in range(1, 11)])
    assert sync("init", source=source).returncode == 0
    assert sync("run", "--once", source=source, rest=rest, cwd=tmp_path).returncode == 0
    assert rest.client.delete("/articles/3").status == 204
    assert rest.client.put("/articles/50", {"id": 50, "title": "stray", "content": ""}).status == 201
    assert rest.client.put("/articles/4", {"id": 4, "title": "edited", "content": "c"}).status == 200
    r = sync("verify", source=source, rest=rest)
    assert r.returncode == 1, r.stdout
    lines = r.stdout.splitlines()
    assert "missing 3" in lines and "extra 50" in lines and "different 4: title" in lines, lines
    assert "missing 1, extra 1, different 1: DRIFT" in lines[-1]


def test_poison_changes_are_dead_lettered(server_factory, source, tmp_path):
    rest = server_factory.start()
    assert sync("init", source=source).returncode == 0
    source.insert([(1, "fine", "c", None), (2, "x" * 201, "c", None), (3, None, "c", None),
                   (4, "fine too", "c", "a" * 101), (5, "last", "c", None)])
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "applied: 2" in r.stdout and "dead-lettered: 3" in r.stdout, r.stdout
    letters = [json.loads(l) for l in (tmp_path / "articles-sync-dead-letters.jsonl").read_text().splitlines()]
    assert sorted(l["id"] for l in letters) == [2, 3, 4]
    assert all(l["reason"] and l["detail"] and l["seq"] > 0 for l in letters), letters
    assert [a["id"] for a in rest_articles(rest)] == [1, 5]
    r = sync("verify", source=source, rest=rest)
    assert r.returncode == 1 and "missing 3, extra 0, different 0" in r.stdout, r.stdout


def test_waits_for_the_rest_core(backend, source, tmp_path):
    """The REST core down when the run starts: the run waits, applies once it is up, loses
    nothing."""
    from conftest import Server
    port = free_port()
    source.insert([(i, f"t{i}", "c", None) for i in range(1, 51)])
    assert sync("init", source=source).returncode == 0
    env = dict(os.environ, SOURCE_DATABASE_URL=source.url, REST_API_URL=f"http://127.0.0.1:{port}",
               LOG_FORMAT="json")
    proc = subprocess.Popen([str(bin_dir() / "articles-sync"), "run", "--once"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert proc.poll() is None, proc.communicate()
    db = f"sqlite:{tmp_path}/dest.db"
    srv = Server("sqlite", db, tmp_path)
    srv.port = port
    cmd = [str(bin_dir() / "articles-rest"), "--port", str(port), "--database-url", db]
    rest = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "applied: 50" in out, out
        assert "the REST core is unavailable" in err
    finally:
        rest.send_signal(signal.SIGTERM)
        rest.wait(15)


def test_follow_serves_metrics_and_stops_cleanly(server_factory, source, tmp_path):
    rest = server_factory.start()
    assert sync("init", source=source).returncode == 0
    mport = free_port()
    env = dict(os.environ, SOURCE_DATABASE_URL=source.url, LOG_FORMAT="json",
               REST_API_URL=f"http://127.0.0.1:{rest.port}")
    proc = subprocess.Popen([str(bin_dir() / "articles-sync"), "run", "--follow", "--metrics-port",
                             str(mport), "--poll-interval-ms", "50"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        source.insert([(i, f"t{i}", "c", None) for i in range(1, 21)])
        deadline = time.time() + 20
        while len(rest_articles(rest)) < 20:
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.05)
        source.sql("DELETE FROM articles WHERE id = 7")
        while rest.client.get("/articles/7").status != 404:
            assert time.time() < deadline
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/health", timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            text = r.read()
        t = text.decode()
        assert "sync_events_applied_total 21" in t, t
        assert "sync_caught_up 1" in t and "sync_backlog_changes 0" in t
        assert 'upstream_requests_total{method="POST",outcome="200"}' in t
        assert 'articles_build_info{program="articles-sync"' in t
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
        assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_once_writes_its_metrics_for_prometheus(server_factory, source, tmp_path):
    rest = server_factory.start()
    source.insert([(1, "a", "b", None)])
    assert sync("init", source=source).returncode == 0
    prom = tmp_path / "articles_sync.prom"
    r = sync("run", "--once", "--textfile", str(prom), source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = prom.read_text()
    assert "sync_last_run_success 1" in text and "sync_events_applied_total 1" in text, text
    assert "sync_last_run_duration_seconds" in text
    check = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    assert check.returncode == 0, check


@pytest.mark.parametrize("args,says", [
    ([], "a command is needed"),
    (["frobnicate"], "unknown command"),
    (["run", "--once", "--follow"], "exclude each other"),
    (["run", "--once", "--batch-size", "0"], "--batch-size"),
    (["run", "--bogus"], "unknown option"),
])
def test_bad_usage_exits_2(args, says):
    r = sync(*args)
    assert r.returncode == 2, r
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_needs_a_source(tmp_path):
    r = sync("run", "--once", env={"SOURCE_DATABASE_URL": ""})
    assert r.returncode == 2 and "SOURCE_DATABASE_URL" in r.stderr, r.stderr
    r = sync("init", env={"SOURCE_DATABASE_URL": "mysql://x"})
    assert r.returncode == 2 and "--source" in r.stderr, r.stderr
    r = sync("init", env={"SOURCE_DATABASE_URL": f"sqlite:{tmp_path}/missing.db"})
    assert r.returncode == 1, r
    r = sync("run", "--once", env={"SOURCE_DATABASE_URL": f"sqlite:{tmp_path}/missing.db"})
    assert r.returncode == 1


def test_run_before_init_says_what_to_do(source, tmp_path):
    r = sync("run", "--once", source=source, env={"REST_API_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert r.returncode == 1 and "articles-sync init" in r.stderr, r.stderr


def test_help_lists_commands_and_variables():
    r = sync("--help")
    assert r.returncode == 0
    for word in ("init", "produce", "consume", "verify", "status", "SOURCE_DATABASE_URL",
                 "KAFKA_BROKERS", "KAFKA_TOPIC", "SYNC_GROUP", "METRICS_PORT", "REST_API_TOKEN",
                 "--once", "--follow"):
        assert word in r.stdout, word


def readme_sync_block():
    import re
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## The sync daemon", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_readme_sync_example_runs_as_written(server_factory, tmp_path):
    """The README's sync example, with the test server's port and our bin/."""
    rest = server_factory.start()
    script = readme_sync_block().replace("127.0.0.1:5000", f"127.0.0.1:{rest.port}")
    script = script.replace("bin/articles-sync", str(bin_dir() / "articles-sync"))
    lines = [l for l in script.splitlines() if l.strip()]
    assert any("verify" in l for l in lines) and any("init" in l for l in lines)
    env = dict(os.environ, LOG_FORMAT="json")
    env.pop("SOURCE_DATABASE_URL", None)
    r = subprocess.run(["bash", "-euc", "\n".join(lines)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in sync" in r.stdout and "backlog: 0" in r.stdout, r.stdout
    assert rest.client.get("/articles/1").json()["title"] == "Hello again"


def test_rest_refusals_are_dead_lettered_and_the_rest_applied(server_factory, tmp_path):
    """Rows the event format accepts but this REST core refuses (its titles are limited to 10
    characters): each is set aside by its index in the bulk request, the others applied."""
    rest = server_factory.start(args=["--max-title-length", "10"])
    source = Source("sqlite", tmp_path)
    source.insert([(i, "short" if i % 4 else "much too long a title", "c", None)
                   for i in range(1, 2501)])
    assert sync("init", source=source).returncode == 0
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "applied: 1875" in r.stdout and "dead-lettered: 625" in r.stdout, r.stdout
    letters = [json.loads(l) for l in (tmp_path / "articles-sync-dead-letters.jsonl").read_text().splitlines()]
    assert sorted(l["id"] for l in letters) == list(range(4, 2501, 4))
    assert all(l["reason"] == "http_422" and "title" in l["detail"] for l in letters), letters[0]
    assert all(json.loads(json.dumps(l["item"]))["op"] == "upsert" for l in letters)
    assert len(rest_articles(rest)) == 1875


def test_sends_its_token_to_a_rest_core_that_wants_one(server_factory, tmp_path):
    token = "sync-token-" + uuid.uuid4().hex
    rest = server_factory.start(env={"API_TOKENS": token})
    source = Source("sqlite", tmp_path)
    source.insert([(1, "a", "b", None)])
    assert sync("init", source=source).returncode == 0
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 1 and "REST_API_TOKEN" in r.stderr, r.stderr[-2000:]
    assert token not in r.stderr
    r = sync("run", "--once", source=source, rest=rest, cwd=tmp_path, env={"REST_API_TOKEN": token})
    assert r.returncode == 0 and "applied: 1" in r.stdout, r.stdout + r.stderr[-2000:]
    assert sync("verify", source=source, rest=rest).returncode == 0

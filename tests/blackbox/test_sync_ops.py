"""The sync daemon's /metrics and /health while it follows (`run --follow`): with
--metrics-token (METRICS_TOKEN) or --metrics-token-file (METRICS_TOKEN_FILE) both need that
token (401, a Bearer challenge of the metrics realm, a one-line text body), and the token the
daemon sends to the REST core does not open them; --metrics-host (METRICS_HOST, default
127.0.0.1) and --metrics-port choose the listener. The daemon carries changes all along and exits
0 on SIGTERM; a bad token configuration exits 2 with one line that never holds the token."""
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import bin_dir, free_port

METRICS_ENV = ("METRICS_TOKEN", "METRICS_TOKEN_FILE", "METRICS_PORT", "METRICS_HOST")
MISSING = "this endpoint needs the metrics token: send Authorization: Bearer <token>"
INVALID = "the bearer token is not the metrics token"


def sync_binary():
    return str(Path(bin_dir()) / "articles-sync")


def new_token(prefix="mt"):
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def base_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in METRICS_ENV and k not in ("KAFKA_BROKERS", "REST_API_TOKEN")}
    env["LOG_FORMAT"] = "json"
    env.update(extra)
    return env


def make_source(tmp_path):
    path = tmp_path / "source.db"
    c = sqlite3.connect(path)
    c.executescript("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, content TEXT, "
                    "author TEXT)")
    c.commit()
    c.close()
    url = f"sqlite:{path}"
    r = subprocess.run([sync_binary(), "init"], env=base_env(SOURCE_DATABASE_URL=url),
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return path, url


def insert(path, rows):
    c = sqlite3.connect(path)
    c.executemany("INSERT INTO articles (id, title, content, author) VALUES (?, ?, ?, ?)", rows)
    c.commit()
    c.close()


def get(host, port, path, headers=None):
    """(status, headers, body) of a GET, errors included."""
    req = urllib.request.Request(f"http://{host}:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Follower:
    """`articles-sync run --follow` with its own environment, stopped with SIGTERM."""

    def __init__(self, tmp_path, source_url, rest, args=(), env=None, host="127.0.0.1"):
        self.host = host
        self.port = free_port()
        e = base_env(SOURCE_DATABASE_URL=source_url, REST_API_URL=f"http://127.0.0.1:{rest.port}")
        e.update(env or {})
        cmd = [sync_binary(), "run", "--follow", "--poll-interval-ms", "50", *args]
        if "METRICS_PORT" not in e:
            cmd += ["--metrics-port", str(self.port)]
        else:
            self.port = int(e["METRICS_PORT"])
        self.proc = subprocess.Popen(cmd, env=e, cwd=tmp_path, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out = self.err = ""

    def wait_listening(self):
        deadline = time.time() + 20
        while True:
            assert self.proc.poll() is None, self.stop()
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return
            except OSError:
                assert time.time() < deadline, "the metrics listener never came up"
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.out, self.err = self.proc.communicate(timeout=20)
        return self.proc.returncode


def wait_applied(rest, n):
    deadline = time.time() + 20
    while len(rest.client.get("/articles?limit=1000").json()) < n:
        assert time.time() < deadline, "the daemon did not carry the changes"
        time.sleep(0.05)


def assert_401(resp, *, invalid):
    status, headers, body = resp
    assert status == 401, resp
    challenge = headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer ") and 'realm="metrics"' in challenge, challenge
    assert ('error="invalid_token"' in challenge) == invalid, challenge
    assert headers.get("Content-Type", "").startswith("text/plain"), headers
    assert body == (INVALID if invalid else MISSING) + "\n", body


def test_follow_needs_the_metrics_token(server_factory, tmp_path):
    api = new_token("api")
    metrics = new_token()
    rest = server_factory.start(args=["--api-tokens", api])
    src, url = make_source(tmp_path)
    insert(src, [(i, f"t{i}", "c", None) for i in range(1, 6)])
    f = Follower(tmp_path, url, rest, args=["--metrics-token", metrics, "--rest-api-token", api])
    try:
        f.wait_listening()
        wait_applied(rest, 5)
        for path in ("/metrics", "/health"):
            assert_401(get(f.host, f.port, path), invalid=False)
            assert_401(get(f.host, f.port, path, bearer(new_token())), invalid=True)
            assert_401(get(f.host, f.port, path, {"Authorization": f"Basic {metrics}"}),
                       invalid=False)
            # The daemon's token for the REST core is not the metrics token.
            assert_401(get(f.host, f.port, path, bearer(api)), invalid=True)
        status, _, body = get(f.host, f.port, "/health", bearer(metrics))
        assert status == 200 and body == '{"status":"ok"}', body
        status, headers, text = get(f.host, f.port, "/metrics", bearer(metrics))
        assert status == 200 and headers["Content-Type"].startswith("text/plain"), headers
        assert "sync_events_applied_total 5" in text, text
        assert 'articles_build_info{program="articles-sync"' in text
        # Other paths and methods answer as before.
        assert get(f.host, f.port, "/nope", bearer(metrics))[0] == 404
        insert(src, [(6, "t6", "c", None)])
        wait_applied(rest, 6)
    finally:
        rc = f.stop()
    assert rc == 0, f.err
    assert metrics not in f.out + f.err and api not in f.out + f.err
    assert "metrics token is configured" in f.err


def test_follow_token_file_and_host_from_the_environment(server_factory, tmp_path):
    """METRICS_TOKEN_FILE, METRICS_HOST and METRICS_PORT: the listener is on 127.0.0.2 only."""
    metrics = new_token()
    token_file = tmp_path / "metrics.token"
    token_file.write_text(f"{metrics}\n")
    rest = server_factory.start()
    src, url = make_source(tmp_path)
    insert(src, [(1, "one", "c", "ada")])
    port = free_port()
    f = Follower(tmp_path, url, rest, host="127.0.0.2",
                 env={"METRICS_TOKEN_FILE": str(token_file), "METRICS_HOST": "127.0.0.2",
                      "METRICS_PORT": str(port)})
    try:
        f.wait_listening()
        wait_applied(rest, 1)
        assert_401(get("127.0.0.2", port, "/metrics"), invalid=False)
        status, _, text = get("127.0.0.2", port, "/metrics", bearer(metrics))
        assert status == 200 and "sync_events_applied_total 1" in text, text
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        rc = f.stop()
    assert rc == 0, f.err
    assert metrics not in f.out + f.err


def test_follow_without_a_token_stays_open_on_loopback(server_factory, tmp_path):
    """The default of before: no token, 127.0.0.1."""
    rest = server_factory.start()
    src, url = make_source(tmp_path)
    f = Follower(tmp_path, url, rest)
    try:
        f.wait_listening()
        assert get("127.0.0.1", f.port, "/health")[0] == 200
        status, _, text = get("127.0.0.1", f.port, "/metrics", bearer(new_token()))
        assert status == 200 and "sync_caught_up" in text
    finally:
        rc = f.stop()
    assert rc == 0, f.err


def test_bad_metrics_token_exits_2(tmp_path):
    secret = new_token()
    two = tmp_path / "two"
    two.write_text(f"{secret}\n{new_token()}\n")
    cases = [
        (["--metrics-token", "short"], {}, "shorter than 16"),
        (["--metrics-token", secret], {"METRICS_TOKEN_FILE": str(two)}, "both"),
        (["--metrics-token-file", str(two)], {}, "more than one line"),
        ([], {"METRICS_TOKEN_FILE": str(tmp_path / "missing")}, "cannot open"),
    ]
    for args, env, says in cases:
        r = subprocess.run([sync_binary(), "run", "--follow", "--source",
                            f"sqlite:{tmp_path}/none.db", *args], env=base_env(**env),
                           capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, r.stderr)
        assert secret not in r.stderr


def test_help_documents_the_flags():
    r = subprocess.run([sync_binary(), "--help"], capture_output=True, text=True, timeout=30,
                       env=base_env())
    assert r.returncode == 0
    for word in ("--metrics-token ", "METRICS_TOKEN]", "--metrics-token-file",
                 "METRICS_TOKEN_FILE", "--metrics-host", "METRICS_HOST", "METRICS_PORT"):
        assert word in r.stdout, word
    host_help = r.stdout.split("--metrics-host", 1)[1].split("\n  --", 1)[0]
    assert "(default: 127.0.0.1)" in host_help, host_help

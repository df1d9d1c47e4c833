"""conftest.py - starts the real articles-rest and hands the tests a client.

The binary is $ARTICLES_BIN/articles-rest (ARTICLES_BIN defaults to bin/,
relative to the repository root). Every test runs against each back end:

  sqlite  a fresh file sqlite:/tmp/.../a.db per server start (always);
  pg      a fresh database per server start, created with psql in the
          PostgreSQL cluster of $TEST_PG_URL.

Without TEST_PG_URL the pg tests FAIL (a missing PostgreSQL must never pass
as a skip) unless TEST_BACKENDS lists only sqlite (TEST_BACKENDS=sqlite).

Fixtures:
  backend         "sqlite" or "pg" (parametrised, session scope)
  server          a server shared by the tests of one module
  fresh_server    a server of its own with an empty database
  server_factory  start(args=..., env=..., db_url=...) for special servers;
                  new_db_url() for a database several starts can share
Each server is stopped with SIGTERM at teardown, and the test fails unless it
exits 0.
"""
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest

from helpers import REPO_ROOT, Client

ALL_BACKENDS = ("sqlite", "pg")


def _backends():
    raw = os.environ.get("TEST_BACKENDS")
    if raw is None:
        return list(ALL_BACKENDS)
    chosen = [b.strip() for b in raw.split(",") if b.strip()]
    bad = [b for b in chosen if b not in ALL_BACKENDS]
    if bad or not chosen:
        raise pytest.UsageError(f"TEST_BACKENDS={raw!r}: use a comma-separated list of {ALL_BACKENDS}")
    return chosen


BACKENDS = _backends()


def bin_dir():
    raw = os.environ.get("ARTICLES_BIN", "bin")
    p = os.path.expanduser(raw)
    return p if os.path.isabs(p) else str(REPO_ROOT / p)


def binary():
    path = os.path.join(bin_dir(), "articles-rest")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable: build it with `make` "
                    "(or point ARTICLES_BIN at the folder that holds it)")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_base_url():
    url = os.environ.get("TEST_PG_URL")
    if not url:
        pytest.fail("TEST_PG_URL is not set, so the PostgreSQL back end cannot be tested. "
                    "Run `sh tests/run-blackbox.sh` (it starts a throwaway cluster), or set "
                    "TEST_BACKENDS=sqlite to test SQLite alone on purpose.")
    return url


def psql(sql, url=None):
    url = url or pg_base_url()
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-X", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.fail(f"psql {sql!r} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def pg_url_for(dbname):
    parts = urllib.parse.urlsplit(pg_base_url())
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


class Server:
    def __init__(self, backend, db_url, workdir, args=(), env=None):
        self.backend = backend
        self.db_url = db_url
        self.workdir = workdir
        self.args = list(args)
        self.env = env
        self.proc = None
        self.port = None
        self.client = None
        self.started_at = None

    @property
    def log_paths(self):
        return self.workdir / "stdout.log", self.workdir / "stderr.log"

    def logs(self):
        out = []
        for p in self.log_paths:
            try:
                out.append(p.read_text(errors="replace"))
            except FileNotFoundError:
                out.append("")
        return out

    def log_tail(self, n=30):
        out, err = self.logs()
        lines = (out + err).splitlines()
        return "\n".join(lines[-n:])

    def command(self):
        return [binary(), "--host", "127.0.0.1", "--port", str(self.port),
                "--database-url", self.db_url, "--log-format", "json", *self.args]

    def start(self, ready_timeout=30):
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        for attempt in range(3):
            self.port = free_port()
            out_path, err_path = self.log_paths
            with open(out_path, "ab") as out, open(err_path, "ab") as err:
                self.started_at = time.time()
                self.proc = subprocess.Popen(self.command(), stdout=out, stderr=err,
                                             stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
            self.client = Client("127.0.0.1", self.port)
            if self._wait_ready(ready_timeout):
                return self
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"articles-rest did not answer GET /health with 200 within {ready_timeout}s:\n"
                            f"{self.log_tail()}")
            # It exited: the port may have been taken in between; try another.
        pytest.fail(f"articles-rest exited at start ({self.proc.returncode}): {' '.join(self.command())}\n"
                    f"{self.log_tail()}")

    def ready(self):
        """True once the server answers (an OSError or a malformed answer: not yet)."""
        return Client("127.0.0.1", self.port, timeout=2).get("/health").status == 200

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.ready():
                    return True
            except (OSError, AssertionError):  # not listening yet, or half an answer
                pass
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and returns the exit status (None when already stopped)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise AssertionError(f"articles-rest did not exit within {timeout}s of {sig.name}:\n"
                                     f"{self.log_tail()}")
        rc = self.proc.returncode
        self.proc = None
        return rc


class Factory:
    def __init__(self, backend, tmp_path_factory):
        self.backend = backend
        self.tmp = tmp_path_factory
        self.servers = []
        self.pg_dbs = []

    def new_db_url(self):
        if self.backend == "sqlite":
            d = self.tmp.mktemp("db")
            return f"sqlite:{d}/a.db"
        name = "bb_" + uuid.uuid4().hex[:16]
        psql(f"CREATE DATABASE {name}")
        self.pg_dbs.append(name)
        return pg_url_for(name)

    def start(self, args=(), env=None, db_url=None):
        url = db_url or self.new_db_url()
        s = Server(self.backend, url, self.tmp.mktemp("server"), args=args, env=env)
        self.servers.append(s)
        return s.start()

    def stop_all(self):
        problems = []
        for s in self.servers:
            if s.proc is None:
                continue
            if s.proc.poll() is not None:
                problems.append(f"articles-rest died during the test (status {s.proc.returncode}):\n{s.log_tail()}")
                s.proc = None
                continue
            try:
                rc = s.stop()
            except AssertionError as e:
                problems.append(str(e))
                continue
            if rc != 0:
                problems.append(f"articles-rest exited {rc} after SIGTERM, expected 0:\n{s.log_tail()}")
        self.servers.clear()
        for name in self.pg_dbs:
            subprocess.run(["psql", pg_base_url(), "-q", "-X", "-c", f"DROP DATABASE IF EXISTS {name}"],
                           capture_output=True, timeout=60)
        self.pg_dbs.clear()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    if request.param == "pg":
        pg_base_url()  # fails, never skips, when TEST_PG_URL is missing
    return request.param


@pytest.fixture(scope="module")
def _module_factory(backend, tmp_path_factory):
    f = Factory(backend, tmp_path_factory)
    yield f
    f.stop_all()


@pytest.fixture(scope="module")
def server(_module_factory):
    """A server shared by the tests of one module (and back end)."""
    return _module_factory.start()


@pytest.fixture
def server_factory(backend, tmp_path_factory):
    f = Factory(backend, tmp_path_factory)
    yield f
    f.stop_all()


@pytest.fixture
def fresh_server(server_factory):
    """A server of its own with an empty database."""
    return server_factory.start()


@pytest.fixture
def client(server):
    yield server.client
    if not server.alive():
        pytest.fail(f"articles-rest died during this test (status {server.proc.returncode}):\n"
                    f"{server.log_tail()}", pytrace=False)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "pg_only: the behaviour exists only with a database server (PostgreSQL)")
    config.addinivalue_line(
        "markers", "sqlite_only: the behaviour exists only with a database file (SQLite)")


def pytest_collection_modifyitems(config, items):
    """A pg_only test does not apply to SQLite, a sqlite_only one not to
    PostgreSQL: each is left out of the other run (deselected), never
    reported as a skip that could hide something."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params is not None else None
        off = ((backend == "sqlite" and item.get_closest_marker("pg_only")) or
               (backend == "pg" and item.get_closest_marker("sqlite_only")))
        (drop if off else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

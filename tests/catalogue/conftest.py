"""conftest.py - the processes of the bad-input catalogue (test_catalogue.py), started once for
the whole run, and snapshots of everything they store.

Processes (127.0.0.1, free ports, SQLite files in pytest's temporary folders; binaries from
$ARTICLES_BIN, default bin/):
  rest          articles-rest with the default limits, seeded with a few articles;
  rest_auth     articles-rest with --api-tokens TOKEN (writes need the token), seeded;
  rest_sync     articles-rest with --max-title-length 50 --max-author-length 20, the destination
                of the sync daemon's cases (so that it refuses rows the event format accepts);
  gateway       articles-graphql in front of `rest` with small limits (LIMITS below);
  gateway_auth  articles-graphql in front of `rest_auth`.
The REST servers are started with the black-box suite's Server class and the gateways with the
GraphQL suite's Process class (both imported by path, unchanged). Every process is stopped with
SIGTERM at the end and must exit 0 (under AddressSanitizer a leak makes that status non-zero).

"Nothing stored changed" is checked with Store.snapshot(): every article through the API (one
GET of up to 1000, ordered by id, with X-Total-Count), including the timestamps that any write
moves. The server holds its SQLite file exclusively while it runs, so the file itself is read
once, after the server stopped: it must hold exactly what the API showed last, and the id
sequence must not have moved past the highest id (a refused request must not even use up an id).
"""
import importlib.util
import json
import os
import secrets
import sqlite3
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(TESTS / "blackbox"))  # helpers.py, which the black-box conftest imports


def _load(name, path):
    """Imports a conftest.py by path under a name of its own (every conftest is `conftest`)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


blackbox = _load("catalogue_blackbox_conftest", TESTS / "blackbox" / "conftest.py")
gqlconf = _load("catalogue_graphql_conftest", TESTS / "graphql" / "conftest.py")

from helpers import Client  # noqa: E402  (after sys.path is set)

TOKEN = "catalogue-" + secrets.token_hex(16)
GR = "application/graphql-response+json"

# The gateway's limits, small enough that a short document breaks each.
LIMITS = {"--max-document-bytes": 2000, "--max-tokens": 200, "--max-depth": 6,
          "--max-aliases": 4, "--max-root-fields": 4, "--max-body-bytes": 8192}

SEED = [
    {"title": "First", "content": "one", "author": "ada"},
    {"title": "Second", "content": "", "author": None},
    {"title": "Third — ünïcödé 🌍", "content": "x" * 300, "author": "grace"},
    {"title": "Fourth", "content": "four", "author": "ada"},
    {"title": "Fifth", "content": "five", "author": "linus"},
]


def bin_path(program):
    path = gqlconf.bin_dir() / program
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable: build it with `make` "
                    "(or point ARTICLES_BIN at the folder that holds it)", pytrace=False)
    return path


class Store:
    """A running articles-rest, its client and its database file."""

    def __init__(self, name, server, db_path, token=None):
        self.name, self.server, self.db_path, self.token = name, server, db_path, token
        self.client = server.client
        self.port = server.port
        self.url = f"http://127.0.0.1:{server.port}"
        self.seeded_ids = []
        self.last = None

    @property
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def seed(self, articles):
        for a in articles:
            r = self.client.post("/articles", a, headers=self.auth)
            assert r.status == 201, f"seeding {self.name}: {r!r}"
            self.seeded_ids.append(r.json()["id"])

    def snapshot(self):
        """(X-Total-Count, every stored article ordered by id)."""
        r = self.client.get("/articles?limit=1000&sort=id", headers=self.auth)
        assert r.status == 200, f"snapshot of {self.name}: {r!r}"
        articles = r.json()
        assert len(articles) < 1000, f"{self.name} holds too many articles for one page"
        total = r.header("X-Total-Count")
        assert total == str(len(articles)), f"{self.name}: X-Total-Count {total!r}, {len(articles)} listed"
        self.last = articles
        return total, articles

    def alive(self):
        return self.server.alive()

    def stop_and_check_file(self):
        """SIGTERM; then the file must hold what the API showed last. Returns problems."""
        if self.server.proc is not None and self.server.proc.poll() is not None:
            return [f"{self.name} died during the run (status {self.server.proc.returncode}):\n"
                    f"{self.server.log_tail()}"]
        try:
            last = self.snapshot()[1]
        except (AssertionError, OSError) as e:
            last = None
            problem = f"{self.name}: the final snapshot failed: {e}"
        try:
            rc = self.server.stop()
        except AssertionError as e:
            return [str(e)]
        problems = []
        if rc != 0:
            problems.append(f"{self.name} exited {rc} after SIGTERM, expected 0:\n{self.server.log_tail()}")
        if last is None:
            problems.append(problem)
            return problems
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT id, title, content, author, created_at, updated_at "
                              "FROM articles ORDER BY id").fetchall()
            seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'articles'").fetchone()
        finally:
            db.close()
        shown = [(a["id"], a["title"], a["content"], a["author"], a["created_at"], a["updated_at"])
                 for a in last]
        if rows != shown:
            problems.append(f"{self.name}: the database file differs from what the API showed:\n"
                            f"file {rows[:5]!r}...\napi  {shown[:5]!r}...")
        top = max([a["id"] for a in last] + self.seeded_ids + [0])
        if seq is not None and seq[0] > top:
            problems.append(f"{self.name}: the id sequence moved to {seq[0]} although no stored "
                            f"article has an id above {top}: a refused request used up ids")
        return problems


class Processes:
    """Starts what the cases need, once, and stops it all at the end."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.stores = {}
        self.gateways = {}

    def store(self, name, args=(), token=None, seed=True):
        if name not in self.stores:
            d = self.tmp.mktemp(name)
            db = d / "articles.db"
            server = blackbox.Server("sqlite", f"sqlite:{db}", d, args=args)
            server.start()
            s = Store(name, server, db, token)
            self.stores[name] = s
            if seed:
                s.seed(SEED)
        return self.stores[name]

    def gateway(self, name, store, flags=()):
        if name not in self.gateways:
            port = blackbox.free_port()
            cmd = [str(bin_path("articles-graphql")), "--port", str(port), "--rest-api-url",
                   store.url, "--log-format", "json", *map(str, flags)]
            p = gqlconf.Process(name, cmd, self.tmp.mktemp(name), port)
            why = p.start(gqlconf.graphql_ready)
            if why is not None:
                pytest.fail(why, pytrace=False)
            self.gateways[name] = Gateway(name, p, store)
        return self.gateways[name]

    def stop_all(self):
        problems = []
        for g in self.gateways.values():  # the gateways first: they call the REST cores
            if g.process.proc is not None and g.process.proc.poll() is not None:
                problems.append(f"{g.name} died during the run (status {g.process.proc.returncode}):\n"
                                f"{g.process.log_tail()}")
                continue
            rc = g.process.stop()
            if rc != 0:
                problems.append(f"{g.name} exited {rc} after SIGTERM, expected 0:\n{g.process.log_tail()}")
        for s in self.stores.values():
            problems += s.stop_and_check_file()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


class Gateway:
    def __init__(self, name, process, store):
        self.name, self.process, self.store = name, process, store
        self.port = process.port
        self.client = Client("127.0.0.1", process.port)

    def alive(self):
        return self.process.alive()

    def errors_by_code(self):
        """graphql_errors_total by code, from /metrics."""
        r = self.client.get("/metrics")
        assert r.status == 200, r
        out = {}
        for line in r.body.decode().splitlines():
            if line.startswith('graphql_errors_total{code="'):
                code = line.split('"')[1]
                out[code] = float(line.rsplit(" ", 1)[1])
        return out


@pytest.fixture(scope="session")
def processes(tmp_path_factory):
    p = Processes(tmp_path_factory)
    yield p
    p.stop_all()


@pytest.fixture(scope="session")
def rest(processes):
    return processes.store("rest")


@pytest.fixture(scope="session")
def rest_auth(processes):
    return processes.store("rest_auth", args=["--api-tokens", TOKEN], token=TOKEN)


@pytest.fixture(scope="session")
def rest_sync(processes):
    return processes.store("rest_sync", args=["--max-title-length", "50", "--max-author-length", "20"])


@pytest.fixture(scope="session")
def gateway(processes, rest):
    flags = [x for kv in LIMITS.items() for x in kv]
    return processes.gateway("gateway", rest, flags)


@pytest.fixture(scope="session")
def gateway_auth(processes, rest_auth):
    return processes.gateway("gateway_auth", rest_auth)


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")

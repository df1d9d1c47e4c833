"""conftest.py - fixtures of the differential GraphQL tests (diff.py): the REST core, the
graphql-js reference server and the gateway under test, the seed data and the corpus.

Processes (all on 127.0.0.1, free ports, logs in pytest's temporary folders):
  REST core  $ARTICLES_BIN/articles-rest on a fresh SQLite file (ARTICLES_BIN defaults to bin/);
  reference  node tests/graphql/reference/server.mjs (`npm ci` first when node_modules is missing);
  gateway    $ARTICLES_BIN/articles-graphql --port P --rest-api-url URL. A missing binary makes
             every comparison FAIL, never skip. GATEWAY_CMD replaces that command for the
             harness's self-check, with {port} and {rest_api_url} as placeholders, e.g.
             GATEWAY_CMD='node tests/graphql/reference/server.mjs --port {port} --rest-api-url {rest_api_url}'

Resetting the data restarts the REST core on the same port with a new database and seeds it from
seed.json (one PUT per article, and a second PUT of every other one so that its updatedAt differs
from its createdAt): ids and auto-increment start over, so a mutation run on the reference and
again on the gateway produces the same ids.

The `case` argument of a test is parametrised with every corpus case (corpus/NNN-name.graphql,
plus NNN-name.json with {"variables": ..., "operationName": ...} when given).
"""
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CORPUS_DIR = HERE / "corpus"
REFERENCE_DIR = HERE / "reference"
SEED_PATH = HERE / "seed.json"
SCHEMA_PATH = REPO_ROOT / "schema" / "articles.graphql"
READY_TIMEOUT = 30


@dataclass
class Case:
    name: str
    query: str
    variables: object = None
    operation_name: object = None
    extra: dict = field(default_factory=dict)

    @property
    def is_mutation(self):
        return re.search(r"\bmutation\b", self.query) is not None

    def body(self):
        b = {"query": self.query}
        if self.variables is not None:
            b["variables"] = self.variables
        if self.operation_name is not None:
            b["operationName"] = self.operation_name
        return b


def load_corpus():
    cases = []
    for doc in sorted(CORPUS_DIR.glob("*.graphql")):
        case = Case(doc.stem, doc.read_text(encoding="utf-8"))
        opts = doc.with_suffix(".json")
        if opts.exists():
            raw = json.loads(opts.read_text(encoding="utf-8"))
            case.variables = raw.pop("variables", None)
            case.operation_name = raw.pop("operationName", None)
            case.extra = raw
        cases.append(case)
    return cases


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = load_corpus()
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])


def bin_dir():
    p = Path(os.path.expanduser(os.environ.get("ARTICLES_BIN", "bin")))
    return p if p.is_absolute() else REPO_ROOT / p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(port, method, path, body=None, headers=None, timeout=30):
    """One request on a new connection: (status, parsed JSON or None, raw bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        hdrs = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    try:
        parsed = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        parsed = None
    return resp.status, parsed, raw


class Process:
    """A server process with its logs; ready() says when it answers."""

    def __init__(self, name, command, workdir, port):
        self.name, self.command, self.workdir, self.port = name, command, Path(workdir), port
        self.proc = None

    def start(self, ready, timeout=READY_TIMEOUT):
        """None once ready() is true, else why not (the process is then stopped)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "stdout.log", "ab") as out, open(self.workdir / "stderr.log", "ab") as err:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=REPO_ROOT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return f"{self.describe()} exited {self.proc.returncode} at start:\n{self.log_tail()}"
            try:
                if ready(self.port):
                    return None
            except OSError:
                pass
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        return f"{self.describe()} was not ready within {timeout}s:\n{self.log_tail()}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=30):
        lines = []
        for log in ("stdout.log", "stderr.log"):
            try:
                lines += (self.workdir / log).read_text(errors="replace").splitlines()
            except FileNotFoundError:
                pass
        return "\n".join(lines[-n:])

    def stop(self, timeout=15):
        """SIGTERM, then the exit status (None when it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc

    def describe(self):
        return f"{self.name} ({' '.join(self.command)})"


def rest_ready(port):
    return http_json(port, "GET", "/health", timeout=2)[0] == 200


def graphql_ready(port):
    status, body, _ = http_json(port, "POST", "/graphql", {"query": "{ __typename }"}, timeout=2)
    return isinstance(body, dict) and body.get("data") == {"__typename": "Query"}


class RestCore:
    """articles-rest on one port for the whole session; reset() gives it a new seeded database."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))

    def _start(self):
        binary = bin_dir() / "articles-rest"
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} is missing: build it with `make` (or set ARTICLES_BIN)", pytrace=False)
        work = self.tmp.mktemp("rest")
        cmd = [str(binary), "--host", "127.0.0.1", "--port", str(self.port),
               "--database-url", f"sqlite:{work}/articles.db", "--log-format", "json"]
        # The port was ours a moment ago; retry briefly in case the old socket lingers.
        for _ in range(50):
            self.process = Process("articles-rest", cmd, work, self.port)
            why = self.process.start(rest_ready)
            if why is None:
                return
            time.sleep(0.1)
        pytest.fail(why, pytrace=False)

    def reset(self):
        if self.process is not None:
            rc = self.process.stop()
            if rc != 0:
                pytest.fail(f"articles-rest exited {rc} on SIGTERM:\n{self.process.log_tail()}", pytrace=False)
        self._start()
        for article in self.seed:
            self._put(article, 201)
        # Replaced a moment later, the even ids get an updatedAt different from their createdAt.
        time.sleep(0.005)
        for article in self.seed[1::2]:
            self._put(article, 200)

    def _put(self, article, expected):
        status, body, raw = http_json(self.port, "PUT", f"/articles/{article['id']}", article)
        if status != expected:
            pytest.fail(f"seeding PUT /articles/{article['id']} answered {status}: {raw[:300]!r}", pytrace=False)

    def request(self, method, path, body=None):
        return http_json(self.port, method, path, body)

    def articles(self):
        status, body, raw = self.request("GET", "/articles?limit=1000&sort=id")
        assert status == 200, raw
        return body

    def stop(self):
        if self.process is not None:
            self.process.stop()


def node_modules():
    """Installs the reference's packages (npm ci) when they are missing."""
    if (REFERENCE_DIR / "node_modules" / "graphql").is_dir():
        return
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: the graphql-js reference server needs Node 20 and npm", pytrace=False)
    r = subprocess.run(["npm", "ci", "--prefix", str(REFERENCE_DIR)], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        pytest.fail(f"npm ci --prefix {REFERENCE_DIR} failed ({r.returncode}):\n{r.stderr[-2000:]}",
                    pytrace=False)


def reference_command(port, rest_url):
    return ["node", str(REFERENCE_DIR / "server.mjs"), "--port", str(port), "--rest-api-url", rest_url,
            "--schema", str(SCHEMA_PATH)]


def gateway_command(port, rest_url):
    """The gateway's command line, or a message saying why there is none."""
    template = os.environ.get("GATEWAY_CMD")
    if template:
        return [a.format(port=port, rest_api_url=rest_url) for a in shlex.split(template)]
    binary = bin_dir() / "articles-graphql"
    if not os.access(binary, os.X_OK):
        return (f"{binary} is missing or not executable: the GraphQL gateway must be built "
                "(`make`) before its differential test against graphql-js can run")
    return [str(binary), "--port", str(port), "--rest-api-url", rest_url]


class GraphQLServer:
    """A GraphQL server under test: the reference or the gateway. One that died is started again
    on its next use, so a crash fails the case that caused it, not all that follow. One that cannot
    start fails every case at once with the same message."""

    def __init__(self, name, command_for, rest_url, tmp_path_factory):
        self.name, self.command_for, self.rest_url, self.tmp = name, command_for, rest_url, tmp_path_factory
        self.process = None
        self.cannot_start = None

    def ensure(self):
        if self.process is not None and self.process.alive():
            return
        if self.cannot_start:
            pytest.fail(self.cannot_start, pytrace=False)
        died = None
        if self.process is not None:
            died = f"{self.name} died (status {self.process.proc.returncode}):\n{self.process.log_tail()}"
            self.process = None
        port = free_port()
        cmd = self.command_for(port, self.rest_url)
        if isinstance(cmd, str):
            self.cannot_start = cmd
            pytest.fail(cmd, pytrace=False)
        proc = Process(self.name, cmd, self.tmp.mktemp(self.name), port)
        why = proc.start(graphql_ready)
        if why is not None:
            self.cannot_start = f"{why}\n(ready means answering POST /graphql {{ __typename }})"
            pytest.fail(self.cannot_start, pytrace=False)
        self.process = proc
        if died:
            pytest.fail(died, pytrace=False)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.process.port}/graphql"

    def post(self, body):
        """The parsed JSON answer, whatever the HTTP status (the comparison is on the JSON)."""
        self.ensure()
        try:
            status, parsed, raw = http_json(self.process.port, "POST", "/graphql", body)
        except OSError as e:
            if not self.process.alive():
                self.ensure()  # restarts it and fails this case with the log
            pytest.fail(f"{self.name}: POST /graphql failed: {e}\n{self.process.log_tail()}", pytrace=False)
        if not self.process.alive():
            self.ensure()  # restarts it and fails this case with the log
        if not isinstance(parsed, dict):
            pytest.fail(f"{self.name} answered {status} with a body that is not a JSON object: {raw[:500]!r}",
                        pytrace=False)
        return parsed

    def stop(self):
        if self.process is None:
            return None
        return self.process.stop()


class Harness:
    """Runs a case on both servers from the same seeded state."""

    def __init__(self, rest, reference, gateway):
        self.rest, self.reference, self.gateway = rest, reference, gateway
        self.dirty = True

    def run(self, case):
        body = case.body()
        self.reference.ensure()
        self.gateway.ensure()
        if case.is_mutation:
            self.rest.reset()
            ref = self.reference.post(body)
            self.rest.reset()
            gw = self.gateway.post(body)
            self.dirty = True
        else:
            if self.dirty:
                self.rest.reset()
                self.dirty = False
            ref = self.reference.post(body)
            gw = self.gateway.post(body)
        return ref, gw


@pytest.fixture(scope="session")
def rest_core(tmp_path_factory):
    rest = RestCore(tmp_path_factory)
    rest.reset()
    yield rest
    rest.stop()


@pytest.fixture(scope="session")
def reference(rest_core, tmp_path_factory):
    node_modules()
    server = GraphQLServer("reference", reference_command, rest_core.url, tmp_path_factory)
    server.ensure()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gateway(rest_core, tmp_path_factory):
    """The gateway; started on first use, so a missing binary fails each test that needs it."""
    server = GraphQLServer("gateway", gateway_command, rest_core.url, tmp_path_factory)
    yield server
    rc = server.stop()
    if rc not in (None, 0):
        pytest.fail(f"the gateway exited {rc} on SIGTERM, expected 0:\n{server.process.log_tail()}",
                    pytrace=False)


@pytest.fixture(scope="session")
def harness(rest_core, reference, gateway):
    return Harness(rest_core, reference, gateway)


@pytest.fixture
def dead_upstream(tmp_path_factory):
    """A reference and a gateway whose REST core does not exist (nothing listens on its port)."""
    url = f"http://127.0.0.1:{free_port()}"
    node_modules()
    pair = (GraphQLServer("reference", reference_command, url, tmp_path_factory),
            GraphQLServer("gateway", gateway_command, url, tmp_path_factory))
    yield pair
    for server in pair:
        server.stop()

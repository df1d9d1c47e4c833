"""The REST core's operator endpoints /metrics and /health: with --metrics-token (METRICS_TOKEN)
or --metrics-token-file (METRICS_TOKEN_FILE) both need that token and no API token opens them,
while the metrics token opens no write; with --metrics-port (METRICS_PORT) and --metrics-host
(METRICS_HOST) they move to a listener of their own that serves nothing else, and the main port
answers 404 for them. Every server is a real process, stopped with SIGTERM and expected to exit
0; bad configurations exit 2 with one line that never holds a token."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest
import yaml

from conftest import Factory, Server, binary, free_port
from helpers import (REPO_ROOT, Client, assert_article, assert_problem, media_type, parse_metrics,
                     prometheus_query, sample_value)

METRICS_ENV = ("METRICS_TOKEN", "METRICS_TOKEN_FILE", "METRICS_PORT", "METRICS_HOST")
OPS_PATHS = ("/metrics", "/health")
MISSING = "this endpoint needs the metrics token: send Authorization: Bearer <token>"
INVALID = "the bearer token is not the metrics token"


def new_token(prefix):
    return prefix + "-" + secrets.token_urlsafe(24)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The servers read the METRICS_* variables: none may leak in from the caller's shell."""
    for name in METRICS_ENV + ("API_TOKENS", "API_TOKENS_FILE", "AUTH_READS"):
        monkeypatch.delenv(name, raising=False)


class OpsServer(Server):
    """articles-rest whose readiness does not depend on /health, which may be locked or moved:
    ready when the main port serves /openapi.json (always open) and, with a metrics port, that
    port answers /health with any status."""

    def __init__(self, *args, separate=False, metrics_host="127.0.0.1", **kw):
        super().__init__(*args, **kw)
        self.separate = separate
        self.metrics_host = metrics_host
        self.metrics_port = None
        self._for_port = None

    def command(self):
        cmd = super().command()
        if self.separate:
            if self._for_port != self.port:  # a new attempt on a new port: a new metrics port
                self.metrics_port, self._for_port = free_port(), self.port
            cmd += ["--metrics-port", str(self.metrics_port), "--metrics-host", self.metrics_host]
        return cmd

    @property
    def ops(self):
        """A client of the listener that serves /metrics and /health."""
        if self.separate:
            return Client(self.metrics_host, self.metrics_port)
        return self.client

    def ready(self):
        # /health may need the token here: the API's own document says the server is up.
        if Client("127.0.0.1", self.port, timeout=2).get("/openapi.json").status != 200:
            return False
        if self.separate:
            Client(self.metrics_host, self.metrics_port, timeout=2).get("/health")
        return True


class OpsFactory(Factory):
    def start(self, args=(), env=None, db_url=None, separate=False, metrics_host="127.0.0.1"):
        s = OpsServer(self.backend, db_url or self.new_db_url(), self.tmp.mktemp("server"),
                      args=args, env=env, separate=separate, metrics_host=metrics_host)
        self.servers.append(s)
        return s.start()


@pytest.fixture
def ops_factory(backend, tmp_path_factory):
    f = OpsFactory(backend, tmp_path_factory)
    yield f
    f.stop_all()  # fails the test unless every server exits 0 on SIGTERM


def assert_metrics_401(resp, *, invalid, head=False):
    """401 problem+json with the challenge of the metrics realm."""
    assert resp.status == 401, f"expected 401, got {resp!r}"
    challenge = resp.header("WWW-Authenticate")
    assert challenge is not None, f"401 without WWW-Authenticate: {resp!r}"
    assert challenge.startswith("Bearer "), challenge
    assert 'realm="metrics"' in challenge, challenge
    assert ('error="invalid_token"' in challenge) == invalid, challenge
    if head:
        assert resp.body == b"", resp
        return
    assert media_type(resp.header("Content-Type")) == "application/problem+json", resp
    body = resp.json()
    assert body == {"type": "about:blank", "title": "Unauthorized", "status": 401,
                    "detail": INVALID if invalid else MISSING}, body


def assert_served(ops, token, path):
    """The endpoint answers with the token: /health its JSON, /metrics the exposition."""
    r = ops.get(path, headers=bearer(token) if token else None)
    assert r.status == 200, r
    if path == "/health":
        assert r.json() == {"status": "ok"}, r
    else:
        assert media_type(r.header("Content-Type")) == "text/plain", r
        assert "# TYPE http_requests_total counter" in r.body.decode(), r.body[:300]
    return r


def assert_not_here(resp):
    assert_problem(resp, 404)
    assert resp.header("WWW-Authenticate") is None, resp


def all_logs(server):
    return "".join(server.logs())


# ---- the token --------------------------------------------------------------

def test_metrics_token_required(ops_factory):
    metrics, api = new_token("mt"), new_token("api")
    s = ops_factory.start(args=["--metrics-token", metrics, "--api-tokens", api])
    c = s.client
    for path in OPS_PATHS:
        assert_metrics_401(c.get(path), invalid=False)
        assert_metrics_401(c.head(path), invalid=False, head=True)
        assert_metrics_401(c.get(path, headers=bearer(new_token("mt"))), invalid=True)
        assert_metrics_401(c.get(path, headers=bearer(metrics + "x")), invalid=True)
        assert_metrics_401(c.get(path, headers=bearer(metrics[:-1])), invalid=True)
        assert_metrics_401(c.get(path, headers={"Authorization": f"Basic {metrics}"}),
                           invalid=False)
        # An API token is a valid token of another realm: it does not open the endpoints.
        assert_metrics_401(c.get(path, headers=bearer(api)), invalid=True)
        assert_served(c, metrics, path)
        assert c.head(path, headers=bearer(metrics)).status == 200
        assert c.get(path, headers={"Authorization": f"bearer   {metrics}"}).status == 200
    # Refusals are counted like every answer, under the route's template.
    text = c.get("/metrics", headers=bearer(metrics)).body.decode()
    _, _, samples = parse_metrics(text)
    assert sample_value(samples, "http_requests_total", method="GET", route="/metrics",
                        status="401") >= 6
    assert sample_value(samples, "http_requests_total", method="GET", route="/health",
                        status="200") >= 1
    logs = all_logs(s)
    assert metrics not in logs and metrics[:-1] not in logs and api not in logs
    assert "metrics token is configured" in logs


def test_metrics_token_opens_no_write_and_the_api_keeps_working(ops_factory):
    metrics, api = new_token("mt"), new_token("api")
    s = ops_factory.start(args=["--metrics-token", metrics, "--api-tokens", api,
                                "--auth-reads", "token"])
    c = s.client
    r = c.post("/articles", {"title": "with the metrics token"}, headers=bearer(metrics))
    assert r.status == 401 and 'realm="articles"' in r.header("WWW-Authenticate"), r
    assert c.get("/articles", headers=bearer(metrics)).status == 401
    created = c.post("/articles", {"title": "with an API token"}, headers=bearer(api))
    assert created.status == 201, created
    art = assert_article(created.json(), title="with an API token")
    got = c.get(f"/articles/{art['id']}", headers=bearer(api))
    assert got.status == 200 and got.json() == art
    assert c.delete(f"/articles/{art['id']}", headers=bearer(metrics)).status == 401
    assert c.get(f"/articles/{art['id']}", headers=bearer(api)).status == 200
    assert c.get("/openapi.json").status == 200  # still open to everyone


def test_metrics_token_from_the_environment(ops_factory):
    metrics = new_token("mt")
    s = ops_factory.start(env={"METRICS_TOKEN": metrics})
    for path in OPS_PATHS:
        assert_metrics_401(s.client.get(path), invalid=False)
        assert_served(s.client, metrics, path)
    # Without an API token, writes stay open; the metrics token changes nothing there.
    assert s.client.post("/articles", {"title": "open"}).status == 201


@pytest.mark.parametrize("how", ["flag", "env"])
def test_metrics_token_from_a_file(ops_factory, tmp_path, how):
    metrics = new_token("mt")
    path = tmp_path / "metrics.token"
    path.write_text(f"  {metrics}\r\n\n")  # one line; blanks and line ends around it are ignored
    if how == "flag":
        s = ops_factory.start(args=["--metrics-token-file", str(path)])
    else:
        s = ops_factory.start(env={"METRICS_TOKEN_FILE": str(path)})
    for path_ in OPS_PATHS:
        assert_metrics_401(s.client.get(path_), invalid=False)
        assert_metrics_401(s.client.get(path_, headers=bearer(metrics.swapcase())), invalid=True)
        assert_served(s.client, metrics, path_)
    assert metrics not in all_logs(s)


def test_without_a_token_both_stay_open_on_the_main_port(ops_factory):
    """The default: what prometheus.yml scrapes keeps working as before."""
    s = ops_factory.start(args=["--api-tokens", new_token("api")])
    for path in OPS_PATHS:
        assert_served(s.client, None, path)
        assert_served(s.client, "whatever-token-0123456789", path)


# ---- a listener of their own ------------------------------------------------------

def test_metrics_port_serves_only_the_operator_endpoints(ops_factory):
    s = ops_factory.start(separate=True)
    c, ops = s.client, s.ops
    assert s.metrics_port != s.port
    for path in OPS_PATHS:
        assert_served(ops, None, path)
        assert ops.head(path).status == 200
        assert_not_here(c.get(path))  # gone from the main port
        r = ops.post(path, {"x": 1})
        assert_problem(r, 405)
    for path in ("/articles", "/articles/1", "/articles/bulk", "/openapi.json", "/", "/nope"):
        assert_not_here(ops.get(path))
    assert_not_here(ops.post("/articles", {"title": "not here"}))
    # The main API keeps working, and the metrics port counts what it served.
    created = c.post("/articles", {"title": "on the main port"})
    assert created.status == 201, created
    art = assert_article(created.json())
    assert c.get(f"/articles/{art['id']}").json() == art
    assert c.get("/openapi.json").status == 200
    _, _, samples = parse_metrics(ops.get("/metrics").body.decode())
    assert sample_value(samples, "http_requests_total", method="POST", route="/articles",
                        status="201") == 1
    assert sample_value(samples, "http_requests_total", method="GET", route="unmatched",
                        status="404") >= 3
    assert sample_value(samples, "articles_stored") == 1
    logs = all_logs(s)
    assert f"/metrics and /health on http://127.0.0.1:{s.metrics_port} only" in logs, logs


def test_metrics_port_with_a_token(ops_factory, tmp_path):
    metrics, api = new_token("mt"), new_token("api")
    token_file = tmp_path / "t"
    token_file.write_text(metrics + "\n")
    s = ops_factory.start(args=["--metrics-token-file", str(token_file), "--api-tokens", api],
                          separate=True)
    for path in OPS_PATHS:
        assert_metrics_401(s.ops.get(path), invalid=False)
        assert_metrics_401(s.ops.get(path, headers=bearer(api)), invalid=True)
        assert_served(s.ops, metrics, path)
        # On the main port they do not exist, whatever token comes with the request.
        assert_not_here(s.client.get(path, headers=bearer(metrics)))
        assert_not_here(s.client.get(path))
    assert_not_here(s.ops.get("/articles", headers=bearer(metrics)))
    assert s.client.post("/articles", {"title": "t"}, headers=bearer(metrics)).status == 401
    assert s.client.post("/articles", {"title": "t"}, headers=bearer(api)).status == 201


def test_metrics_port_from_the_environment(ops_factory):
    s = OpsServer(ops_factory.backend, ops_factory.new_db_url(), ops_factory.tmp.mktemp("s"))
    mport = free_port()
    s.env = {"METRICS_PORT": str(mport), "METRICS_HOST": "127.0.0.1"}
    ops_factory.servers.append(s)
    s.start()
    deadline = time.time() + 10
    while True:  # readiness looked at the main port only
        try:
            r = Client("127.0.0.1", mport).get("/health")
            break
        except OSError:
            assert time.time() < deadline, s.log_tail()
            time.sleep(0.05)
    assert r.status == 200 and r.json() == {"status": "ok"}, r
    assert_not_here(s.client.get("/health"))


def test_metrics_host_binds_that_address_only(ops_factory):
    """127.0.0.2 is a loopback address of its own: the listener is there and not on 127.0.0.1."""
    s = ops_factory.start(separate=True, metrics_host="127.0.0.2")
    assert_served(Client("127.0.0.2", s.metrics_port), None, "/metrics")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.metrics_port), timeout=2).close()
    assert_not_here(s.client.get("/metrics"))


# ---- Prometheus --------------------------------------------------------------------

def commented_scrape_job():
    """The example job that prometheus.yml gives in a comment, uncommented."""
    lines = (REPO_ROOT / "prometheus.yml").read_text().splitlines()
    example = [l[1:] for l in lines if l.startswith("#  ")]
    jobs = yaml.safe_load("\n".join(example))
    assert isinstance(jobs, list) and len(jobs) == 1, example
    assert "credentials_file" in jobs[0]["authorization"], jobs
    return jobs[0]


def test_prometheus_scrapes_with_the_commented_credentials_file(ops_factory, tmp_path):
    """A real Prometheus with prometheus.yml's commented job (its credentials_file and target
    pointed at this test's) scrapes the metrics port; the same target without the token is
    down."""
    binary = shutil.which("prometheus")
    if not binary:
        pytest.fail("prometheus is missing: install Debian's prometheus package (make deps)")
    token_file = tmp_path / "metrics.token"
    token_file.write_text(new_token("mt") + "\n")
    s = ops_factory.start(args=["--metrics-token-file", str(token_file)], separate=True)
    job = commented_scrape_job()
    job["authorization"]["credentials_file"] = str(token_file)
    job["static_configs"] = [{"targets": [f"127.0.0.1:{s.metrics_port}"]}]
    job["scrape_interval"] = "1s"
    cfg = yaml.safe_load((REPO_ROOT / "prometheus.yml").read_text())
    cfg["rule_files"] = []
    cfg["scrape_configs"] = [job, {"job_name": "no-token", "scrape_interval": "1s",
                                   "static_configs": job["static_configs"]}]
    cfg_path = tmp_path / "prometheus.yml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    check = subprocess.run(["promtool", "check", "config", str(cfg_path)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    with open(tmp_path / "prometheus.log", "w") as log:
        proc = subprocess.Popen([binary, f"--config.file={cfg_path}",
                                 f"--storage.tsdb.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.time() + 60
        up = {}
        while time.time() < deadline and set(up) != {job["job_name"], "no-token"}:
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
            try:
                up = {r["metric"]["job"]: r["value"][1] for r in prometheus_query(port, "up")}
            except OSError:
                pass
            time.sleep(0.3)
        assert up == {job["job_name"]: "1", "no-token": "0"}, up
    finally:
        proc.terminate()
        proc.wait(20)
    _, _, samples = parse_metrics(
        s.ops.get("/metrics", headers=bearer(token_file.read_text().strip())).body.decode())
    assert sample_value(samples, "http_requests_total", route="/metrics", status="200") >= 1
    assert sample_value(samples, "http_requests_total", route="/metrics", status="401") >= 1


# ---- configuration ------------------------------------------------------------------

def run_rest(args, env=None, cwd=None):
    e = {k: v for k, v in os.environ.items()
         if k not in METRICS_ENV and k not in ("API_TOKENS", "API_TOKENS_FILE")}
    e.update(env or {})
    return subprocess.run([binary(), "--port", str(free_port()), "--database-url",
                           "sqlite::memory:", *args], capture_output=True, text=True, env=e,
                          timeout=30, cwd=cwd)


def test_bad_metrics_configuration_exits_2(tmp_path):
    secret = new_token("mt")
    two_lines = tmp_path / "two"
    two_lines.write_text(f"{secret}\n{new_token('mt')}\n")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    short = tmp_path / "short"
    short.write_text("s3cret\n")
    port = free_port()
    cases = [
        (["--metrics-token", "s3cret"], None, "shorter than 16"),
        (["--metrics-token", secret + " x"], None, "not visible ASCII"),
        ([], {"METRICS_TOKEN": "x" * 257}, "longer than 256"),
        (["--metrics-token", secret, "--metrics-token-file", str(empty)], None, "both"),
        (["--metrics-token-file", str(tmp_path / "missing")], None, "cannot open"),
        (["--metrics-token-file", str(empty)], None, "no token"),
        (["--metrics-token-file", str(short)], None, "shorter than 16"),
        (["--metrics-token-file", str(two_lines)], None, "more than one line"),
        (["--metrics-token", secret, "--api-tokens", f"{new_token('a')},{secret}"], None,
         "also an API token"),
        (["--metrics-port", "65536"], None, "metrics-port"),
        (["--port", str(port), "--metrics-port", str(port)], None, "must differ"),
    ]
    for args, env, says in cases:
        r = run_rest(args, env)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, r.stderr)
        assert secret not in r.stderr and "s3cret" not in r.stderr, r.stderr


def test_metrics_port_already_taken_fails_to_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        r = run_rest(["--metrics-port", str(taken.getsockname()[1]), "--log-format", "json"],
                     cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "cannot serve /metrics and /health" in r.stderr, r.stderr


def test_help_documents_the_flags():
    r = subprocess.run([binary(), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    for word in ("--metrics-token ", "METRICS_TOKEN]", "--metrics-token-file", "METRICS_TOKEN_FILE",
                 "--metrics-port", "METRICS_PORT", "--metrics-host", "METRICS_HOST",
                 "no API token opens them"):
        assert word in r.stdout, word

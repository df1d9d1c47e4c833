"""The GraphQL server's operator endpoints /health and /metrics, against a real REST core: with
--metrics-token (METRICS_TOKEN) or --metrics-token-file (METRICS_TOKEN_FILE) both need that
token (401 with a Bearer challenge of the metrics realm and a small JSON body otherwise), while
/graphql and the REST core's own tokens are untouched; with --metrics-port (METRICS_PORT) and
--metrics-host they move to a listener of their own that serves nothing else, and the main port
answers 404 for them. Each gateway must exit 0 on SIGTERM."""
import http.client
import json
import os
import secrets
import subprocess
import time

import pytest

from conftest import Process, bin_dir, free_port, graphql_ready, rest_ready

METRICS_ENV = ("METRICS_TOKEN", "METRICS_TOKEN_FILE", "METRICS_PORT", "METRICS_HOST")
OPS_PATHS = ("/health", "/metrics")
MISSING = "this endpoint needs the metrics token: send Authorization: Bearer <token>"
INVALID = "the bearer token is not the metrics token"
ONLY_HERE = "no such route; this listener serves /metrics and /health only"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The programs read the METRICS_* variables: none may leak in from the caller's shell."""
    for name in METRICS_ENV:
        monkeypatch.delenv(name, raising=False)


def new_token(prefix="mt"):
    return f"{prefix}-{secrets.token_urlsafe(24)}"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def request(port, method, path, headers=None, body=None):
    """(status, headers with lower-case names, body bytes) of one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def gql(port, query, headers=None):
    body = json.dumps({"query": query}).encode()
    status, _, raw = request(port, "POST", "/graphql",
                             {"Content-Type": "application/json", "Accept": "application/json",
                              **(headers or {})}, body)
    return status, json.loads(raw)


def start_rest(tmp_path_factory, *flags):
    port = free_port()
    work = tmp_path_factory.mktemp("rest")
    cmd = [str(bin_dir() / "articles-rest"), "--port", str(port), "--database-url",
           f"sqlite:{work}/articles.db", "--log-format", "json", *flags]
    p = Process("articles-rest", cmd, work, port)
    why = p.start(rest_ready)
    assert why is None, why
    return p


class Gateway:
    """articles-graphql with extra flags; ready once /graphql answers, and with --metrics-port
    once that port accepts connections."""

    def __init__(self, tmp_path_factory, rest_port, *flags, separate=False):
        self.port = free_port()
        self.metrics_port = free_port() if separate else None
        cmd = [str(bin_dir() / "articles-graphql"), "--port", str(self.port), "--rest-api-url",
               f"http://127.0.0.1:{rest_port}", "--log-format", "json", *flags]
        if separate:
            cmd += ["--metrics-port", str(self.metrics_port), "--metrics-host", "127.0.0.1"]
        self.process = Process("articles-graphql", cmd, tmp_path_factory.mktemp("gateway"),
                               self.port)

    def __enter__(self):
        why = self.process.start(graphql_ready)
        assert why is None, why
        if self.metrics_port:
            deadline = time.time() + 10
            while True:
                try:
                    request(self.metrics_port, "GET", "/nothing")
                    break
                except OSError:
                    assert time.time() < deadline, self.process.log_tail()
                    time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        rc = self.process.stop()
        assert rc == 0, f"articles-graphql exited {rc} on SIGTERM:\n{self.process.log_tail()}"

    @property
    def ops_port(self):
        return self.metrics_port or self.port

    def logs(self):
        return self.process.log_tail(10000)


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    p = start_rest(tmp_path_factory)
    yield p
    assert p.stop() == 0


def assert_401(status, headers, body, *, invalid, head=False):
    assert status == 401, (status, body)
    challenge = headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer ") and 'realm="metrics"' in challenge, headers
    assert ('error="invalid_token"' in challenge) == invalid, challenge
    if head:
        assert body == b""
        return
    assert headers["content-type"].startswith("application/json"), headers
    assert json.loads(body) == {"errors": [{"message": INVALID if invalid else MISSING}]}, body


def assert_served(port, path, token=None):
    status, headers, body = request(port, "GET", path, bearer(token) if token else None)
    assert status == 200, (status, body)
    if path == "/health":
        assert json.loads(body) == {"status": "ok", "rest": "ok"}, body
    else:
        assert headers["content-type"].startswith("text/plain"), headers
        assert "# TYPE http_requests_total counter" in body.decode(), body[:300]
    return body.decode()


def assert_not_here(port, path, ops_listener, method="GET", headers=None):
    status, hdrs, body = request(port, method, path, headers)
    assert status == 404, (path, status, body)
    assert "www-authenticate" not in hdrs, hdrs
    message = json.loads(body)["errors"][0]["message"]
    assert (message == ONLY_HERE) == ops_listener, message


# ---- the token --------------------------------------------------------------

def test_metrics_token_required(rest, tmp_path_factory):
    token = new_token()
    with Gateway(tmp_path_factory, rest.port, "--metrics-token", token) as gw:
        for path in OPS_PATHS:
            assert_401(*request(gw.port, "GET", path), invalid=False)
            assert_401(*request(gw.port, "HEAD", path), invalid=False, head=True)
            assert_401(*request(gw.port, "GET", path, bearer(new_token())), invalid=True)
            assert_401(*request(gw.port, "GET", path, bearer(token[:-1])), invalid=True)
            assert_401(*request(gw.port, "GET", path, {"Authorization": f"Basic {token}"}),
                       invalid=False)
            assert_served(gw.port, path, token)
            assert request(gw.port, "HEAD", path, bearer(token))[0] == 200
        # The method is checked first, as for every route.
        status, headers, _ = request(gw.port, "POST", "/metrics", bearer(token), b"")
        assert status == 405 and headers["allow"] == "GET, HEAD"
        # /graphql needs no metrics token, and its refusals are counted.
        assert gql(gw.port, "{ __typename }") == (200, {"data": {"__typename": "Query"}})
        text = assert_served(gw.port, "/metrics", token)
        assert 'http_requests_total{method="GET",route="/health",status="401"} 4' in text, text
        assert 'route="/graphql",status="200"' in text
        logs = gw.logs()
        assert token not in logs and token[:-1] not in logs
        assert "metrics token is configured" in logs


def test_metrics_token_does_not_open_the_rest_core(tmp_path_factory):
    """The client's Authorization still goes to the REST core, whose API token is another
    secret: the metrics token makes no mutation, the API token opens no /metrics."""
    api, metrics = new_token("api"), new_token()
    rest = start_rest(tmp_path_factory, "--api-tokens", api)
    try:
        with Gateway(tmp_path_factory, rest.port, "--metrics-token", metrics) as gw:
            m = 'mutation { createArticle(input: {title: "t"}) { id title } }'
            _, body = gql(gw.port, m, bearer(metrics))
            assert body["data"] is None, body
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
            _, body = gql(gw.port, m, bearer(api))
            assert body == {"data": {"createArticle": {"id": "1", "title": "t"}}}, body
            for path in OPS_PATHS:
                assert_401(*request(gw.port, "GET", path, bearer(api)), invalid=True)
            assert_served(gw.port, "/health", metrics)
    finally:
        assert rest.stop() == 0


@pytest.mark.parametrize("how", ["flag", "env"])
def test_metrics_token_from_a_file(rest, tmp_path_factory, tmp_path, monkeypatch, how):
    token = new_token()
    path = tmp_path / "metrics.token"
    path.write_text(token + "\n")
    flags = ["--metrics-token-file", str(path)] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("METRICS_TOKEN_FILE", str(path))
    with Gateway(tmp_path_factory, rest.port, *flags) as gw:
        for p in OPS_PATHS:
            assert_401(*request(gw.port, "GET", p), invalid=False)
            assert_served(gw.port, p, token)
        assert token not in gw.logs()


def test_without_flags_both_stay_open_on_the_main_port(rest, tmp_path_factory):
    with Gateway(tmp_path_factory, rest.port) as gw:
        for path in OPS_PATHS:
            assert_served(gw.port, path)
            assert_served(gw.port, path, new_token())


# ---- a listener of their own ------------------------------------------------------

def test_metrics_port_serves_only_the_operator_endpoints(rest, tmp_path_factory):
    with Gateway(tmp_path_factory, rest.port, separate=True) as gw:
        for path in OPS_PATHS:
            assert_served(gw.metrics_port, path)
            assert request(gw.metrics_port, "HEAD", path)[0] == 200
            assert_not_here(gw.port, path, ops_listener=False)
        for path in ("/graphql", "/graphql/assets/graphiql.min.js", "/", "/nope"):
            assert_not_here(gw.metrics_port, path, ops_listener=True)
        assert_not_here(gw.metrics_port, "/graphql", True, "POST",
                        {"Content-Type": "application/json"})
        # The API keeps working on the main port; the metrics port counts it.
        assert gql(gw.port, "{ __typename }") == (200, {"data": {"__typename": "Query"}})
        text = assert_served(gw.metrics_port, "/metrics")
        assert 'http_requests_total{method="POST",route="/graphql",status="200"}' in text, text
        assert 'route="unmatched",status="404"' in text
        assert f"/metrics and /health on http://127.0.0.1:{gw.metrics_port} only" in gw.logs()


def test_metrics_port_with_a_token(rest, tmp_path_factory):
    token = new_token()
    with Gateway(tmp_path_factory, rest.port, "--metrics-token", token, separate=True) as gw:
        for path in OPS_PATHS:
            assert_401(*request(gw.metrics_port, "GET", path), invalid=False)
            assert_401(*request(gw.metrics_port, "GET", path, bearer(new_token())), invalid=True)
            assert_served(gw.metrics_port, path, token)
            assert_not_here(gw.port, path, ops_listener=False, headers=bearer(token))
        assert_not_here(gw.metrics_port, "/graphql", ops_listener=True, headers=bearer(token))


def test_metrics_port_from_the_environment(rest, tmp_path_factory, monkeypatch):
    mport = free_port()
    monkeypatch.setenv("METRICS_PORT", str(mport))
    with Gateway(tmp_path_factory, rest.port) as gw:
        deadline = time.time() + 10
        while True:
            try:
                assert_served(mport, "/health")
                break
            except OSError:
                assert time.time() < deadline, gw.logs()
                time.sleep(0.02)
        assert_not_here(gw.port, "/health", ops_listener=False)


# ---- configuration ------------------------------------------------------------------

def run_gateway(*args):
    env = {k: v for k, v in os.environ.items() if k not in METRICS_ENV}
    return subprocess.run([str(bin_dir() / "articles-graphql"), "--port", str(free_port()),
                           *args], capture_output=True, text=True, env=env, timeout=30)


def test_bad_metrics_configuration_exits_2(tmp_path):
    secret = new_token()
    empty = tmp_path / "empty"
    empty.write_text("")
    two = tmp_path / "two"
    two.write_text(f"{secret}\n{new_token()}\n")
    port = str(free_port())
    cases = [
        (["--metrics-token", "short"], "shorter than 16"),
        (["--metrics-token", secret, "--metrics-token-file", str(two)], "both"),
        (["--metrics-token-file", str(tmp_path / "missing")], "cannot open"),
        (["--metrics-token-file", str(empty)], "no token"),
        (["--metrics-token-file", str(two)], "more than one line"),
        (["--port", port, "--metrics-port", port], "must differ"),
        (["--metrics-port", "-1"], "--metrics-port"),
    ]
    for args, says in cases:
        r = run_gateway(*args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, r.stderr)
        assert secret not in r.stderr


def test_help_documents_the_flags():
    r = run_gateway("--help")
    assert r.returncode == 0
    for word in ("--metrics-token ", "METRICS_TOKEN]", "--metrics-token-file", "METRICS_TOKEN_FILE",
                 "--metrics-port", "METRICS_PORT", "--metrics-host", "METRICS_HOST"):
        assert word in r.stdout, word

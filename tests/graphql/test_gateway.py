"""The gateway as a whole, against a real REST core of its own: each limit flag end to end,
the REST core stopped and started again mid-test, one trace id in both programs' logs, and the
upstream metrics."""
import http.server
import json
import subprocess
import os
import re
import socket
import threading
import time

import pytest

from conftest import (Process, bin_dir, free_port, graphql_ready, http_json, rest_ready)


def start_rest(tmp_path_factory, port=None):
    port = port or free_port()
    work = tmp_path_factory.mktemp("rest")
    cmd = [str(bin_dir() / "articles-rest"), "--port", str(port), "--database-url",
           f"sqlite:{work}/articles.db", "--log-format", "json"]
    for _ in range(50):  # the port may linger a moment after a stop
        p = Process("articles-rest", cmd, work, port)
        if p.start(rest_ready) is None:
            return p
        time.sleep(0.1)
    pytest.fail(f"articles-rest did not start:\n{p.log_tail()}")


def start_gateway(tmp_path_factory, rest_port, *flags):
    port = free_port()
    cmd = [str(bin_dir() / "articles-graphql"), "--port", str(port), "--rest-api-url",
           f"http://127.0.0.1:{rest_port}", "--log-format", "json", *flags]
    p = Process("articles-graphql", cmd, tmp_path_factory.mktemp("gateway"), port)
    why = p.start(graphql_ready)
    assert why is None, why
    return p


def gql(gw, query, headers=None, variables=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return http_json(gw.port, "POST", "/graphql", body, headers=headers)


def metrics(gw):
    status, _, raw = http_json(gw.port, "GET", "/metrics")
    assert status == 200
    return raw.decode()


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    p = start_rest(tmp_path_factory)
    for i in range(1, 6):
        status, _, _ = http_json(p.port, "PUT", f"/articles/{i}",
                                 {"id": i, "title": f"T{i}", "content": "c", "author": "ada"})
        assert status == 201
    yield p
    assert p.stop() == 0


# ---- limits, each flag set low, then a document just under and just over it ----

LIMITS = [
    # flag, value, within the limit, over it, what the error says
    ("--max-document-bytes", "40", "{ getArticle(id: 1) { id } }",
     "{ getArticle(id: 1) { id title content author } }", "larger than 40 bytes"),
    ("--max-tokens", "12", "{ getArticle(id: 1) { id } }",
     "{ getArticle(id: 1) { id title content author } }", "tokens"),
    ("--max-depth", "2", "{ getArticle(id: 1) { id } }",
     "{ getArticle(id: 1) { id } __schema { types { name } } }", "nested more than 2 levels"),
    ("--max-aliases", "2", "{ a: getArticle(id: 1) { id } b: getArticle(id: 2) { id } }",
     "{ a: getArticle(id: 1) { id } b: getArticle(id: 2) { id } c: getArticle(id: 3) { id } }",
     "aliases"),
    ("--max-root-fields", "2", "{ a: getArticle(id: 1) { id } b: getArticle(id: 2) { id } }",
     "{ a: getArticle(id: 1) { id } b: getArticle(id: 2) { id } c: getArticle(id: 3) { id } }",
     "root fields"),
]


@pytest.mark.parametrize("flag,value,ok,over,says", LIMITS, ids=[l[0] for l in LIMITS])
def test_limit_flag(rest, tmp_path_factory, flag, value, ok, over, says):
    gw = start_gateway(tmp_path_factory, rest.port, flag, value)
    try:
        status, body, _ = gql(gw, ok)
        assert status == 200 and "errors" not in body and body["data"], body
        status, body, _ = gql(gw, over, headers={"Accept": "application/graphql-response+json"})
        assert status == 400 and "data" not in body, body
        if says:
            assert says in body["errors"][0]["message"], body
        # Still serving others afterwards.
        status, body, _ = gql(gw, ok)
        assert status == 200 and body["data"], body
    finally:
        assert gw.stop() == 0


def test_max_depth_counts_nesting(rest, tmp_path_factory):
    gw = start_gateway(tmp_path_factory, rest.port, "--max-depth", "2")
    try:
        status, body, _ = gql(gw, "{ getArticle(id: 1) { id } }")
        assert status == 200 and body["data"]["getArticle"] == {"id": "1"}, body
        # Each definition is shallow enough for the parser; spread together they are not.
        deep = ("{ __schema { ...S } } fragment S on __Schema { types { ...T } }"
                " fragment T on __Type { fields { name } }")
        status, body, _ = gql(gw, deep, headers={"Accept": "application/graphql-response+json"})
        assert status == 400, body
        assert "nested deeper than the limit of 2 levels" in body["errors"][0]["message"], body
    finally:
        assert gw.stop() == 0


def test_max_list_items(rest, tmp_path_factory):
    gw = start_gateway(tmp_path_factory, rest.port, "--max-list-items", "3")
    try:
        status, body, _ = gql(gw, "{ getArticles(limit: 3) { id } }")
        assert status == 200 and len(body["data"]["getArticles"]) == 3, body
        status, body, _ = gql(gw, "{ getArticles(limit: 5) { id } }")
        assert status == 200 and body["data"] is None, body
        err = body["errors"][0]
        assert err["path"] == ["getArticles"] and "more than 3 items" in err["message"], body
    finally:
        assert gw.stop() == 0


def test_introspection_and_playground_off(rest, tmp_path_factory):
    gw = start_gateway(tmp_path_factory, rest.port, "--introspection", "off", "--playground", "off")
    try:
        status, body, _ = gql(gw, "{ __schema { queryType { name } } }")
        assert body.get("errors") and body.get("data") is None, body
        status, _, raw = http_json(gw.port, "GET", "/graphql", headers={"Accept": "text/html"})
        assert b"graphiql" not in raw.lower()
    finally:
        assert gw.stop() == 0


def test_one_server_thread_per_core_by_default(rest, tmp_path_factory):
    """No request holds a thread while it waits for the REST core, so the default is one
    server thread per core; --threads sets another number."""
    cores = os.sysconf("SC_NPROCESSORS_ONLN")
    for flags, threads in (((), cores), (("--threads", "3"), 3)):
        gw = start_gateway(tmp_path_factory, rest.port, *flags)
        try:
            assert f"with {threads} threads" in gw.log_tail(), gw.log_tail()
        finally:
            assert gw.stop() == 0


def test_environment_proxy_not_used_for_the_rest_core(rest, tmp_path_factory, monkeypatch):
    """A proxy in the environment (meant for a person's own traffic) does not take the calls to
    the REST core elsewhere: here it points at a closed port, and queries still work."""
    closed = free_port()
    for name in ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    gw = start_gateway(tmp_path_factory, rest.port)
    try:
        status, body, _ = gql(gw, '{ getArticle(id: "1") { id title } }')
        assert status == 200 and body == {"data": {"getArticle": {"id": "1", "title": "T1"}}}, body
        status, _, _ = http_json(gw.port, "GET", "/health")
        assert status == 200
    finally:
        assert gw.stop() == 0


# ---- the REST core stopped mid-test ----

def test_rest_core_stopped_and_back(tmp_path_factory):
    port = free_port()
    rest = start_rest(tmp_path_factory, port)
    gw = start_gateway(tmp_path_factory, port, "--upstream-timeout-ms", "2000")
    try:
        status, _, _ = http_json(port, "PUT", "/articles/1", {"id": 1, "title": "kept", "content": ""})
        assert status == 201
        status, body, _ = gql(gw, '{ getArticle(id: "1") { title } }')
        assert body == {"data": {"getArticle": {"title": "kept"}}}, body

        assert rest.stop() == 0
        # Down: an error with the contract's code, quickly, for every query; never a hang.
        for _ in range(8):
            t0 = time.time()
            status, body, _ = gql(gw, '{ getArticle(id: "1") { title } }')
            assert time.time() - t0 < 5
            assert status == 200 and body["data"] == {"getArticle": None}, body
            assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", body
            assert body["errors"][0]["path"] == ["getArticle"], body
        status, body, _ = gql(gw, 'mutation { createArticle(input: {title: "x"}) { id } }')
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", body
        status, body, _ = http_json(gw.port, "GET", "/health")
        assert status == 503
        text = metrics(gw)
        assert re.search(r'^upstream_requests_total\{method="GET",outcome="connect_error"\} \d',
                         text, re.M), text
        # Enough failures open the breaker: later calls are refused without trying.
        assert "upstream_breaker_state 1" in text, text
        assert 'outcome="breaker_open"' in text, text

        rest = start_rest(tmp_path_factory, port)
        deadline = time.time() + 15
        while True:
            status, body, _ = gql(gw, '{ getArticles { id } }')
            if "errors" not in body:
                break
            assert time.time() < deadline, body
            time.sleep(0.2)
        assert status == 200 and body == {"data": {"getArticles": []}}, body  # a new database
        assert gw.alive()
        assert "upstream_breaker_state 0" in metrics(gw)
    finally:
        assert gw.stop() == 0
        rest.stop()


# ---- one trace id in both logs, and the upstream metrics ----

class SlowWrites(http.server.BaseHTTPRequestHandler):
    """A REST core stand-in: reads answer at once, a write after 2 s, /health after 1.5 s."""
    protocol_version = "HTTP/1.1"

    def answer(self, status, article):
        body = json.dumps(article).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            time.sleep(1.5)
            return self.answer(200, {"status": "ok"})
        n = int(self.path.rsplit("/", 1)[-1])
        self.answer(200, {"id": n, "title": f"t{n}", "content": "", "author": None,
                          "created_at": "2026-01-01T00:00:00.000Z",
                          "updated_at": "2026-01-01T00:00:00.000Z"})

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(2)
        self.answer(201, {"id": 77, "title": "slow", "content": "", "author": None,
                          "created_at": "2026-01-01T00:00:00.000Z",
                          "updated_at": "2026-01-01T00:00:00.000Z"})

    def log_message(self, *args):
        pass


def test_a_slow_write_holds_no_server_thread(tmp_path_factory):
    """With one server thread, a mutation waiting 2 s for its write does not hold it: queries
    sent meanwhile are answered at once, and the mutation then gets its article."""
    rest = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowWrites)
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    gw = start_gateway(tmp_path_factory, rest.server_address[1], "--threads", "1")
    done = {}
    writing = threading.Thread(target=lambda: done.update(
        r=gql(gw, 'mutation { createArticle(input: {title: "slow"}) { id title } }'),
        at=time.time()))
    try:
        t0 = time.time()
        writing.start()
        time.sleep(0.3)
        for i in range(1, 4):
            t = time.time()
            status, body, _ = gql(gw, f'{{ getArticle(id: "{i}") {{ title }} }}')
            assert body == {"data": {"getArticle": {"title": f"t{i}"}}}, body
            assert time.time() - t < 1, "a query waited for the mutation's write"
        assert writing.is_alive()
        writing.join(10)
        status, body, _ = done["r"]
        assert body == {"data": {"createArticle": {"id": "77", "title": "slow"}}}, body
        assert done["at"] - t0 >= 2
    finally:
        assert gw.stop() == 0
        rest.shutdown()


def test_a_slow_health_check_holds_no_server_thread(tmp_path_factory):
    """With one server thread, /health waiting 1.5 s for the REST core's does not hold it."""
    rest = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowWrites)
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    gw = start_gateway(tmp_path_factory, rest.server_address[1], "--threads", "1")
    done = {}
    probing = threading.Thread(target=lambda: done.update(r=http_json(gw.port, "GET", "/health")))
    try:
        probing.start()
        time.sleep(0.3)
        t = time.time()
        status, body, _ = gql(gw, "{ __typename }")
        assert body == {"data": {"__typename": "Query"}}, body
        assert time.time() - t < 0.5, "a query waited for the health check"
        assert probing.is_alive()
        probing.join(10)
        status, body, _ = done["r"]
        assert status == 200 and body == {"status": "ok", "rest": "ok"}, body
    finally:
        assert gw.stop() == 0
        rest.shutdown()


def test_stop_while_the_rest_core_hangs(tmp_path_factory):
    """SIGTERM with a query waiting for a REST core that accepted the call and never answers:
    after the 10 s grace the call is cut short, the client gets UPSTREAM_UNAVAILABLE, and the
    gateway exits 0 (libmicrohttpd aborts a process stopped with a request still suspended)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    gw = start_gateway(tmp_path_factory, listener.getsockname()[1], "--upstream-timeout-ms", "60000")
    answer = {}
    asking = threading.Thread(target=lambda: answer.update(
        r=gql(gw, '{ getArticle(id: "1") { title } }')))
    try:
        asking.start()
        deadline = time.time() + 5
        while not held and time.time() < deadline:
            time.sleep(0.05)
        assert held, "the gateway never called the REST core"
        time.sleep(0.3)
        t0 = time.time()
        assert gw.stop(timeout=30) == 0, gw.log_tail()
        assert 9 <= time.time() - t0 < 20
        asking.join(5)
        status, body, _ = answer["r"]
        assert status == 200 and body["data"] == {"getArticle": None}, body
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", body
        assert "answered UPSTREAM_UNAVAILABLE" in gw.log_tail(50)
    finally:
        stop.set()
        gw.stop()
        for c in held:
            c.close()
        listener.close()


def log_lines(proc):
    out = []
    for line in (proc.workdir / "stderr.log").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def test_trace_id_reaches_the_rest_core(rest, tmp_path_factory):
    gw = start_gateway(tmp_path_factory, rest.port)
    try:
        trace = os.urandom(16).hex()
        tp = f"00-{trace}-{os.urandom(8).hex()}-01"
        status, body, _ = gql(gw, '{ getArticle(id: "2") { id } }', headers={"traceparent": tp})
        assert body == {"data": {"getArticle": {"id": "2"}}}
        # Without one, the gateway makes one and both logs carry it.
        status, body, _ = gql(gw, '{ getArticle(id: "3") { id } }')
        assert body == {"data": {"getArticle": {"id": "3"}}}
        time.sleep(0.2)
        gw_lines = [l for l in log_lines(gw) if l.get("route") == "/graphql"]
        rest_lines = [l for l in log_lines(rest) if l.get("route") == "/articles/{id}"]
        assert any(l.get("trace_id") == trace for l in gw_lines), gw_lines
        assert any(l.get("trace_id") == trace for l in rest_lines), rest_lines
        made = gw_lines[-1]["trace_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made) and made != trace
        assert any(l.get("trace_id") == made and l.get("path") == "/articles/3" for l in rest_lines)

        text = metrics(gw)
        assert re.search(r'^upstream_requests_total\{method="GET",outcome="200"\} [1-9]', text, re.M)
        assert re.search(r'^upstream_request_duration_seconds_count\{method="GET"\} [1-9]', text, re.M)
        assert "upstream_breaker_state 0" in text
    finally:
        assert gw.stop() == 0


def test_authorization_passes_through_to_the_rest_core(tmp_path_factory):
    """With a REST core that wants a token for writes, a mutation works with the client's
    Authorization header and is refused (UNAUTHENTICATED) without it; reads stay open."""
    import secrets
    token = "gql-" + secrets.token_hex(16)
    port = free_port()
    work = tmp_path_factory.mktemp("rest-auth")
    cmd = [str(bin_dir() / "articles-rest"), "--port", str(port), "--database-url",
           f"sqlite:{work}/a.db", "--api-tokens", token]
    rest = Process("articles-rest", cmd, work, port)
    assert rest.start(rest_ready) is None
    gw = start_gateway(tmp_path_factory, port)
    try:
        m = 'mutation { createArticle(input: {title: "t"}) { id title } }'
        status, body, _ = gql(gw, m)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
        assert token not in json.dumps(body)
        status, body, _ = gql(gw, m, headers={"Authorization": f"Bearer {token}"})
        assert body == {"data": {"createArticle": {"id": "1", "title": "t"}}}, body
        status, body, _ = gql(gw, '{ getArticle(id: "1") { title } }')
        assert body == {"data": {"getArticle": {"title": "t"}}}, body
    finally:
        assert gw.stop() == 0
        assert rest.stop() == 0


def raw_request(port, method, path, headers, body=None):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def test_cors(rest, tmp_path_factory):
    ok = "https://app.example.com"
    gw = start_gateway(tmp_path_factory, rest.port, "--cors-origins", f"{ok}, http://localhost:3000")
    try:
        q = json.dumps({"query": '{ getArticle(id: "1") { id } }'})
        # An allowed origin's request (answered after the REST call) carries the headers.
        status, h, body = raw_request(gw.port, "POST", "/graphql",
                                      {"Origin": ok, "Content-Type": "application/json"}, q)
        assert status == 200 and json.loads(body)["data"]["getArticle"] == {"id": "1"}
        assert h.get("access-control-allow-origin") == ok and "Origin" in h.get("vary", "")
        # Preflight of an allowed origin.
        status, h, _ = raw_request(gw.port, "OPTIONS", "/graphql",
                                   {"Origin": ok, "Access-Control-Request-Method": "POST",
                                    "Access-Control-Request-Headers": "content-type, authorization"})
        assert status == 204, status
        assert h["access-control-allow-origin"] == ok
        assert "POST" in h["access-control-allow-methods"]
        assert "Authorization" in h["access-control-allow-headers"]
        assert int(h["access-control-max-age"]) > 0
        # Another origin gets no CORS headers, so its browser refuses the answer.
        for method, body in (("POST", q), ("OPTIONS", None)):
            status, h, _ = raw_request(gw.port, method, "/graphql",
                                       {"Origin": "https://evil.example", "Content-Type": "application/json",
                                        "Access-Control-Request-Method": "POST"}, body)
            assert not any(k.startswith("access-control-") for k in h), h
    finally:
        assert gw.stop() == 0
    # Without the flag no origin is allowed; a malformed origin is refused at start.
    gw = start_gateway(tmp_path_factory, rest.port)
    try:
        status, h, _ = raw_request(gw.port, "OPTIONS", "/graphql", {"Origin": ok})
        assert status == 204 and "access-control-allow-origin" not in h
    finally:
        assert gw.stop() == 0
    r = subprocess.run([str(bin_dir() / "articles-graphql"), "--cors-origins", "app.example.com"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--cors-origins" in r.stderr and len(r.stderr.strip().splitlines()) == 1

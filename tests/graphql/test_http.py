"""GraphQL over HTTP at the gateway's edge: methods, media types, statuses,
/health and /metrics (the differential suite covers GraphQL semantics)."""
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import GraphQLServer, gateway_command, free_port, http_json

QUERY = "{ getArticle(id: \"1\") { id title } }"


def get(gateway, params, headers=None):
    gateway.ensure()
    return http_json(gateway.process.port, "GET", "/graphql?" + urllib.parse.urlencode(params),
                     headers=headers)


def post(gateway, body, headers=None):
    gateway.ensure()
    return http_json(gateway.process.port, "POST", "/graphql", body, headers=headers)


def test_get_runs_queries(gateway, rest_core):
    rest_core.reset()
    status, body, _ = get(gateway, {"query": QUERY})
    assert status == 200 and body["data"]["getArticle"]["id"] == "1", body


def test_mutation_over_get_is_405(gateway):
    gateway.ensure()
    q = urllib.parse.urlencode({"query": "mutation { deleteArticle(id: \"1\") }"})
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", gateway.process.port, timeout=10)
    conn.request("GET", "/graphql?" + q, headers={"Accept": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 405 and r.getheader("Allow") == "POST"


def test_status_depends_on_media_type(gateway):
    gr = {"Accept": "application/graphql-response+json"}
    status, body, _ = post(gateway, {"query": "{ getArticle("}, headers=gr)
    assert status == 400 and body["errors"][0]["locations"], body
    status, body, _ = post(gateway, {"query": "{ nope }"}, headers=gr)
    assert status == 400 and "nope" in body["errors"][0]["message"], body
    status, body, _ = post(gateway, {"query": "{ getArticle( }"})
    assert status == 200 and "errors" in body, body
    status, _, _ = post(gateway, {"query": QUERY}, headers=gr)
    assert status == 200


def test_request_errors(gateway):
    status, _, _ = post(gateway, {"query": QUERY}, headers={"Accept": "text/html"})
    assert status == 406
    status, body, _ = post(gateway, {"query": 1}, headers={"Accept": "application/graphql-response+json"})
    assert status == 400 and body["errors"], body
    status, _, _ = post(gateway, {"query": QUERY}, headers={"Content-Type": "text/plain"})
    assert status == 415
    gateway.ensure()
    status, _, _ = http_json(gateway.process.port, "PUT", "/graphql", {"query": QUERY})
    assert status == 405
    status, _, _ = http_json(gateway.process.port, "GET", "/nowhere")
    assert status == 404


def test_health_and_metrics(gateway):
    gateway.ensure()
    status, body, _ = http_json(gateway.process.port, "GET", "/health")
    assert status == 200 and body == {"status": "ok", "rest": "ok"}
    post(gateway, {"query": "query Named { getArticles(limit: 1) { id } }"})
    status, _, raw = http_json(gateway.process.port, "GET", "/metrics")
    text = raw.decode()
    assert status == 200
    assert 'graphql_operations_total{type="query",name="Named"}' in text
    assert 'graphql_operation_duration_seconds_count{type="query",name="Named"}' in text
    assert "upstream_breaker_state 0" in text
    assert 'http_requests_total{method="POST",route="/graphql",status="200"}' in text
    if not shutil.which("promtool"):
        pytest.fail("promtool is missing: install Debian's prometheus package (make deps)")
    r = subprocess.run(["promtool", "check", "metrics"], input=raw, capture_output=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r


def test_health_when_rest_core_is_down(tmp_path_factory):
    url = f"http://127.0.0.1:{free_port()}"
    g = GraphQLServer("gateway", gateway_command, url, tmp_path_factory)
    try:
        g.ensure()
        status, body, _ = http_json(g.process.port, "GET", "/health")
        assert status == 503 and body["rest"] == "unreachable", body
        status, body, _ = http_json(g.process.port, "POST", "/graphql", {"query": QUERY})
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", body
    finally:
        assert g.stop() in (None, 0)


def test_help_and_bad_flags():
    from conftest import bin_dir
    binary = str(bin_dir() / "articles-graphql")
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for flag, env in (("--port", "PORT"), ("--rest-api-url", "REST_API_URL"),
                      ("--max-depth", "MAX_DEPTH"), ("--introspection", "INTROSPECTION")):
        assert flag in r.stdout and env in r.stdout
    r = subprocess.run([binary, "--max-depth", "0"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1

"""Operations: /health, /metrics, /openapi.json and the JSON log."""
import json
import shutil
import subprocess
import time

import pytest
import yaml

from helpers import (OPENAPI_YAML, assert_json_response, media_type, parse_metrics, sample_value)

ROUTE_LABELS = {"/articles", "/articles/{id}", "/articles/bulk", "/health", "/metrics",
                "/openapi.json", "unmatched"}


def test_health(client):
    r = client.get("/health")
    assert assert_json_response(r, 200) == {"status": "ok"}
    h = client.head("/health")
    assert h.status == 200 and h.body == b""


def test_openapi_json_is_the_yaml_document(client):
    r = client.get("/openapi.json")
    served = assert_json_response(r, 200)
    with open(OPENAPI_YAML, encoding="utf-8") as f:
        assert served == yaml.safe_load(f)
    h = client.head("/openapi.json")
    assert h.status == 200 and h.body == b""
    if h.header("Content-Length") is not None:
        assert int(h.header("Content-Length")) == len(r.body)


def scrape(client):
    r = client.get("/metrics")
    assert r.status == 200, r
    ct = r.header("Content-Type") or ""
    assert media_type(ct) == "text/plain", ct
    assert "version=0.0.4" in ct.replace(" ", ""), ct
    return r.body.decode("utf-8")


FAMILIES = {
    "http_requests_total": "counter",
    "http_request_duration_seconds": "histogram",
    "articles_stored": "gauge",
    "db_errors_total": "counter",
    "articles_build_info": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}


def makefile_version():
    from helpers import REPO_ROOT
    for line in (REPO_ROOT / "Makefile").read_text().splitlines():
        if line.startswith("VERSION"):
            return line.split("=", 1)[1].strip()
    raise AssertionError("no VERSION in the Makefile")


def test_metrics_families_and_process_metrics(fresh_server):
    c = fresh_server.client
    text = scrape(c)
    types, helps, samples = parse_metrics(text)
    for name, typ in FAMILIES.items():
        assert types.get(name) == typ, f"# TYPE {name} {typ} missing (got {types.get(name)!r})"
        assert helps.get(name), f"# HELP {name} missing"
    assert sample_value(samples, "articles_build_info", program="articles-rest",
                        version=makefile_version()) == 1
    assert sample_value(samples, "articles_stored") == 0
    assert sample_value(samples, "process_open_fds") > 0
    assert sample_value(samples, "process_max_fds") > sample_value(samples, "process_open_fds")
    assert sample_value(samples, "process_resident_memory_bytes") > 1024 * 1024
    assert sample_value(samples, "process_virtual_memory_bytes") >= sample_value(samples, "process_resident_memory_bytes")
    assert sample_value(samples, "process_cpu_seconds_total") >= 0
    start = sample_value(samples, "process_start_time_seconds")
    assert abs(start - fresh_server.started_at) < 30, (start, fresh_server.started_at)
    for n, labels, _ in samples:
        if n == "db_errors_total":
            assert set(labels) == {"operation"}, labels


def test_metrics_count_requests_by_route_template(fresh_server):
    c = fresh_server.client
    a = c.create("m1")
    b = c.create("m2")
    for _ in range(3):
        assert c.get(f"/articles/{a['id']}").status == 200
    assert c.get(f"/articles/{b['id']}").status == 200
    assert c.get(f"/articles/{a['id'] + 1000}").status == 404
    assert c.patch(f"/articles/{a['id']}", {"title": "m1b"}).status == 200
    assert c.put(f"/articles/{b['id']}", {"title": "m2b"}).status == 200
    assert c.delete(f"/articles/{b['id']}").status == 204
    assert c.get("/articles?limit=1").status == 200
    assert c.post("/articles/bulk", []).status == 200
    assert c.get("/nope/12345").status == 404
    assert c.get("/articles/12345/comments").status == 404
    assert c.delete("/articles").status == 405
    assert c.get("/openapi.json").status == 200
    assert c.get("/articles/abc").status == 400
    text = scrape(c)
    types, _, samples = parse_metrics(text)
    req = [(labels, v) for n, labels, v in samples if n == "http_requests_total"]
    assert req, "no http_requests_total samples"
    for labels, _ in req:
        assert set(labels) == {"method", "route", "status"}, labels
        assert labels["route"] in ROUTE_LABELS, f"raw path in a route label: {labels}"
        assert labels["status"].isdigit() and len(labels["status"]) == 3, labels

    def count(method, route, status):
        return sample_value(samples, "http_requests_total", method=method, route=route, status=str(status))

    assert count("GET", "/articles/{id}", 200) == 4
    assert count("GET", "/articles/{id}", 404) == 1
    assert count("POST", "/articles", 201) == 2
    assert count("PATCH", "/articles/{id}", 200) == 1
    assert count("PUT", "/articles/{id}", 200) == 1
    assert count("DELETE", "/articles/{id}", 204) == 1
    assert count("GET", "/articles", 200) == 1
    assert count("POST", "/articles/bulk", 200) == 1
    assert count("GET", "unmatched", 404) == 2
    assert count("DELETE", "/articles", 405) == 1
    assert count("GET", "/openapi.json", 200) == 1
    assert count("GET", "/health", 200) >= 1  # the start-up probe

    # the histogram has the same labels and agrees with the counter
    lbl = {"method": "GET", "route": "/articles/{id}", "status": "200"}
    assert sample_value(samples, "http_request_duration_seconds_count", **lbl) == 4
    assert sample_value(samples, "http_request_duration_seconds_sum", **lbl) > 0
    buckets = sorted(((float(l["le"]), v) for n, l, v in samples
                      if n == "http_request_duration_seconds_bucket"
                      and all(l.get(k) == x for k, x in lbl.items())), key=lambda x: x[0])
    assert buckets and buckets[-1][0] == float("inf") and buckets[-1][1] == 4
    assert all(x[1] <= y[1] for x, y in zip(buckets, buckets[1:])), "buckets must be cumulative"
    for n, labels, _ in samples:
        if n.startswith("http_request_duration_seconds"):
            assert labels["route"] in ROUTE_LABELS, labels

    # the scrape itself is counted by the next scrape
    _, _, samples2 = parse_metrics(scrape(c))
    assert sample_value(samples2, "http_requests_total", method="GET", route="/metrics", status="200") >= 1
    assert sample_value(samples2, "articles_stored") == 1


def test_articles_stored_gauge_follows_the_data(fresh_server):
    c = fresh_server.client
    ids = [c.create(f"g{i}")["id"] for i in range(3)]
    _, _, s = parse_metrics(scrape(c))
    assert sample_value(s, "articles_stored") == 3
    c.delete(f"/articles/{ids[0]}")
    c.post("/articles/bulk", [{"op": "upsert", "article": {"id": 10**6, "title": "b"}},
                              {"op": "upsert", "article": {"id": 10**6 + 1, "title": "b"}}])
    _, _, s = parse_metrics(scrape(c))
    assert sample_value(s, "articles_stored") == 4


def test_metrics_pass_promtool(fresh_server):
    c = fresh_server.client
    c.create("promtool")
    c.get("/nope")
    c.get("/articles/abc")
    text = scrape(c)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not on PATH: install Debian's prometheus package "
                    "(apt-get install prometheus) to check the /metrics output")
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert r.returncode == 0, f"promtool check metrics failed:\n{r.stdout.decode()}{r.stderr.decode()}"
    h = c.head("/metrics")
    assert h.status == 200 and h.body == b""


def test_log_lines_are_json(server_factory):
    s = server_factory.start()
    c = s.client
    c.create("log me")
    c.get("/articles/abc")
    c.get("/nope")
    c.post("/articles", b"{")
    c.get("/nope%22%0A%5C%01%FF%E2%80%A8x")  # quote, newline, backslash, control, bad UTF-8, U+2028
    c.get("/articles?%22%0A=1")
    assert s.stop() == 0
    out, err = s.logs()
    lines = [l for l in (out + err).split("\n") if l.strip()]  # not splitlines(): U+2028 is no line end
    assert lines, "the server logged nothing at all (not even its start)"
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError(f"--log-format json, but this log line is not JSON: {line!r}") from None
        assert isinstance(obj, dict), line


def test_sigint_is_graceful(server_factory):
    import signal
    s = server_factory.start()
    s.client.create("x")
    assert s.stop(signal.SIGINT) == 0


def test_sigterm_during_idle_keepalive_connection(server_factory):
    """An idle keep-alive connection must not stop a graceful exit."""
    import http.client
    import signal
    s = server_factory.start()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/health")
    conn.getresponse().read()
    t0 = time.time()
    try:
        assert s.stop(signal.SIGTERM) == 0
    finally:
        conn.close()
    assert time.time() - t0 < 10


@pytest.mark.pg_only
def test_database_password_is_not_logged(server_factory, backend):
    import urllib.parse
    url = server_factory.new_db_url()
    parts = urllib.parse.urlsplit(url)
    secret = "s3cret-Pw-" + str(int(time.time()))
    netloc = f"{parts.username}:{secret}@{parts.hostname}:{parts.port}"
    s = server_factory.start(db_url=urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    s.client.create("x")
    s.client.get("/health")
    assert s.stop() == 0
    out, err = s.logs()
    assert secret not in out + err, "the database password appears in the log"

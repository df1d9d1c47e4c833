"""A real Prometheus, started with the project's prometheus.yml (targets and
intervals rewritten to the test's ports and to one second), scrapes the REST
core: the target is up, the key series carry the expected labels, and the
recording rules produce values."""
import os
import pathlib
import shutil
import subprocess
import time
import urllib.request

import pytest
import yaml

from conftest import free_port
from helpers import prometheus_query

ROOT = pathlib.Path(__file__).resolve().parents[2]


def prometheus_config(rest_port, workdir):
    cfg = yaml.safe_load((ROOT / "prometheus.yml").read_text())
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["rule_files"] = [str(ROOT / f) for f in cfg["rule_files"]]
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert set(jobs) == {"articles-rest", "articles-graphql", "articles-sync"}
    jobs["articles-rest"]["static_configs"] = [{"targets": [f"127.0.0.1:{rest_port}"]}]
    # Only the REST core exists yet; the other jobs stay, aimed nowhere.
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def wait_for(port, expr, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = prometheus_query(port, expr)
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"Prometheus had no data for {expr} after {timeout}s")


@pytest.fixture
def prometheus(fresh_server, tmp_path):
    binary = shutil.which("prometheus")
    if not binary:
        pytest.fail("prometheus is missing: install Debian's prometheus package (make deps)")
    port = free_port()
    cfg = prometheus_config(fresh_server.port, tmp_path)
    log = open(tmp_path / "prometheus.log", "w")
    proc = subprocess.Popen([binary, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("Prometheus did not start:\n" + (tmp_path / "prometheus.log").read_text()[-3000:])
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def test_prometheus_scrapes_the_rest_core(fresh_server, prometheus):
    c = fresh_server.client
    up = wait_for(prometheus, 'up{job="articles-rest"} == 1')
    # Traffic between scrapes, so that rates see the counters move.
    art = c.create("scraped")
    for _ in range(3):
        for _ in range(10):
            c.get(f"/articles/{art['id']}")
            c.get("/articles?limit=5")
            c.get("/articles/999999")
        time.sleep(1)
    assert up[0]["metric"]["job"] == "articles-rest"
    series = wait_for(prometheus, 'http_requests_total{job="articles-rest",route="/articles/{id}",status="404"}')
    assert series[0]["metric"]["method"] == "GET"
    routes = {r["metric"]["route"] for r in prometheus_query(prometheus, 'http_requests_total{job="articles-rest"}')}
    assert routes <= {"/articles", "/articles/{id}", "/articles/bulk", "/health", "/metrics",
                      "/openapi.json", "unmatched"}, routes
    for name in ("articles_stored", "articles_build_info", "process_resident_memory_bytes",
                 "process_cpu_seconds_total", "http_request_duration_seconds_bucket"):
        wait_for(prometheus, f'{name}{{job="articles-rest"}}')
    # The recording rules produce values once two scrapes are in.
    rate = wait_for(prometheus, 'job_route:http_requests:rate5m{job="articles-rest",route="/articles/{id}"} > 0')
    assert float(rate[0]["value"][1]) > 0
    wait_for(prometheus, 'job:http_request_duration_seconds:p99_5m{job="articles-rest"}')
    ratio = wait_for(prometheus, 'job:http_request_errors:ratio_rate5m{job="articles-rest"}')
    assert float(ratio[0]["value"][1]) == 0
    down = wait_for(prometheus, 'up{job="articles-graphql"} == 0')
    assert down

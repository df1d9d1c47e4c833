"""The platform as it is monitored: the REST core (SQLite), the GraphQL gateway in front of it and
the sync daemon (`run --follow`, direct transport from a SQLite source) run on free ports, and a
real Prometheus (Debian's package) scrapes them with the project's prometheus.yml (only the three
target addresses rewritten, and the intervals shortened to one second) and evaluates the rules
of prometheus/rules.yml. After some traffic of every kind:

- every target is up, the key series carry the expected labels, the recording rules produce
  values, and the dead-letter alert fires;
- every /metrics page passes `promtool check metrics`;
- every PromQL expression of the Grafana dashboard (grafana/dashboards/articles.json), with its
  variables substituted as Grafana would, parses and returns data from that Prometheus, and
  every panel uses the provisioned datasource (uid "prometheus").

Grafana itself is not in Debian, so the dashboard is checked through its queries.
A missing prometheus or promtool FAILS the module; it is never skipped.
"""
import copy
import json
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

from conftest import Server, bin_dir, free_port
from helpers import REPO_ROOT, Client

JOBS = ("articles-rest", "articles-graphql", "articles-sync")
DASHBOARD = REPO_ROOT / "grafana" / "dashboards" / "articles.json"
PROVISIONING = REPO_ROOT / "grafana" / "provisioning"
WAIT = 60  # seconds any one expectation may take to show up in Prometheus (the machine may be busy)

# Route templates of the REST core: a raw path (/articles/123) must never become a label value.
REST_ROUTES = {"/articles", "/articles/{id}", "/articles/bulk", "/health", "/metrics", "/openapi.json",
               "unmatched"}
GRAPHQL_JSON = "application/graphql-response+json"


# -------------------------------------------------------------------------------- processes
def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: install Debian's prometheus package (make deps); "
                    "this test needs the real Prometheus and promtool", pytrace=False)
    return path


def program(name):
    path = os.path.join(bin_dir(), name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable: build it with `make` "
                    "(or point ARTICLES_BIN at the folder that holds it)", pytrace=False)
    return path


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class Proc:
    """A program on a free port: started until its ready URL answers 200 (another port when it
    exits at start, the port having been taken in between), stopped with SIGTERM."""

    def __init__(self, name, workdir, command_for, ready_path, env=None):
        self.name, self.workdir, self.command_for, self.ready_path = name, workdir, command_for, ready_path
        self.env = env
        self.proc = None
        self.port = None

    def log_tail(self, n=30):
        try:
            lines = (self.workdir / f"{self.name}.log").read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-n:])

    def start(self, timeout=30):
        for _ in range(3):
            self.port = free_port()
            cmd = self.command_for(self.port)
            with open(self.workdir / f"{self.name}.log", "ab") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.workdir, env=self.env)
            deadline = time.time() + timeout
            while time.time() < deadline and self.proc.poll() is None:
                if http_status(f"http://127.0.0.1:{self.port}{self.ready_path}") == 200:
                    return self
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"{self.name} did not answer GET {self.ready_path} with 200 within {timeout}s: "
                            f"{' '.join(cmd)}\n{self.log_tail()}", pytrace=False)
        pytest.fail(f"{self.name} exited at start ({self.proc.returncode}): {' '.join(cmd)}\n{self.log_tail()}",
                    pytrace=False)

    def stop(self, timeout=20):
        """Exit status after SIGTERM (None when it never ran); a hang is killed and reported."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return f"hung for {timeout}s after SIGTERM"
        return self.proc.returncode


class SourceDB:
    """Base A of the sync daemon: a SQLite file with an `articles` table as an application has it."""

    def __init__(self, path):
        self.path = path
        self.url = f"sqlite:{path}"
        self.exec("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, content TEXT, author TEXT, "
                  "created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT)")

    def exec(self, sql, rows=None):
        c = sqlite3.connect(self.path, timeout=30)
        try:
            if rows is None:
                c.executescript(sql)
            else:
                c.executemany(sql, rows)
            c.commit()
        finally:
            c.close()

    def insert(self, rows):
        self.exec("INSERT INTO articles (id, title, content, author) VALUES (?, ?, ?, ?)", rows)


# -------------------------------------------------------------------------------- Prometheus
def prometheus_config(ports, workdir):
    """The project's prometheus.yml with the three targets on our ports and 1s intervals; the rule
    files by absolute path. Nothing else changes."""
    original = yaml.safe_load((REPO_ROOT / "prometheus.yml").read_text())
    cfg = copy.deepcopy(original)
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["rule_files"] = [str(REPO_ROOT / f) for f in original["rule_files"]]
    assert str(REPO_ROOT / "prometheus" / "rules.yml") in cfg["rule_files"], cfg["rule_files"]
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert sorted(jobs) == sorted(JOBS), f"prometheus.yml scrapes {sorted(jobs)}, expected {sorted(JOBS)}"
    for name, job in jobs.items():
        assert len(job["static_configs"]) == 1 and len(job["static_configs"][0]["targets"]) == 1, job
        job["static_configs"][0]["targets"] = [f"127.0.0.1:{ports[name]}"]
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    check = subprocess.run([tool("promtool"), "check", "config", str(path)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, f"promtool check config:\n{check.stdout}{check.stderr}"
    return path


class Prometheus:
    def __init__(self, port, proc, log_path):
        self.port, self.proc, self.log_path = port, proc, log_path

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        return body

    def query(self, expr):
        """The result of an instant query; a query Prometheus refuses fails the test."""
        body = self.api("query", query=expr)
        assert body.get("status") == "success", f"Prometheus refused {expr!r}: {body}"
        return body["data"]["result"]

    def wait_for(self, expr, timeout=WAIT, what=None):
        deadline = time.time() + timeout
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.time() > deadline:
                pytest.fail(f"Prometheus had no data for {what or expr} after {timeout}s "
                            f"(query: {expr})", pytrace=False)
            time.sleep(0.5)

    def log_tail(self, n=30):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def value(sample):
    return float(sample["value"][1])


# -------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The three programs and Prometheus scraping them; everything stopped at the end, and each
    program must exit 0 on SIGTERM."""
    prometheus_bin, promtool_bin = tool("prometheus"), tool("promtool")
    rest_bin, graphql_bin, sync_bin = (program(p) for p in JOBS)
    work = tmp_path_factory.mktemp("observability")
    stopped = []
    prom = None
    try:
        rest_dir = work / "rest"
        rest_dir.mkdir()
        rest = Server("sqlite", f"sqlite:{rest_dir}/articles.db", rest_dir).start()
        stopped.append(("articles-rest", rest))
        rest_url = f"http://127.0.0.1:{rest.port}"

        gateway = Proc("articles-graphql", work, lambda port: [
            graphql_bin, "--host", "127.0.0.1", "--port", str(port), "--rest-api-url", rest_url,
            "--log-format", "json"], "/health")
        stopped.append(("articles-graphql", gateway))
        gateway.start()

        source = SourceDB(work / "source.db")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "SYNC_"))}
        env.update(SOURCE_DATABASE_URL=source.url, REST_API_URL=rest_url, LOG_FORMAT="json")
        r = subprocess.run([sync_bin, "init"], env=env, cwd=work, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"articles-sync init failed ({r.returncode}):\n{r.stdout}{r.stderr}"
        dead_letters = work / "dead-letters.jsonl"
        sync = Proc("articles-sync", work, lambda port: [
            sync_bin, "run", "--follow", "--transport", "direct", "--metrics-port", str(port),
            "--poll-interval-ms", "50", "--dead-letter-file", str(dead_letters)], "/health", env=env)
        stopped.append(("articles-sync", sync))
        sync.start()

        ports = {"articles-rest": rest.port, "articles-graphql": gateway.port, "articles-sync": sync.port}
        cfg = prometheus_config(ports, work)
        prom_port = free_port()
        log_path = work / "prometheus.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([prometheus_bin, f"--config.file={cfg}",
                                     f"--storage.tsdb.path={work / 'prometheus-data'}",
                                     f"--web.listen-address=127.0.0.1:{prom_port}"],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work)
        prom = Prometheus(prom_port, proc, log_path)
        deadline = time.time() + 45
        while http_status(f"http://127.0.0.1:{prom_port}/-/ready") != 200:
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"Prometheus did not become ready:\n{prom.log_tail()}", pytrace=False)
            time.sleep(0.2)

        yield {"rest": rest, "gateway": gateway, "sync": sync, "source": source, "prometheus": prom,
               "dead_letters": dead_letters, "promtool": promtool_bin}
    finally:
        problems = []
        if prom is not None:
            prom.proc.terminate()
            try:
                prom.proc.wait(20)
            except subprocess.TimeoutExpired:
                prom.proc.kill()
                prom.proc.wait()
        for name, p in reversed(stopped):
            if p.proc is not None and p.proc.poll() is not None:
                problems.append(f"{name} died during the test (status {p.proc.returncode}):\n{p.log_tail()}")
                continue
            rc = p.stop()
            if rc not in (0, None):
                problems.append(f"{name} exited {rc} after SIGTERM, expected 0:\n{p.log_tail()}")
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


GOOD_ROWS_PER_ROUND = 5
ROUNDS = 3


@pytest.fixture(scope="module")
def traffic(stack):
    """Requests of every kind, spread over a few scrapes so that rates see the counters move:
    REST writes, reads, 404s (known and unknown route) and a 422; GraphQL named queries, a mutation,
    a validation error and a parse error; rows inserted into the source, two of them poison (a
    NULL title: dead-lettered as bad_type, the second after Prometheus has seen the first)."""
    rest, prom, source = stack["rest"].client, stack["prometheus"], stack["source"]
    gql = Client("127.0.0.1", stack["gateway"].port)

    def graphql(body, accept="application/json", expect=200):
        r = gql.post("/graphql", body, headers={"Accept": accept})
        assert r.status == expect, r
        return r.json()

    prom.wait_for('count(up{job=~"articles-.*"} == 1) == 3', what="the three targets up")
    next_id = 1_000_000
    for round_ in range(ROUNDS):
        r = rest.post("/articles", {"title": f"round {round_}", "content": "c", "author": "ada"})
        assert r.status == 201, r
        art = r.json()
        for _ in range(3):
            assert rest.get(f"/articles/{art['id']}").status == 200
            assert rest.get("/articles?limit=5").status == 200
            assert rest.get("/articles/999999999").status == 404
        assert rest.get("/no/such/route").status == 404
        assert rest.post("/articles", {"title": ""}).status == 422

        d = graphql({"query": "query ListArticles { getArticles(limit: 5) { id title } }",
                     "operationName": "ListArticles"})
        assert "errors" not in d and d["data"]["getArticles"], d
        d = graphql({"query": "query OneArticle($id: ID!) { getArticle(id: $id) { id title author } }",
                     "variables": {"id": str(art["id"])}})
        assert d["data"]["getArticle"]["title"] == f"round {round_}", d
        d = graphql({"query": "mutation CreateViaGraphQL($t: String!) { createArticle(input: {title: $t}) { id } }",
                     "variables": {"t": f"gql {round_}"}})
        assert "errors" not in d, d
        d = graphql({"query": "query Broken { noSuchField }"}, accept=GRAPHQL_JSON, expect=400)
        assert d["errors"], d
        d = graphql({"query": "query Unfinished { "})
        assert d["errors"], d

        rows = [(next_id + i, f"source {round_}.{i}", "c", None) for i in range(GOOD_ROWS_PER_ROUND)]
        next_id += GOOD_ROWS_PER_ROUND
        if round_ == 0:
            rows.append((next_id, None, "poison", None))
            next_id += 1
        source.insert(rows)
        if round_ == 0:
            # The dead-letter counter is born with the first dead letter; the second one must move it.
            prom.wait_for('sync_events_dead_lettered_total{job="articles-sync"} >= 1',
                          what="the first dead letter")
        time.sleep(1.2)
    source.insert([(next_id, None, "poison again", None)])
    good = ROUNDS * GOOD_ROWS_PER_ROUND
    prom.wait_for(f'sync_events_applied_total{{job="articles-sync"}} == {good}',
                  what=f"the sync daemon applying the {good} good rows")
    prom.wait_for('sum(sync_events_dead_lettered_total{job="articles-sync"}) == 2',
                  what="the two dead letters")
    return {"good": good}


# -------------------------------------------------------------------------------- tests
def test_prometheus_scrapes_the_platform(stack, traffic):
    prom = stack["prometheus"]

    # Every target of the three jobs is up and scraped without error.
    targets = prom.api("targets", state="active")["data"]["activeTargets"]
    by_job = {}
    for t in targets:
        by_job.setdefault(t["labels"]["job"], []).append(t)
    assert sorted(by_job) == sorted(JOBS), targets
    expected_port = {"articles-rest": stack["rest"].port, "articles-graphql": stack["gateway"].port,
                     "articles-sync": stack["sync"].port}
    for job, ts in by_job.items():
        assert len(ts) == 1, ts
        assert ts[0]["health"] == "up" and not ts[0]["lastError"], ts[0]
        assert ts[0]["labels"]["instance"] == f"127.0.0.1:{expected_port[job]}", ts[0]
        assert ts[0]["scrapeInterval"] == "1s", ts[0]

    # REST core: requests by method, route template and status.
    for sel in ('method="GET",route="/articles/{id}",status="200"',
                'method="GET",route="/articles/{id}",status="404"',
                'method="GET",route="/articles",status="200"',
                'method="POST",route="/articles",status="201"',
                'method="POST",route="/articles",status="422"',
                'method="POST",route="/articles/bulk",status="200"',  # the sync daemon's writes
                'method="GET",route="unmatched",status="404"'):
        s = prom.wait_for(f'http_requests_total{{job="articles-rest",{sel}}} > 0')
        assert len(s) == 1, s
    routes = {r["metric"]["route"] for r in prom.query('http_requests_total{job="articles-rest"}')}
    assert routes <= REST_ROUTES, f"route labels that are not templates: {routes - REST_ROUTES}"
    prom.wait_for('http_request_duration_seconds_bucket{job="articles-rest",route="/articles/{id}",le="+Inf"}')
    prom.wait_for('articles_stored{job="articles-rest"} > 0')

    # GraphQL gateway: HTTP, operations by name, errors by code, calls to the REST core.
    prom.wait_for('http_requests_total{job="articles-graphql",method="POST",route="/graphql",status="200"} > 0')
    prom.wait_for('http_requests_total{job="articles-graphql",method="POST",route="/graphql",status="400"} > 0')
    for type_, name in (("query", "ListArticles"), ("query", "OneArticle"), ("mutation", "CreateViaGraphQL")):
        s = prom.wait_for(f'graphql_operations_total{{job="articles-graphql",type="{type_}",name="{name}"}}')
        assert value(s[0]) == ROUNDS, s
    names = {r["metric"]["name"] for r in prom.query('graphql_operations_total{job="articles-graphql"}')}
    assert "Broken" not in names and "Unfinished" not in names, \
        f"operations that failed validation or parsing were counted as executed: {names}"
    for code in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"):
        s = prom.wait_for(f'graphql_errors_total{{job="articles-graphql",code="{code}"}}')
        assert value(s[0]) >= ROUNDS, s
    prom.wait_for('upstream_requests_total{job="articles-graphql",method="GET",outcome="200"} > 0')
    prom.wait_for('upstream_requests_total{job="articles-graphql",method="POST",outcome="201"} > 0')
    prom.wait_for('upstream_request_duration_seconds_bucket{job="articles-graphql",method="GET",le="+Inf"} > 0')

    # Sync daemon: what it carried, what it set aside, and that it is caught up.
    s = prom.wait_for('sync_events_applied_total{job="articles-sync"} > 0')
    assert value(s[0]) == traffic["good"], s
    s = prom.wait_for('sync_changes_read_total{job="articles-sync"}')
    assert value(s[0]) == traffic["good"] + 2, s
    letters = [json.loads(line) for line in stack["dead_letters"].read_text().splitlines()]
    assert len(letters) == 2, letters
    reasons = {l["reason"] for l in letters}
    s = prom.query('sync_events_dead_lettered_total{job="articles-sync"}')
    assert {r["metric"]["reason"] for r in s} == reasons, (s, letters)
    prom.wait_for('sync_backlog_changes{job="articles-sync"} == 0')
    prom.wait_for('sync_caught_up{job="articles-sync"} == 1')
    prom.wait_for('sync_checkpoint_sequence{job="articles-sync"} > 0')
    prom.wait_for('sync_checkpoint_age_seconds{job="articles-sync"} >= 0')
    prom.wait_for('sync_apply_failures_total{job="articles-sync"} == 0')
    prom.wait_for('sync_consumer_assigned_partitions{job="articles-sync"} == 0')  # direct: no Kafka
    prom.wait_for('upstream_requests_total{job="articles-sync",method="POST",outcome="200"} > 0')

    # Both clients of the REST core report a closed breaker.
    for job in ("articles-graphql", "articles-sync"):
        s = prom.wait_for(f'upstream_breaker_state{{job="{job}"}}')
        assert len(s) == 1 and value(s[0]) == 0, s

    # Build info and process metrics of each program.
    for job in JOBS:
        version = subprocess.run([program(job), "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.split()[-1]
        s = prom.wait_for(f'articles_build_info{{job="{job}",program="{job}"}} == 1')
        assert len(s) == 1 and s[0]["metric"]["version"] == version, (s, version)
        for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds"):
            prom.wait_for(f'{name}{{job="{job}"}}')

    # Recording rules: values once two scrapes are in.
    for job in ("articles-rest", "articles-graphql"):
        s = prom.wait_for(f'job:http_requests:rate5m{{job="{job}"}} > 0')
        assert len(s) == 1, s
        s = prom.wait_for(f'job:http_request_errors:ratio_rate5m{{job="{job}"}}')
        assert value(s[0]) == 0, f"{job} answered 5xx: {s}"
        s = prom.wait_for(f'job:http_request_duration_seconds:p99_5m{{job="{job}"}} > 0')
        assert math.isfinite(value(s[0])), s
    for job, route in (("articles-rest", "/articles/{id}"), ("articles-rest", "/articles"),
                       ("articles-graphql", "/graphql")):
        s = prom.wait_for(f'job_route:http_request_duration_seconds:p99_5m{{job="{job}",route="{route}"}} > 0')
        assert math.isfinite(value(s[0])) and value(s[0]) <= 10, s
        prom.wait_for(f'job_route:http_request_duration_seconds:p50_5m{{job="{job}",route="{route}"}} > 0')
        prom.wait_for(f'job_route:http_requests:rate5m{{job="{job}",route="{route}"}} > 0')
    prom.wait_for('job:sync_events_applied:rate5m{job="articles-sync"} > 0')
    prom.wait_for('job:sync_changes_read:rate5m{job="articles-sync"} > 0')
    prom.wait_for('job:sync_backlog_changes:max{job="articles-sync"} == 0')
    prom.wait_for('job:sync_events_dead_lettered:increase1h{job="articles-sync"} > 0')
    for job in ("articles-graphql", "articles-sync"):
        prom.wait_for(f'job:upstream_request_duration_seconds:p99_5m{{job="{job}"}} > 0')

    # Alerts: the second dead letter fires ArticlesDeadLettersGrowing (it has no `for`); the alerts
    # about a healthy platform's failures are neither firing nor pending.
    s = prom.wait_for('ALERTS{alertname="ArticlesDeadLettersGrowing",alertstate="firing",'
                      'job="articles-sync",severity="warning"}')
    assert {r["metric"]["reason"] for r in s} <= reasons, s
    quiet = prom.query('ALERTS{alertname=~"ArticlesTargetDown|ArticlesHighErrorRatio|ArticlesDatabaseErrors|'
                       'ArticlesSyncLagGrowing|ArticlesCircuitBreakerOpen"}')
    assert not quiet, quiet
    rules = prom.api("rules")["data"]["groups"]
    unhealthy = [(g["name"], r["name"], r.get("lastError")) for g in rules for r in g["rules"]
                 if r.get("health") != "ok"]
    assert not unhealthy, unhealthy
    assert {g["name"] for g in rules} == {"articles-http-recording", "articles-sync-recording",
                                          "articles-upstream-recording", "articles-alerts"}


@pytest.mark.parametrize("job", JOBS)
def test_metrics_pages_pass_promtool(stack, traffic, job):
    port = {"articles-rest": stack["rest"].port, "articles-graphql": stack["gateway"].port,
            "articles-sync": stack["sync"].port}[job]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
        text = r.read()
    check = subprocess.run([stack["promtool"], "check", "metrics"], input=text, capture_output=True, timeout=60)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), \
        f"promtool check metrics on {job}'s /metrics ({check.returncode}):\n" \
        f"{check.stdout.decode()}{check.stderr.decode()}"
    # Every family has HELP and TYPE, and the page has the platform's own families.
    families = set(re.findall(rb"^# TYPE (\S+) ", text, re.M))
    assert families == set(re.findall(rb"^# HELP (\S+) ", text, re.M))
    assert {b"articles_build_info", b"process_cpu_seconds_total"} <= families, families


# -------------------------------------------------------------------------------- Grafana dashboard
# What Grafana puts in for its built-in variables; the rest come from the dashboard's templating.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000", "__range": "1h",
            "__range_s": "3600", "__range_ms": "3600000"}
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")


def all_panels(panels):
    """Every panel, rows' nested panels (collapsed rows) included."""
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def dashboard_variables(dash):
    values = dict(BUILTINS)
    for v in dash.get("templating", {}).get("list", []):
        current = v.get("current", {}).get("value")
        if v.get("type") in ("textbox", "constant") and current in (None, ""):
            current = v.get("query")
        if current in ("$__all", ["$__all"]):
            current = v.get("allValue") or ".*"
        if isinstance(current, list):
            current = current[0] if len(current) == 1 else "(" + "|".join(current) + ")"
        assert isinstance(current, str) and current, f"dashboard variable {v.get('name')} has no value: {v}"
        values[v["name"]] = current
    return values


def substitute(expr, values):
    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        assert name in values, f"{expr!r} uses ${name}, which the dashboard does not define"
        return values[name]
    return VARIABLE.sub(one, expr)


def dashboard_queries():
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    values = dashboard_variables(dash)
    out = []
    for p in all_panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("hide"):
                continue
            out.append((p.get("title"), t.get("refId"), t["expr"], substitute(t["expr"], values)))
    return dash, out


def test_dashboard_model_and_datasource():
    dash, queries = dashboard_queries()
    assert dash.get("schemaVersion", 0) >= 36 and dash.get("uid") and dash.get("title"), \
        {k: dash.get(k) for k in ("schemaVersion", "uid", "title")}
    panels = list(all_panels(dash["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {ids}"
    rows = [p for p in panels if p["type"] == "row"]
    assert [r["title"].split(" (")[0] for r in rows] == ["REST core", "GraphQL gateway", "Sync daemon"], rows
    for p in panels:
        if p["type"] == "row":
            assert not p.get("targets"), p["title"]
            assert p.get("datasource") in (None, {"type": "prometheus", "uid": "prometheus"}), p["title"]
            continue
        assert p.get("targets"), f"panel {p.get('title')!r} has no query"
        assert (p.get("datasource") or {}).get("uid") == "prometheus", \
            f"panel {p.get('title')!r} uses datasource {p.get('datasource')}, not uid prometheus"
        for t in p["targets"]:
            assert t.get("expr", "").strip(), f"panel {p['title']!r} target {t.get('refId')} has no expr"
            assert (t.get("datasource") or p["datasource"]).get("uid") == "prometheus", (p["title"], t)
        assert set(p["gridPos"]) >= {"h", "w", "x", "y"}, p["title"]
    for v in dash["templating"]["list"]:
        if v.get("type") == "query":
            assert (v.get("datasource") or {}).get("uid") == "prometheus", v
    assert queries


def test_dashboard_queries_return_data(stack, traffic):
    prom = stack["prometheus"]
    _, queries = dashboard_queries()
    refused = []
    for title, ref, raw, expr in queries:
        body = prom.api("query", query=expr)
        if body.get("status") != "success":
            refused.append(f"{title!r} {ref}: {raw}\n  -> {body.get('errorType')}: {body.get('error')}")
    assert not refused, "Prometheus refused dashboard queries:\n" + "\n".join(refused)
    # Rates over $__rate_interval need two samples in the window: poll until every query has data.
    pending = list(queries)
    deadline = time.time() + WAIT
    while pending:
        pending = [q for q in pending if not prom.query(q[3])]
        if not pending:
            break
        if time.time() > deadline:
            pytest.fail("dashboard queries without data after %ds:\n%s" % (WAIT, "\n".join(
                f"{title!r} {ref}: {expr}" for title, ref, _, expr in pending)), pytrace=False)
        time.sleep(0.5)


def test_grafana_provisioning_points_at_the_dashboard():
    ds = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    assert ds["apiVersion"] == 1
    [source] = ds["datasources"]
    assert (source["name"], source["uid"], source["type"], source["access"], source["url"]) == \
        ("Prometheus", "prometheus", "prometheus", "proxy", "http://localhost:9090"), source
    prov = yaml.safe_load((PROVISIONING / "dashboards" / "articles.yml").read_text())
    assert prov["apiVersion"] == 1
    [provider] = prov["providers"]
    assert provider["type"] == "file" and provider["options"]["path"], provider
    assert DASHBOARD.exists()

"""bin/articles-sync `run --once` pushing its metrics to a real Prometheus Pushgateway (Debian's
prometheus-pushgateway, started here on a free port, in memory only): what it pushes, that a
later run replaces the group (PUT), that a failed run still pushes, and that a Pushgateway that is
not there only costs a warning."""
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid

import pytest

from conftest import free_port
from test_sync import Source, bin_dir

PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"
JOB = "articles-sync"


class Pushgateway:
    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.port = None
        self.log_path = workdir / "pushgateway.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""

    def command(self):
        # --persistence.file= (empty): in memory only, never Debian's /var/lib file.
        return [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{self.port}", "--persistence.file=",
                "--log.level=info"]

    def start(self, timeout=30):
        if not os.access(PUSHGATEWAY, os.X_OK):
            pytest.fail(f"{PUSHGATEWAY} is missing or not executable: install Debian's "
                        "prometheus-pushgateway package (`sh scripts/install-deps.sh`, or "
                        "`apt-get install prometheus-pushgateway`)")
        for _ in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log,
                                             stdin=subprocess.DEVNULL, cwd=self.workdir)
            deadline = time.time() + timeout
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                        if r.status == 200:
                            return self
                except OSError:
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                pytest.fail(f"the Pushgateway did not answer /-/ready within {timeout}s:\n"
                            f"{self.log_tail()}")
            # It exited: the port may have been taken in between; try another.
        pytest.fail(f"the Pushgateway exited at start ({self.proc.returncode}): "
                    f"{' '.join(self.command())}\n{self.log_tail()}")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def metrics(self):
        assert self.proc is not None and self.proc.poll() is None, \
            f"the Pushgateway died:\n{self.log_tail()}"
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            assert r.status == 200
            return r.read().decode()

    def forget(self):
        """Deletes the daemon's group, so that what a test sees was pushed by the test."""
        req = urllib.request.Request(f"{self.url}/metrics/job/{JOB}", method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status in (200, 202), r.status
        assert not pushed(self.metrics()), "the group is still there after DELETE"


@pytest.fixture(scope="module")
def pushgateway(tmp_path_factory):
    pg = Pushgateway(tmp_path_factory.mktemp("pushgateway"))
    pg.start()
    yield pg
    pg.stop()


# --- the text exposition format, parsed line by line (label order is the Pushgateway's) ---

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_labels(raw):
    labels, pos = {}, 0
    raw = raw or ""
    while pos < len(raw.rstrip()):
        m = LABEL.match(raw, pos)
        assert m, f"cannot parse labels {raw!r} at {pos}"
        labels[m.group(1)] = (m.group(2).replace("\\n", "\n").replace('\\"', '"')
                              .replace("\\\\", "\\"))
        pos = m.end()
    return labels


def parse(text):
    series = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        series.append((m.group(1), parse_labels(m.group(2)), float(m.group(3))))
    return series


def pushed(text):
    """The series the Pushgateway holds for the daemon's job (its own metrics left out)."""
    return [s for s in parse(text) if s[1].get("job") == JOB]


def find(series, name, **labels):
    hits = [s for s in series if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]
    return hits


def value(series, name, **labels):
    hits = find(series, name, **labels)
    assert len(hits) == 1, f"{name}{labels}: {len(hits)} series under job={JOB!r}: {hits}\n" + \
        "\n".join(f"{n}{l} {v}" for n, l, v in series)
    return hits[0][2]


# --- the daemon ---

def run_sync(*args, source, rest_url=None, pushgateway_url=None, cwd=None, timeout=120):
    e = dict(os.environ)
    for k in ("KAFKA_BROKERS", "REST_API_TOKEN", "PUSHGATEWAY_URL"):
        e.pop(k, None)
    e["SOURCE_DATABASE_URL"] = source.url
    e["LOG_FORMAT"] = "json"
    if rest_url is not None:
        e["REST_API_URL"] = rest_url
    if pushgateway_url is not None:
        e["PUSHGATEWAY_URL"] = pushgateway_url
    return subprocess.run([str(bin_dir() / "articles-sync"), *args], capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=cwd)


def rows(ids):
    return [(i, f"title {i}", f"content {i}", None) for i in ids]


def check_run_metrics(series, success, started, ended):
    assert value(series, "sync_last_run_success") == success
    duration = value(series, "sync_last_run_duration_seconds")
    assert 0 <= duration <= ended - started + 1, duration
    when = value(series, "sync_last_run_timestamp_seconds")
    assert started - 2 <= when <= ended + 2, (started, when, ended)
    assert find(series, "articles_build_info", program="articles-sync"), \
        "no articles_build_info{program=\"articles-sync\"} under job=\"articles-sync\""


def test_once_pushes_its_metrics_and_a_later_run_replaces_them(server_factory, pushgateway,
                                                               tmp_path):
    rest = server_factory.start()
    rest_url = f"http://127.0.0.1:{rest.port}"
    pushgateway.forget()
    source = Source("sqlite", tmp_path)
    source.insert(rows(range(1, 4)))
    r = run_sync("init", source=source)
    assert r.returncode == 0, r.stderr

    started = time.time()
    r = run_sync("run", "--once", source=source, rest_url=rest_url, pushgateway_url=pushgateway.url,
                 cwd=tmp_path)
    ended = time.time()
    assert r.returncode == 0, r.stderr[-2000:]
    assert "applied: 3" in r.stdout, r.stdout
    assert "Pushgateway" not in r.stderr, r.stderr[-2000:]
    series = pushed(pushgateway.metrics())
    check_run_metrics(series, 1, started, ended)
    assert value(series, "sync_events_applied_total") == 3
    first_when = value(series, "sync_last_run_timestamp_seconds")

    # A second run with 2 more rows: PUT replaces the whole group, so 2 and not 3 + 2.
    source.insert(rows(range(4, 6)))
    time.sleep(1.1)  # the run's timestamp is in whole seconds
    started = time.time()
    r = run_sync("run", "--once", source=source, rest_url=rest_url, pushgateway_url=pushgateway.url,
                 cwd=tmp_path)
    ended = time.time()
    assert r.returncode == 0, r.stderr[-2000:]
    assert "applied: 2" in r.stdout, r.stdout
    series = pushed(pushgateway.metrics())
    check_run_metrics(series, 1, started, ended)
    assert value(series, "sync_events_applied_total") == 2
    assert value(series, "sync_last_run_timestamp_seconds") > first_when
    assert rest.client.get("/articles/5").json()["title"] == "title 5"


def test_a_failed_run_still_pushes(server_factory, pushgateway, tmp_path):
    token = uuid.uuid4().hex  # 32 characters
    assert len(token) == 32
    rest = server_factory.start(args=["--api-tokens", token])
    pushgateway.forget()
    source = Source("sqlite", tmp_path)
    source.insert(rows(range(1, 4)))
    assert run_sync("init", source=source).returncode == 0

    started = time.time()
    r = run_sync("run", "--once", source=source, rest_url=f"http://127.0.0.1:{rest.port}",
                 pushgateway_url=pushgateway.url, cwd=tmp_path)
    ended = time.time()
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr[-2000:])
    assert "REST_API_TOKEN" in r.stderr, r.stderr[-2000:]
    assert "Pushgateway" not in r.stderr, r.stderr[-2000:]
    series = pushed(pushgateway.metrics())
    check_run_metrics(series, 0, started, ended)
    applied = find(series, "sync_events_applied_total")
    assert all(v == 0 for _, _, v in applied), applied
    assert rest.client.get("/articles/1").status == 404


def test_an_unreachable_pushgateway_does_not_fail_the_run(server_factory, tmp_path):
    rest = server_factory.start()
    source = Source("sqlite", tmp_path)
    source.insert(rows(range(1, 4)))
    assert run_sync("init", source=source).returncode == 0
    nobody = f"http://127.0.0.1:{free_port()}"
    r = run_sync("run", "--once", source=source, rest_url=f"http://127.0.0.1:{rest.port}",
                 pushgateway_url=nobody, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "applied: 3" in r.stdout, r.stdout
    warnings = [l for l in r.stderr.splitlines() if "Pushgateway" in l]
    assert warnings, r.stderr[-2000:]
    assert any("warn" in l.lower() for l in warnings), warnings
    assert len(rest.client.get("/articles?limit=10").json()) == 3

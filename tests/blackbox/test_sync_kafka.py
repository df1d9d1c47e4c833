"""bin/articles-sync through a real Apache Kafka broker (KRaft, started by tests/scripts/kafka.sh
for this module): convergence from SQLite and PostgreSQL sources into a REST core on each back
end, producer and consumer as separate processes, poison events in the dead-letter topic, two
consumers of one group with a rebalance, and crashes of every process while changes flow."""
import json
import os
import random
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import bin_dir as _bin_dir, free_port
from test_sync import Source, rest_articles, sync

REPO = Path(__file__).resolve().parents[2]
KAFKA = REPO / "tests" / "scripts" / "kafka.sh"


def bin_dir():
    return Path(_bin_dir())


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("kafka") / "broker"
    r = subprocess.run(["sh", str(KAFKA), "start", str(d)], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        pytest.fail(f"tests/scripts/kafka.sh start failed:\n{r.stderr[-3000:]}")
    yield r.stdout.strip().splitlines()[-1]
    subprocess.run(["sh", str(KAFKA), "stop", str(d)], capture_output=True, timeout=120)


@pytest.fixture(params=["sqlite", "pg"])
def source(request, tmp_path):
    s = Source(request.param, tmp_path)
    yield s
    s.drop()


def kenv(broker, topic=None, group=None, **extra):
    env = {"KAFKA_BROKERS": broker, "KAFKA_TOPIC": topic or "t_" + uuid.uuid4().hex[:10],
           "SYNC_GROUP": group or "g_" + uuid.uuid4().hex[:10], "KAFKA_PARTITIONS": "4"}
    env.update(extra)
    return env


def ksync(*args, broker, env, source=None, rest=None, timeout=180, cwd=None):
    e = dict(env)
    e["KAFKA_BROKERS"] = broker
    return sync(*args, source=source, rest=rest, env=e, timeout=timeout, cwd=cwd)


def start(args, env, cwd):
    e = dict(os.environ, LOG_FORMAT="json", **env)
    return subprocess.Popen([str(bin_dir() / "articles-sync"), *args], env=e, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kcat(*args, timeout=60):
    r = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_for(pred, seconds, what):
    deadline = time.time() + seconds
    while not pred():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_converges_through_kafka(broker, server_factory, source, tmp_path):
    rest = server_factory.start()
    env = kenv(broker)
    source.insert([(i, f"title {i}", f"content {i}", "ada" if i % 3 else None) for i in range(1, 501)])
    assert sync("init", source=source).returncode == 0
    r = ksync("run", "--once", broker=broker, env=env, source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "changes read: 500" in r.stdout and "events produced: 500" in r.stdout, r.stdout
    assert "applied: 500" in r.stdout, r.stdout
    source.sql("UPDATE articles SET content = 'edited' WHERE id % 10 = 0;"
               "DELETE FROM articles WHERE id BETWEEN 100 AND 149;")
    source.insert([(9000 + i, f"late {i}", "", None) for i in range(20)])
    r = ksync("run", "--once", broker=broker, env=env, source=source, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    r = sync("verify", source=source, rest=rest)
    assert r.returncode == 0 and "source: 470 articles, REST core: 470" in r.stdout, r.stdout
    assert rest.client.get("/articles/120").status == 404
    assert rest.client.get("/articles/30").json()["content"] == "edited"
    # Every event carries the key and a traceparent header.
    out = kcat("-b", broker, "-C", "-t", env["KAFKA_TOPIC"], "-o", "beginning", "-e", "-c", "5",
               "-f", "%k|%h|%s\n")
    for line in out.strip().splitlines():
        key, headers, value = line.split("|", 2)
        ev = json.loads(value)
        assert key == str(ev["id"]) and ev["v"] == 1 and ev["op"] in ("upsert", "delete")
        assert "traceparent=00-" in headers, headers


@pytest.mark.sqlite_only
def test_producer_and_consumer_apart(broker, server_factory, tmp_path):
    rest = server_factory.start()
    source = Source("sqlite", tmp_path)
    env = kenv(broker)
    source.insert([(i, f"t{i}", "c", None) for i in range(1, 301)])
    assert sync("init", source=source).returncode == 0
    r = ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path)
    assert r.returncode == 0 and "events produced: 300" in r.stdout, r.stdout + r.stderr[-2000:]
    assert rest_articles(rest) == []  # nothing applied yet
    r = sync("status", source=source)
    assert "backlog: 0" in r.stdout, r.stdout  # the checkpoint moved with the delivery reports
    r = ksync("consume", "--once", broker=broker, env=env, rest=rest, cwd=tmp_path)
    assert r.returncode == 0 and "applied: 300" in r.stdout, r.stdout + r.stderr[-2000:]
    assert sync("verify", source=source, rest=rest).returncode == 0
    # The group's offsets were committed: consuming again applies nothing.
    r = ksync("consume", "--once", broker=broker, env=env, rest=rest, cwd=tmp_path)
    assert r.returncode == 0 and "applied: 0" in r.stdout, r.stdout


@pytest.mark.sqlite_only
def test_poison_events_go_to_the_dead_letter_topic(broker, server_factory, tmp_path):
    # This REST core takes titles of 10 characters at most: a valid event can be refused.
    rest = server_factory.start(args=["--max-title-length", "10"])
    env = kenv(broker)
    topic = env["KAFKA_TOPIC"]
    source = Source("sqlite", tmp_path)
    source.insert([(i, f"t{i}", "c", None) for i in range(1, 11)])
    assert sync("init", source=source).returncode == 0
    assert ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path).returncode == 0
    good = json.dumps({"v": 1, "op": "upsert", "id": 77, "seq": 1, "ts": "2026-01-01T00:00:00Z",
                       "source": "sqlite", "article": {"id": 77, "title": "ok", "content": "",
                                                       "author": None, "created_at": None,
                                                       "updated_at": None}})
    too_long = good.replace('"id": 77', '"id": 80').replace('"title": "ok"', '"title": "far too long a title"')
    poison = [("5", "{not json"), ("78", good), ("79", good.replace('"title": "ok"', '"title": ""')),
              ("80", too_long)]
    for key, value in poison:
        subprocess.run(["kcat", "-b", broker, "-P", "-t", topic, "-k", key], input=value, text=True,
                       check=True, timeout=60)
    r = ksync("consume", "--once", broker=broker, env=env, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "applied: 10" in r.stdout and "dead-lettered: 4" in r.stdout, r.stdout
    assert sync("verify", source=source, rest=rest).returncode == 0
    out = kcat("-b", broker, "-C", "-t", topic + ".dlq", "-o", "beginning", "-e", "-f", "%k|%h\n")
    reasons = {}
    for line in out.strip().splitlines():
        key, headers = line.split("|", 1)
        h = dict(kv.split("=", 1) for kv in headers.split(",") if "=" in kv)
        reasons[key] = h.get("dlq.reason")
        assert h.get("dlq.source.topic") == topic and "dlq.source.offset" in h, h
    assert reasons == {"5": "bad_json", "78": "key_mismatch", "79": "bad_value", "80": "http_422"}, reasons


def test_a_batch_sorted_by_id_keeps_each_articles_order(broker, server_factory, tmp_path):
    """The consumer sorts a window of events by article id for the REST core's sake; each
    article's events must still be applied in the order they were produced, even when its runs
    cross the requests a window is cut into (--batch-size 4, two partitions: windows of 8)."""
    rest = server_factory.start()
    env = kenv(broker, KAFKA_PARTITIONS="2")
    topic = env["KAFKA_TOPIC"]
    source = Source("sqlite", tmp_path)
    source.insert([(1, "t1", "c", None)])
    assert sync("init", source=source).returncode == 0
    assert ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path).returncode == 0

    def event(i, seq, version):
        return json.dumps({"v": 1, "op": "upsert", "id": i, "seq": seq, "ts": "2026-01-01T00:00:00Z",
                           "source": "sqlite", "article": {"id": i, "title": f"v{version}",
                                                           "content": "", "author": None,
                                                           "created_at": None, "updated_at": None}})
    ids = [100, 101, 102]
    lines, seq = [], 10
    for version in range(1, 21):  # rounds of every id, ids shuffled in each round
        random.shuffle(ids)
        for i in ids:
            seq += 1
            lines.append(f"{i}|{event(i, seq, version)}")
    subprocess.run(["kcat", "-b", broker, "-P", "-t", topic, "-K", "|"], input="\n".join(lines) + "\n",
                   text=True, check=True, timeout=60)
    r = ksync("consume", "--once", "--batch-size", "4", broker=broker, env=env, rest=rest, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    titles = {a["id"]: a["title"] for a in rest_articles(rest)}
    assert all(titles[i] == "v20" for i in ids), {i: titles.get(i) for i in ids}


def metric(port, name):
    """A sample's value, or None while the endpoint is not up (or lacks it)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def partitions_of(port):
    """How many partitions a consumer has."""
    return int(metric(port, "sync_consumer_assigned_partitions") or 0)


@pytest.mark.sqlite_only  # about Kafka, not the REST core's back end
def test_two_consumers_share_partitions_and_a_rebalance_loses_nothing(broker, server_factory,
                                                                      tmp_path):
    rest = server_factory.start()
    env = kenv(broker)
    source = Source("sqlite", tmp_path)
    assert sync("init", source=source).returncode == 0
    ports = [free_port(), free_port()]
    common = ["consume", "--follow", "--batch-size", "50"]
    env_rest = dict(env, REST_API_URL=f"http://127.0.0.1:{rest.port}")
    # The topic exists before the consumers subscribe.
    assert ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path).returncode == 0
    a = start(common + ["--metrics-port", str(ports[0])], env_rest, tmp_path)
    b = start(common + ["--metrics-port", str(ports[1])], env_rest, tmp_path)
    try:
        wait_for(lambda: partitions_of(ports[0]) + partitions_of(ports[1]) == 4 and
                 partitions_of(ports[0]) and partitions_of(ports[1]), 60,
                 "both consumers to share the 4 partitions")
        source.insert([(i, f"t{i}", "x" * 200, None) for i in range(1, 4001)])
        assert ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path).returncode == 0
        wait_for(lambda: len(rest_articles(rest)) == 4000, 90, "the first 4000 articles")
        assert metric(ports[0], "sync_events_applied_total") > 0
        assert metric(ports[1], "sync_events_applied_total") > 0
        # One leaves while more flows: its partitions move to the other.
        source.insert([(i, f"t{i}", "y", None) for i in range(4001, 6001)])
        producer = start(["produce", "--once"], dict(env, SOURCE_DATABASE_URL=source.url), tmp_path)
        a.send_signal(signal.SIGTERM)
        assert a.wait(30) == 0, a.communicate()[1][-2000:]
        assert producer.wait(120) == 0, producer.communicate()[1][-2000:]
        wait_for(lambda: len(rest_articles(rest)) == 6000, 90, "all 6000 articles")
        wait_for(lambda: partitions_of(ports[1]) == 4, 30, "the survivor to own all 4")
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                assert p.wait(30) == 0
    assert sync("verify", source=source, rest=rest).returncode == 0


class VersionWatch:
    """Samples the REST core while changes flow and records any article seen going back to an
    older version (titles are "v<round>"): changes of one article must be applied in order."""

    def __init__(self, port):
        import threading
        self.port, self.seen, self.regressions, self.samples = port, {}, [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def page(self, after):
        q = "/articles?limit=1000&sort=id" + (f"&after_id={after}" if after else "")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{q}", timeout=5) as r:
            return json.loads(r.read())

    def run(self):
        while not self.stop.is_set():
            try:
                after = 0
                while True:
                    page = self.page(after)
                    if not page:
                        break
                    for a in page:
                        if a["title"].startswith("v"):
                            v = int(a["title"][1:])
                            if v < self.seen.get(a["id"], -1):
                                self.regressions.append((a["id"], self.seen[a["id"]], v))
                            self.seen[a["id"]] = max(v, self.seen.get(a["id"], -1))
                    after = page[-1]["id"]
                self.samples += 1
            except OSError:
                time.sleep(0.05)  # the REST core is being restarted

    def close(self):
        self.stop.set()
        self.thread.join(10)


@pytest.mark.sqlite_only
def test_crashes_lose_nothing(broker, backend, tmp_path):
    """While 100,000 changes flow, kill -9 the producer, the consumer and the REST core at random
    moments and start them again; afterwards verify finds no drift, and no article was ever seen
    going back to an older version."""
    rnd = random.Random(7)
    env = kenv(broker)
    source = Source("sqlite", tmp_path)
    rows = 10000
    source.insert([(i, "v0", "c", None) for i in range(1, rows + 1)])
    assert sync("init", source=source).returncode == 0
    rest_port = free_port()
    db = f"sqlite:{tmp_path}/dest.db"

    def start_rest():
        p = subprocess.Popen([str(bin_dir() / "articles-rest"), "--port", str(rest_port),
                              "--database-url", db, "--log-level", "warn"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _up(rest_port), 30, "the REST core")
        return p

    env_all = dict(env, SOURCE_DATABASE_URL=source.url, REST_API_URL=f"http://127.0.0.1:{rest_port}")
    procs = {"rest": start_rest(),
             "producer": start(["produce", "--follow", "--metrics-port", "0"], env_all, tmp_path),
             "consumer": start(["consume", "--follow", "--metrics-port", "0"], env_all, tmp_path)}
    watch = VersionWatch(rest_port)
    try:
        for version in range(1, 11):
            # Every row changes: 10 rounds of 10,000 changes, plus deletes and inserts.
            source.sql(f"UPDATE articles SET title = 'v{version}';"
                       f"DELETE FROM articles WHERE id % 97 = {version};")
            source.insert([(rows + version * 1000 + i, f"v{version}", "c", None) for i in range(50)])
            victim = rnd.choice(list(procs))
            time.sleep(rnd.uniform(0.1, 0.8))
            procs[victim].kill()
            procs[victim].wait()
            time.sleep(rnd.uniform(0, 0.3))
            procs[victim] = start_rest() if victim == "rest" else start(
                [victim.replace("producer", "produce").replace("consumer", "consume"), "--follow",
                 "--metrics-port", "0"], env_all, tmp_path)
        # Let everything drain, then stop cleanly and check.
        r = None
        for _ in range(120):
            r = sync("verify", env={"SOURCE_DATABASE_URL": source.url,
                                    "REST_API_URL": f"http://127.0.0.1:{rest_port}"})
            if r.returncode == 0:
                break
            time.sleep(1)
        assert r.returncode == 0, r.stdout[-3000:]
        for name in ("producer", "consumer"):
            procs[name].send_signal(signal.SIGTERM)
            assert procs[name].wait(60) == 0, procs[name].communicate()[1][-2000:]
        watch.close()
        assert watch.samples > 5
        assert not watch.regressions, watch.regressions[:20]
    finally:
        watch.close()
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def _up(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def json_lines(text):
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


@pytest.mark.sqlite_only
def test_one_trace_id_from_source_to_rest_core(broker, tmp_path):
    """A change gets a trace id when it is read; the producer logs it, the Kafka record carries
    it in its traceparent header, the consumer logs it and the REST core logs it for the bulk
    request that applied the change."""
    port = free_port()
    work = tmp_path / "rest"
    work.mkdir()
    rest_log = work / "stderr.log"
    with open(rest_log, "w") as err:
        rest = subprocess.Popen([str(bin_dir() / "articles-rest"), "--port", str(port),
                                 "--database-url", f"sqlite:{work}/a.db", "--log-format", "json"],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: _up(port), 30, "the REST core")
        env = kenv(broker, REST_API_URL=f"http://127.0.0.1:{port}", LOG_LEVEL="debug")
        source = Source("sqlite", tmp_path)
        source.insert([(1, "traced", "c", None)])
        assert sync("init", source=source).returncode == 0
        p = ksync("produce", "--once", broker=broker, env=env, source=source, cwd=tmp_path)
        assert p.returncode == 0, p.stderr[-2000:]
        c = ksync("consume", "--once", broker=broker, env=env, cwd=tmp_path)
        assert c.returncode == 0 and "applied: 1" in c.stdout, c.stderr[-2000:]
        header = kcat("-b", broker, "-C", "-t", env["KAFKA_TOPIC"], "-o", "beginning", "-e", "-f", "%h\n")
        tp = dict(kv.split("=", 1) for kv in header.strip().split(","))["traceparent"]
        trace = tp.split("-")[1]
        assert len(trace) == 32
        assert any(l.get("trace_id") == trace and "published" in l["message"]
                   for l in json_lines(p.stderr)), p.stderr[-2000:]
        assert any(l.get("trace_id") == trace and "applied" in l["message"]
                   for l in json_lines(c.stderr)), c.stderr[-2000:]
        time.sleep(0.2)
        assert any(l.get("trace_id") == trace and l.get("route") == "/articles/bulk"
                   for l in json_lines(rest_log.read_text())), rest_log.read_text()[-2000:]
    finally:
        rest.send_signal(signal.SIGTERM)
        rest.wait(15)

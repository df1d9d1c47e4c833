#!/usr/bin/env python3
"""abuse.py - the memory bound of both HTTP servers under an abusive load.

Starts articles-rest on a fresh SQLite file (in a temporary directory, on a free port), seeds 100
articles with PUT /articles/{id}, and starts articles-graphql in front of it. Both run with their
default limits except --request-timeout 10 (instead of 30), so that the trickling and stalled
clients are cut within a short run. Then, for each server in turn and for BENCH_ABUSE_SECONDS
(default 20), an attacker process opens, from the client addresses 127.0.0.2 to 127.0.0.20
(Linux routes all of 127/8 to loopback, so --max-connections-per-client does not stop the attack
before the total limits do):

  - 300 trickling clients: a POST's request line at once, then its headers one byte a second;
  - 300 large uploads: Content-Length just under 2 MiB, ~1.9 MiB sent at once, then a stall;
    the ones the body budget (--max-body-memory) refuses get 503 and come back 0.2-0.6 s later;
  - 200 idle connections that send nothing (BENCH_ABUSE_IDLE=N for another count);
  - 4 loops of oversized headers (431), oversized URIs (414), a Content-Length over
    --max-body-bytes (413) and request smuggling shapes (Content-Length with
    Transfer-Encoding, two Content-Lengths: 400; an unknown transfer coding: 501);
  - 4 slow readers: a socket with SO_RCVBUF 4096 sends 80 pipelined requests for 100 articles
    (REST: GET /articles?limit=100; gateway: the same through getArticles) and never reads.

Every client reconnects when the server cuts or refuses it. Meanwhile one legitimate client, from
127.0.0.1 in a process of its own, makes sequential keep-alive requests (REST: GET /articles/1;
gateway: POST /graphql { getArticle(id: 1) { id title } }) and records its latencies. The
server's VmRSS and open descriptors (/proc/PID/fd) are sampled every 100 ms, and its VmHWM read at
the end of its turn.

Output: one markdown table per server, printed and written to build/bench/abuse-results.md.
"peak RSS (VmHWM)" is the most memory the server ever held; it is set against the bound its
limits imply:

  RSS at rest before the attack
  + --max-body-memory                      (request bodies held at once, all connections)
  + --max-connections x 16 KiB             (libmicrohttpd's buffer for request line and headers)
  + --max-connections x 16 KiB             (bodies up to 16 KiB, which --max-body-memory lets
                                            through so that uploads cannot turn queries away)
  + worker threads x 3 x --max-body-bytes  (a body being decoded: parse tree, decoded copy, answer)

Worker threads: one per core for the REST core and for the gateway (their defaults).
What the bound leaves out: answers queued for slow readers (one answer per such connection, here
~110 KiB each) and the log. A connection beyond --max-connections waits in the listen queue: it
is not "refused", it shows as open descriptors stuck near 1024 (try BENCH_ABUSE_IDLE=600).

"attempted" counts the attack's connection attempts; "refused" those that failed to connect or
were closed without an answer within 1 s; "cut" those the server closed later without an answer
(the request and idle deadlines). The status rows count the answers the attack got. For the
legitimate client, p50/p99 are over its successful requests during the attack, "longest gap" is
the longest time it went without a success; the p50 at rest is measured just before the attack.
A slow reader reads what was queued for it 11.5 s after sending ("answers read late") and counts
as cut when the stream then ends. "server log during the attack" is what the server wrote at
--log-level warn meanwhile (every 5xx answer is logged at error level).

Exits 1 when a server died, when the legitimate client got no successful answer during an
attack, when a peak RSS passes its bound, or when a server does not exit 0 on SIGTERM at the end
(the table and the server's log tail say which); 2 when the servers cannot be started. The
servers, the client processes and the temporary directory are cleaned up in every case, Ctrl-C
included. Python 3 standard library only; Linux only (/proc, 127/8 on loopback).
"""
import asyncio
import collections
import http.client
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_ABUSE_SECONDS", "20"))
REQUEST_TIMEOUT = 10
OUT = ROOT / "build" / "bench" / "abuse-results.md"

# The servers' defaults (see --help), which the bound is computed from; SMALL_BODY is the size
# up to which a body is not counted against --max-body-memory (lib/http_server.c).
SMALL_BODY = 16 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_BODY_MEMORY = 64 * 1024 * 1024
MAX_CONNECTIONS = 1024
CONNECTION_MEMORY = 16 * 1024  # HTTP_CONNECTION_MEMORY in lib/http_server.c
DECODE_COPIES = 3

# The attack mix.
TRICKLERS = 300
UPLOADS = 300
IDLE = int(os.environ.get("BENCH_ABUSE_IDLE", "200"))
HEADER_LOOPS = 4
SLOW_READERS = 4
SLOW_PIPELINED = 80  # ~9 MiB of answers, more than the socket buffers hold
ATTACK_ADDRESSES = [f"127.0.0.{i}" for i in range(2, 21)]
UPLOAD_DECLARED = MAX_BODY_BYTES - 4096
UPLOAD_SENT = 1900 * 1024
SEED_ARTICLES = 100

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
# When the attack ends (time.monotonic()): every loop checks it, because a cancelled task can
# go on running (asyncio.wait_for may swallow a cancellation before Python 3.12).
ATTACK_END = [0.0]
MiB = 1024 * 1024


def bin_dir():
    d = Path(os.environ.get("ARTICLES_BIN", "bin"))
    if not d.is_absolute() and not d.exists():
        d = ROOT / d
    return d.resolve()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """VmRSS and VmHWM of pid in bytes, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    def kib(name):
        return int(fields[name].split()[0]) * 1024 if name in fields else 0
    return {"rss": kib("VmRSS"), "hwm": kib("VmHWM")}


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def mib(n):
    return f"{n / MiB:.1f} MiB"


# ---------------------------------------------------------------------------------------------
# The servers.

class Server:
    def __init__(self, name, argv, workdir, port, threads):
        self.name, self.argv, self.port, self.threads = name, argv, port, threads
        self.log_path = Path(workdir) / f"{name}.log"
        self.proc = None
        self.exit_code = None
        self.stop_seconds = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    return True
                c.close()
            except OSError:
                pass
            time.sleep(0.05)
        return False

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_size(self):
        """(bytes, lines) of the log so far."""
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return 0, 0
        return len(data), data.count(b"\n")

    def log_tail(self, lines=25):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:]) or "(empty log)"

    def stop(self):
        """SIGTERM, then the exit status (None when it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            t = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
                self.stop_seconds = time.monotonic() - t
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = None
                return None
        self.exit_code = self.proc.returncode
        return self.exit_code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(name, extra, workdir, threads):
    for _ in range(5):  # a free port may be taken between the probe and the start
        port = free_port()
        argv = [str(bin_dir() / name), "--port", str(port), "--request-timeout",
                str(REQUEST_TIMEOUT), "--log-level", "warn", "--log-format", "text", *extra]
        s = Server(name, argv, workdir, port, threads)
        if s.start():
            return s
        s.kill()
    raise RuntimeError(f"{name} did not start:\n{s.log_tail()}")


def seed(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(1, SEED_ARTICLES + 1):
        body = json.dumps({"title": f"Article {i}", "author": f"author{i % 10}",
                           "content": f"Seeded for the abuse benchmark, article {i}. " * 24})
        c.request("PUT", f"/articles/{i}", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status not in (200, 201):
            raise RuntimeError(f"seeding article {i}: HTTP {r.status}")
    c.close()


# ---------------------------------------------------------------------------------------------
# What each server is asked.

TARGETS = {
    "articles-rest": {
        "legit": ("GET", "/articles/1", None),
        "post_path": "/articles",
        "slow": b"GET /articles?limit=100 HTTP/1.1\r\nHost: t\r\n\r\n",
        "label": "REST core (articles-rest)",
        "legit_label": "GET /articles/1",
    },
    "articles-graphql": {
        "legit": ("POST", "/graphql", json.dumps({"query": "{ getArticle(id: 1) { id title } }"})),
        "post_path": "/graphql",
        "slow": None,  # built below: it has a body
        "label": "GraphQL gateway (articles-graphql)",
        "legit_label": "POST /graphql { getArticle(id: 1) { id title } }",
    },
}
_q = json.dumps({"query": "{ getArticles(limit: 100) { id title content author } }"}).encode()
TARGETS["articles-graphql"]["slow"] = (
    b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_q), _q))


def legit_ok(name, status, body):
    if status != 200:
        return False
    if name == "articles-graphql":
        try:
            doc = json.loads(body)
            return not doc.get("errors") and doc["data"]["getArticle"]["id"] == "1"
        except (ValueError, KeyError, TypeError):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The legitimate client (a process of its own, so that the attack's event loop does not delay
# it): sequential keep-alive requests from 127.0.0.1.

def legit_client(name, port, seconds, out=None):
    method, path, body = TARGETS[name]["legit"]
    headers = {"Content-Type": "application/json"} if body else {}
    lat, failures, errors = [], 0, collections.Counter()
    conn = None
    start = time.monotonic()
    deadline = start + seconds
    last_ok = start
    longest_gap = 0.0
    first_failure = None
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                                  source_address=("127.0.0.1", 0))
            conn.request(method, path, body, headers)
            r = conn.getresponse()
            data = r.read()
            ok = legit_ok(name, r.status, data)
            if not ok:
                errors[f"HTTP {r.status}" + (" with errors" if r.status == 200 else "")] += 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            ok = False
            errors[type(e).__name__] += 1
            if conn is not None:
                conn.close()
            conn = None
        t1 = time.monotonic()
        if ok:
            lat.append(t1 - t0)
            longest_gap = max(longest_gap, t1 - last_ok)
            last_ok = t1
        else:
            failures += 1
            if first_failure is None:
                first_failure = t0 - start
            time.sleep(0.05)
    longest_gap = max(longest_gap, time.monotonic() - last_ok)
    if conn is not None:
        conn.close()
    lat.sort()
    result = {
        "ok": len(lat), "failures": failures, "errors": dict(errors),
        "p50": lat[len(lat) // 2] if lat else None,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "longest_gap": longest_gap, "first_failure": first_failure,
    }
    if out is not None:
        out.put(result)
    return result


# ---------------------------------------------------------------------------------------------
# The attack: one asyncio loop in a process of its own.

class Tally:
    def __init__(self):
        self.kinds = collections.defaultdict(lambda: collections.Counter())
        self.statuses = collections.Counter()

    def attempt(self, kind):
        self.kinds[kind]["attempted"] += 1

    def ended(self, kind, status, t_connected):
        """A connection the server answered or closed."""
        if status:
            self.kinds[kind][f"HTTP {status}"] += 1
            self.statuses[status] += 1
        elif time.monotonic() - t_connected < 1.0:
            self.kinds[kind]["refused"] += 1
        else:
            self.kinds[kind]["cut"] += 1


async def open_conn(loop, port, index, tally, kind, rcvbuf=None):
    """A connected non-blocking socket from one of the attack addresses, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    except OSError:
        pass
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    tally.attempt(kind)
    try:
        s.bind((ATTACK_ADDRESSES[index % len(ATTACK_ADDRESSES)], 0))
        await asyncio.wait_for(loop.sock_connect(s, ("127.0.0.1", port)), 3)
        return s
    except (OSError, asyncio.TimeoutError):
        s.close()
        tally.kinds[kind]["refused"] += 1
        tally.kinds[kind]["connect failed"] += 1
        return None


async def read_status(loop, s):
    """The status of the first answer, or None when the connection ends without one."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = await loop.sock_recv(s, 65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if data.startswith(b"HTTP/1.") and len(data) >= 12 and data[9:12].isdigit():
        return int(data[9:12])
    return None


def running():
    return time.monotonic() < ATTACK_END[0]


async def pause(lo, hi):
    await asyncio.sleep(random.uniform(lo, hi))


async def outcome(reader, most=None):
    """Waits for read_status() until the attack ends (or `most` seconds): (ended, status)."""
    left = ATTACK_END[0] - time.monotonic()
    if most is not None:
        left = min(left, most)
    if not reader.done() and left > 0:
        await asyncio.wait({reader}, timeout=left)
    if not reader.done():
        return False, None
    return True, reader.result()


def finish(tally, kind, ended, status, t):
    if ended:
        tally.ended(kind, status, t)


async def trickler(loop, port, i, tally, target):
    await pause(0, 0.3)
    line = b"POST %s HTTP/1.1\r\n" % target["post_path"].encode()
    rest = (b"Host: t\r\nContent-Type: application/json\r\nX-Trickle: " + b"a" * 200 +
            b"\r\nContent-Length: 2\r\n\r\n{}")
    while running():
        s = await open_conn(loop, port, i, tally, "trickle")
        if s is None:
            await pause(0.2, 0.5)
            continue
        t = time.monotonic()
        reader = asyncio.ensure_future(read_status(loop, s))
        try:
            await loop.sock_sendall(s, line)
            for b in rest:
                await loop.sock_sendall(s, bytes([b]))
                ended, status = await outcome(reader, 1.0)
                if ended or not running():
                    break
            finish(tally, "trickle", *(await outcome(reader)), t)
        except OSError:
            finish(tally, "trickle", *(await outcome(reader)), t)
        finally:
            reader.cancel()
            s.close()


async def uploader(loop, port, i, tally, target):
    await pause(0, 0.3)
    head = (b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (target["post_path"].encode(), UPLOAD_DECLARED))
    chunk = b"a" * (64 * 1024)
    while running():
        s = await open_conn(loop, port, i, tally, "upload")
        if s is None:
            await pause(0.2, 0.6)
            continue
        t = time.monotonic()
        reader = asyncio.ensure_future(read_status(loop, s))
        status = None
        try:
            await loop.sock_sendall(s, head)
            # The budget is charged on the headers: a refusal comes at once.
            done, _ = await asyncio.wait({reader}, timeout=0.1)
            sent = 0
            while not done and sent < UPLOAD_SENT:
                n = min(len(chunk), UPLOAD_SENT - sent)
                await loop.sock_sendall(s, chunk[:n])
                sent += n
                done = reader.done()
            ended, status = await outcome(reader)  # stalls until the server answers or cuts
        except OSError:
            ended, status = await outcome(reader)
        finally:
            reader.cancel()
            s.close()
        finish(tally, "upload", ended, status, t)
        await pause(0.2, 0.6)


async def idler(loop, port, i, tally, target):
    await pause(0, 0.3)
    while running():
        s = await open_conn(loop, port, i, tally, "idle")
        if s is None:
            await pause(0.2, 0.5)
            continue
        t = time.monotonic()
        reader = asyncio.ensure_future(read_status(loop, s))
        try:
            finish(tally, "idle", *(await outcome(reader)), t)
        finally:
            reader.cancel()
            s.close()


def header_shapes(target):
    p = target["post_path"].encode()
    return [
        ("431", b"GET %s HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n" % (p, b"h" * (20 * 1024))),
        ("414", b"GET %s?q=%s HTTP/1.1\r\nHost: t\r\n\r\n" % (p, b"u" * (20 * 1024))),
        ("413", b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (p, MAX_BODY_BYTES + 1)),
        ("400", b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % p),
        ("400", b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x" % p),
        ("501", b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" % p),
    ]


async def header_loop(loop, port, i, tally, target):
    shapes = header_shapes(target)
    n = i
    while running():
        expected, raw = shapes[n % len(shapes)]
        n += 1
        s = await open_conn(loop, port, i + n, tally, "bad headers")
        if s is None:
            await pause(0.05, 0.2)
            continue
        t = time.monotonic()
        reader = asyncio.ensure_future(read_status(loop, s))
        try:
            await loop.sock_sendall(s, raw)
        except OSError:
            pass
        try:
            ended, status = await outcome(reader, 5)
        finally:
            reader.cancel()
            s.close()
        finish(tally, "bad headers", ended, status, t)
        if status is not None and str(status) != expected:
            tally.kinds["bad headers"][f"unexpected (wanted {expected})"] += 1
        await asyncio.sleep(0.01)


def drain(s):
    """Reads s until it ends or stays silent for a second: (answers read, ended)."""
    s.setblocking(True)
    s.settimeout(1.0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    answers, tail = 0, b""
    try:
        while True:
            got = s.recv(1 << 20)
            if not got:
                return answers, True
            answers += (tail + got).count(b"HTTP/1.1 200")
            tail = got[-11:]  # a match split between two reads, never one counted twice
    except socket.timeout:
        return answers, False
    except OSError:
        return answers, True


async def slow_reader(loop, port, i, tally, target):
    await pause(0, 0.3)
    while running():
        s = await open_conn(loop, port, i, tally, "slow reader", rcvbuf=4096)
        if s is None:
            await pause(0.2, 0.5)
            continue
        try:
            try:
                await loop.sock_sendall(s, target["slow"] * SLOW_PIPELINED)
            except OSError:
                pass
            # Never read until the server should have given up on us, then see.
            await asyncio.sleep(max(0.0, min(REQUEST_TIMEOUT + 1.5,
                                             ATTACK_END[0] - time.monotonic())))
            if not running():
                break
            # Read what is there, in a thread: the event loop is busy with the others.
            answers, eof = await loop.run_in_executor(None, drain, s)
            tally.kinds["slow reader"]["answers read late"] += answers
            if eof:
                tally.kinds["slow reader"]["cut"] += 1
        finally:
            s.close()


async def attack_main(port, name, seconds):
    loop = asyncio.get_running_loop()
    ATTACK_END[0] = time.monotonic() + seconds
    tally = Tally()
    target = TARGETS[name]
    tasks = []
    for spec, count in ((trickler, TRICKLERS), (uploader, UPLOADS), (idler, IDLE),
                        (header_loop, HEADER_LOOPS), (slow_reader, SLOW_READERS)):
        tasks += [asyncio.ensure_future(spec(loop, port, i, tally, target)) for i in range(count)]
    await asyncio.wait(tasks, timeout=seconds)
    ATTACK_END[0] = 0.0
    for t in tasks:
        t.cancel()
    await asyncio.wait(tasks, timeout=2)
    crashed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
    return {"kinds": {k: dict(v) for k, v in tally.kinds.items()},
            "statuses": dict(tally.statuses),
            "crashed": [repr(e) for e in crashed[:3]]}


def attack_process(port, name, seconds, out):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    loop = asyncio.new_event_loop()
    out.put(loop.run_until_complete(attack_main(port, name, seconds)))
    out.close()
    out.join_thread()
    # Not asyncio.run(): its last wait for straggling tasks need not end. Exiting closes the
    # attack's sockets.
    os._exit(0)


def legit_process(name, port, seconds, out):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    legit_client(name, port, seconds, out)


# ---------------------------------------------------------------------------------------------
# One server's turn.

def run_phase(srv, children):
    name = srv.name
    # Warm up (the worker threads' arenas, the statement caches), then the state at rest.
    at_rest = legit_client(name, srv.port, 1.0)
    time.sleep(0.3)
    rest_status = proc_status(srv.pid)
    rest_fds = open_fds(srv.pid)

    ctx = multiprocessing.get_context("fork")
    attack_q, legit_q = ctx.Queue(), ctx.Queue()
    attacker = ctx.Process(target=attack_process, args=(srv.port, name, SECONDS, attack_q))
    legit = ctx.Process(target=legit_process, args=(name, srv.port, SECONDS, legit_q))
    children += [attacker, legit]
    log_before = srv.log_size()
    t0 = time.monotonic()
    attacker.start()
    legit.start()

    samples = []  # (seconds since the attack began, VmRSS, fds)
    died_at = None
    while attacker.is_alive() or legit.is_alive():
        now = time.monotonic() - t0
        st = proc_status(srv.pid)
        if not srv.alive() or st is None:
            if died_at is None:
                died_at = now
        else:
            samples.append((now, st["rss"], open_fds(srv.pid)))
        if now > SECONDS + 60:
            break
        time.sleep(0.1)
    attack = get_result(attack_q, attacker) or {"kinds": {}, "statuses": {},
                                                 "crashed": ["no result"]}
    legit_r = get_result(legit_q, legit) or {"ok": 0, "failures": 0, "errors": {"no result": 1},
                                              "p50": None, "p99": None,
                                              "longest_gap": SECONDS, "first_failure": None}
    elapsed = time.monotonic() - t0
    log_after = srv.log_size()
    time.sleep(1.0)
    after = proc_status(srv.pid) if srv.alive() else None
    if died_at is None and not srv.alive():
        died_at = time.monotonic() - t0
    end_status = proc_status(srv.pid) if srv.alive() else None

    baseline = rest_status["rss"]
    bound_parts = [("RSS at rest", baseline),
                   ("--max-body-memory", MAX_BODY_MEMORY),
                   (f"{MAX_CONNECTIONS} connections x 16 KiB", MAX_CONNECTIONS * CONNECTION_MEMORY),
                   (f"{MAX_CONNECTIONS} small bodies x 16 KiB", MAX_CONNECTIONS * SMALL_BODY),
                   (f"{srv.threads} threads x {DECODE_COPIES} x 2 MiB decode copies",
                    srv.threads * DECODE_COPIES * MAX_BODY_BYTES)]
    bound = sum(v for _, v in bound_parts)
    max_sampled = max((s[1] for s in samples), default=0)
    peak = end_status["hwm"] if end_status else max_sampled
    peak_at = max(samples, key=lambda s: s[1])[0] if samples else None
    return {
        "name": name, "target": TARGETS[name], "at_rest": at_rest,
        "rest_rss": baseline, "rest_fds": rest_fds, "peak": peak,
        "peak_from": "VmHWM" if end_status else "highest sample (the server is gone)",
        "max_sampled": max_sampled, "peak_at": peak_at,
        "after_rss": after["rss"] if after else None,
        "peak_fds": max((s[2] or 0 for s in samples), default=0),
        "bound": bound, "bound_parts": bound_parts, "attack": attack, "legit": legit_r,
        "died_at": died_at, "elapsed": elapsed,
        "log_bytes": log_after[0] - log_before[0], "log_lines": log_after[1] - log_before[1],
        "samples": len(samples),
        "log_tail": srv.log_tail() if died_at is not None else None,
    }


def get_result(q, proc):
    try:
        r = q.get(timeout=SECONDS + 30)
    except Exception:  # queue.Empty, or the child died
        r = None
    proc.join(5)
    if proc.is_alive():
        proc.terminate()
        proc.join(5)
    return r


# ---------------------------------------------------------------------------------------------
# The report.

def ms(x):
    return "n/a" if x is None else f"{x * 1000:.1f} ms"


def render(results, servers, run_seconds, problems):
    L = []
    L.append("# Abuse benchmark: memory bound of the HTTP servers\n")
    L.append(f"{SECONDS:g} s of attack per server, `--request-timeout {REQUEST_TIMEOUT}` (default "
             f"30; shortened so that stalled clients are cut within the run), all other limits "
             f"at their defaults; {os.sysconf('SC_NPROCESSORS_ONLN')} cores; attack from "
             f"{ATTACK_ADDRESSES[0]}-{ATTACK_ADDRESSES[-1]}: {TRICKLERS} tricklers, {UPLOADS} "
             f"uploads of {UPLOAD_SENT // 1024} KiB (declared {UPLOAD_DECLARED} bytes), {IDLE} "
             f"idle, {HEADER_LOOPS} bad-header loops, {SLOW_READERS} slow readers. "
             f"Whole run: {run_seconds:.1f} s.\n")
    for r in results:
        a, lg = r["attack"], r["legit"]
        kinds = a["kinds"]
        tot = collections.Counter()
        for c in kinds.values():
            tot.update(c)
        st = collections.Counter({int(k): v for k, v in a["statuses"].items()})
        verdict = "within" if r["peak"] <= r["bound"] else "**ABOVE**"
        L.append(f"## {r['target']['label']}\n")
        L.append("| measure | value |")
        L.append("|---|---|")
        L.append(f"| peak RSS ({r['peak_from']}) | **{mib(r['peak'])}** — {verdict} the bound, "
                 f"{100 * r['peak'] / r['bound']:.0f} % of it |")
        L.append(f"| bound the limits imply | {mib(r['bound'])} = "
                 + " + ".join(f"{mib(v)} ({k})" for k, v in r["bound_parts"]) + " |")
        L.append(f"| RSS at rest before the attack | {mib(r['rest_rss'])} |")
        at = "" if r["peak_at"] is None else f", at {r['peak_at']:.1f} s"
        L.append(f"| highest sampled VmRSS | {mib(r['max_sampled'])}{at} "
                 f"({r['samples']} samples) |")
        L.append(f"| RSS 1 s after the attack | "
                 f"{mib(r['after_rss']) if r['after_rss'] is not None else 'n/a'} |")
        L.append(f"| open descriptors at rest / peak | {r['rest_fds']} / {r['peak_fds']} |")
        L.append(f"| attack connections attempted / refused / cut | {tot['attempted']} / "
                 f"{tot['refused']} / {tot['cut']} |")
        L.append(f"| answers 503 / 413 / 431 / 414 / 400 / 501 | {st[503]} / {st[413]} / "
                 f"{st[431]} / {st[414]} / {st[400]} / {st[501]} |")
        others = {k: v for k, v in st.items() if k not in (503, 413, 431, 414, 400, 501)}
        if others:
            L.append(f"| other answers to the attack | "
                     + ", ".join(f"{k}: {v}" for k, v in sorted(others.items())) + " |")
        L.append(f"| legit client ({r['target']['legit_label']}) successes / failures | "
                 f"{lg['ok']} / {lg['failures']}"
                 + (f" ({', '.join(f'{k}: {v}' for k, v in lg['errors'].items())}; the first "
                    f"{lg['first_failure']:.1f} s into the attack)"
                    if lg["errors"] and lg["first_failure"] is not None else "") + " |")
        L.append(f"| legit p50 / p99 during the attack | {ms(lg['p50'])} / {ms(lg['p99'])} "
                 f"(p50 at rest {ms(r['at_rest']['p50'])}) |")
        L.append(f"| legit longest gap without a success | {ms(lg['longest_gap'])} |")
        L.append(f"| server log during the attack (--log-level warn) | {r['log_lines']} lines, "
                 f"{r['log_bytes'] / 1024:.0f} KiB |")
        code = servers[r["name"]].exit_code
        if r["died_at"] is not None:
            how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
            L.append(f"| server | **died {r['died_at']:.1f} s into the attack** ({how}) |")
        else:
            took = servers[r["name"]].stop_seconds
            L.append(f"| server | alive; exit status on SIGTERM: "
                     f"{'n/a (killed after 20 s)' if code is None else code}"
                     + (f", after {took:.1f} s" if took is not None else "") + " |")
        L.append("")
        L.append("| attack | attempted | refused | cut | answers |")
        L.append("|---|---|---|---|---|")
        for k in ("trickle", "upload", "idle", "bad headers", "slow reader"):
            c = kinds.get(k, {})
            ans = ", ".join(f"{n}: {v}" for n, v in sorted(c.items())
                            if n not in ("attempted", "refused", "cut"))
            L.append(f"| {k} | {c.get('attempted', 0)} | {c.get('refused', 0)} | "
                     f"{c.get('cut', 0)} | {ans or '-'} |")
        if a.get("crashed"):
            L.append(f"\nattack tasks that crashed: {a['crashed']}")
        if r["log_tail"]:
            L.append(f"\nlog tail of {r['name']}:\n\n```\n{r['log_tail']}\n```")
        L.append("")
    if problems:
        L.append("## Problems\n")
        L += [f"- {p}" for p in problems]
    else:
        L.append("No problem: both servers stayed up, kept serving the legitimate client, "
                 "stayed within their bounds and exited 0 on SIGTERM.")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------------------------

def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    for name in ("articles-rest", "articles-graphql"):
        if not (bin_dir() / name).is_file():
            print(f"abuse.py: {bin_dir() / name} is missing (make all)", file=sys.stderr)
            return 2
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="articles-abuse-")
    servers, children, results, problems = {}, [], [], []
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    try:
        try:
            rest = start_server("articles-rest", ["--database-url", f"sqlite:{tmp}/articles.db"],
                                tmp, threads=ncpu)
            servers["articles-rest"] = rest
            seed(rest.port)
            gw = start_server("articles-graphql",
                              ["--rest-api-url", f"http://127.0.0.1:{rest.port}"],
                              tmp, threads=2 * ncpu)
            servers["articles-graphql"] = gw
        except (RuntimeError, OSError) as e:
            print(f"abuse.py: {e}", file=sys.stderr)
            return 2
        print(f"abuse.py: {SECONDS:g} s per server, --request-timeout {REQUEST_TIMEOUT} "
              f"(shortened from 30 for a short run), other limits at their defaults",
              flush=True)
        for name in ("articles-rest", "articles-graphql"):
            srv = servers[name]
            if not srv.alive():
                problems.append(f"{name} was gone before its turn:\n{srv.log_tail()}")
                continue
            print(f"abuse.py: [{time.monotonic() - started:.1f} s] attacking {name} (pid "
                  f"{srv.pid}, port {srv.port})...", flush=True)
            r = run_phase(srv, children)
            results.append(r)
            if r["died_at"] is not None:
                problems.append(f"{name} died {r['died_at']:.1f} s into the attack; log tail "
                                f"in its section")
            if r["legit"]["ok"] == 0:
                problems.append(f"{name} answered the legitimate client not once during the "
                                f"attack ({r['legit']['errors']})")
            if r["peak"] > r["bound"]:
                problems.append(f"{name}: peak RSS {mib(r['peak'])} is above the bound "
                                f"{mib(r['bound'])}")
        print(f"abuse.py: [{time.monotonic() - started:.1f} s] stopping the servers", flush=True)
        for name in ("articles-graphql", "articles-rest"):
            srv = servers[name]
            was_alive = srv.alive()
            code = srv.stop()
            if was_alive and code != 0:
                problems.append(f"{name} exited {code} on SIGTERM (0 expected); log tail:\n"
                                f"```\n{srv.log_tail()}\n```")
        report = render(results, servers, time.monotonic() - started, problems)
        print()
        print(report, end="")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(report)
        print(f"abuse.py: written to {OUT}")
        return 1 if problems else 0
    except KeyboardInterrupt:
        print("abuse.py: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for p in children:
            if p.is_alive():
                p.terminate()
                p.join(5)
                if p.is_alive():
                    p.kill()
        for srv in servers.values():
            srv.kill()
            try:
                srv.log.close()
            except AttributeError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

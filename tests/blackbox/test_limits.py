"""Limits of the HTTP layer: connections (in total and per client address), header and URI
size, the deadline for a whole request and for reading its answer, and the request shapes of
smuggling. Each test shows the limit and that the server still serves others afterwards."""
import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rawhttp  # noqa: E402  (tests/rawhttp.py, shared with the gateway's abuse tests)


def test_connection_limit(server_factory):
    """With --max-connections 4 and four connections held, a fifth client waits instead of
    being served; once one closes, it is served."""
    s = server_factory.start(args=["--max-connections", "4"])
    held = rawhttp.holds(s.port, 4)
    rawhttp.assert_waits_beyond_limit(s.port, held)
    for c in held:
        c.close()
    assert s.client.get("/health").status == 200


def test_header_too_large_is_431(server):
    big = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    rawhttp.assert_oversized_refused(server.port, big, 431)
    assert server.client.get("/health").status == 200


def test_uri_too_long_is_414(server):
    big = b"GET /articles?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    rawhttp.assert_oversized_refused(server.port, big, 414)
    assert server.client.get("/health").status == 200


def test_headers_of_ordinary_size_pass(server):
    """8 KiB of headers, what common proxies forward, is served."""
    hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(16))
    out, _ = rawhttp.exchange_and_close(server.port, b"GET /health HTTP/1.1\r\nHost: t\r\n" +
                                        hdrs + b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:100]


# ---- abuse: smuggling shapes, trickling clients, slow readers, connections per address ----



def stored(server):
    r = server.client.get("/articles?limit=1000")
    assert r.status == 200
    return r.json()


@pytest.mark.parametrize("raw,status", [c[1:] for c in rawhttp.SMUGGLING],
                         ids=[c[0] for c in rawhttp.SMUGGLING])
def test_smuggling_shape_refused_and_closed(server, raw, status):
    """Every ambiguous framing gets its status, the connection is closed (the bytes after
    it are never read as a request), nothing is stored, and others are still served."""
    before = stored(server)
    rawhttp.assert_refused_and_closed(server.port, raw.replace(b"PATH", b"/articles"), status)
    assert stored(server) == before
    assert server.client.get("/health").status == 200


def test_smuggling_refusal_is_a_problem(server):
    """The refusals the server makes itself (not libmicrohttpd) say why, as problem+json."""
    raw = dict((c[0], c[1]) for c in rawhttp.SMUGGLING)["content-length-and-chunked"]
    out, _ = rawhttp.exchange_and_close(server.port, raw.replace(b"PATH", b"/articles"))
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head
    assert b"Connection: close" in head
    assert json.loads(body)["detail"] == ("the request has both Content-Length and "
                                          "Transfer-Encoding; send one")


TRICKLE_HEAD = (b"POST /articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n")
TRICKLE_BODY = json.dumps({"title": "slow", "content": "c" * 200, "author": "a"}).encode()


@pytest.mark.parametrize("part", ["headers", "body"])
def test_trickling_client_is_cut_off(server_factory, part):
    """With --request-timeout 2, a client that sends a byte every 0.2 s (never idle, so the
    idle timeout of 30 s never fires) is cut off about 2 s after its request line, without
    an answer and without anything stored; others are served meanwhile."""
    s = server_factory.start(args=["--request-timeout", "2"])
    rest = b"Content-Length: %d\r\n\r\n" % len(TRICKLE_BODY) + TRICKLE_BODY
    head = TRICKLE_HEAD if part == "headers" else TRICKLE_HEAD + rest[:rest.index(b"\r\n\r\n") + 4]
    data = rest if part == "headers" else TRICKLE_BODY
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=rawhttp.trickle(s.port, head, data, 0.2, 15)))
    t.start()
    time.sleep(0.5)
    assert s.client.get("/health").status == 200, "others must be served while one trickles"
    t.join()
    seconds, sent, answer = result["r"]
    assert seconds is not None, "the trickling client was never cut off"
    assert 1.5 <= seconds <= 4.5, seconds
    assert sent < len(data)
    assert answer == b""
    assert stored(s) == []
    logged_soon(s, "request not received within 2 s")


def logged_soon(server, text, timeout=3):
    """The server logs why it cut a connection just after cutting it: wait for the line."""
    deadline = time.monotonic() + timeout
    while text not in server.log_tail(50):
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{server.log_tail(20)}"
        time.sleep(0.05)


def test_trickled_request_line_is_cut_off(server_factory):
    """A request line sent a byte every 0.2 s is never idle, so libmicrohttpd's idle timeout
    (--connection-timeout 1) alone would keep it forever: it is cut a second after that."""
    s = server_factory.start(args=["--connection-timeout", "1", "--request-timeout", "30"])
    line = b"GET /articles?" + b"a" * 200 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    seconds, sent, answer = rawhttp.trickle(s.port, b"", line, 0.2, 15)
    assert seconds is not None, "the trickled request line was never cut off"
    assert 1.5 <= seconds <= 4.5, seconds
    assert answer == b""
    logged_soon(s, "request not received within 1 s")
    assert s.client.get("/health").status == 200


def test_request_timeout_zero_turns_the_deadline_off(server_factory):
    """--request-timeout 0: a slow but steady client finishes its request."""
    s = server_factory.start(args=["--request-timeout", "0"])
    body = json.dumps({"title": "t", "content": "c", "author": "a"}).encode()
    head = TRICKLE_HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    seconds, sent, answer = rawhttp.trickle(s.port, head, body, 0.1, 20)
    assert rawhttp.status_of(answer) == 201, answer[:200]


def test_slow_reader_is_cut_off(server_factory):
    """A client that asks for a large answer and never reads it is cut off once the answer
    has waited --request-timeout seconds for it, so it cannot hold the server's memory."""
    s = server_factory.start(args=["--request-timeout", "2"])
    big = "x" * 1_000_000
    for i in range(1, 13):
        assert s.client.put(f"/articles/{i}", {"title": f"t{i}", "content": big,
                                                "author": "a"}).status == 201
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", s.port))
    sock.sendall(b"GET /articles?limit=12 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(5)
    got = rawhttp.read_all(sock)
    sock.close()
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
    assert len(got) < 12_000_000, "the whole answer arrived: the slow reader was not cut off"
    logged_soon(s, "answer not read within 2 s")
    assert s.client.get("/health").status == 200


def test_connections_per_client_address(server_factory):
    """With --max-connections-per-client 3 and three idle connections from 127.0.0.1, a
    fourth from that address is closed at once, while one from 127.0.0.2 is served; once
    the first ones close, 127.0.0.1 is served again."""
    s = server_factory.start(args=["--max-connections-per-client", "3"])
    rawhttp.assert_per_client_limit(s.port, 3)


def body_of(size):
    """An article whose JSON is exactly size bytes."""
    base = json.dumps({"title": "big", "content": "", "author": "a"})
    return json.dumps({"title": "big", "content": "c" * (size - len(base)),
                       "author": "a"}).encode()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_bodies_held_at_once_are_bounded(server_factory, framing):
    """With --max-body-memory 100000 and one upload of 80000 bytes under way, a second body
    that would pass the budget gets 503 with Retry-After (and nothing stored), while a small
    one passes; once the first is done, the second goes through."""
    s = server_factory.start(args=["--max-body-memory", "100000"])
    first = body_of(80000)
    a = rawhttp.connect(s.port)
    a.sendall(b"POST /articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(first) + first[:1000])
    time.sleep(0.3)
    second = body_of(30000)
    if framing == "chunked":
        raw = (b"POST /articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" +
               b"".join(b"%x\r\n%s\r\n" % (len(second[i:i + 5000]), second[i:i + 5000])
                        for i in range(0, len(second), 5000)) + b"0\r\n\r\n")
    else:
        raw = (b"POST /articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(second) + second)
    out, closed = rawhttp.exchange_and_close(s.port, raw)
    head, _, body = out.partition(b"\r\n\r\n")
    assert rawhttp.status_of(out) == 503, out[:300]
    assert b"Retry-After: 1" in head and b"application/problem+json" in head
    assert "too many request bodies" in json.loads(body)["detail"]
    assert stored(s) == []
    # a small body (16 KiB at most) passes even so: uploads cannot turn ordinary writes away
    assert s.client.post("/articles", {"title": "small", "content": "c", "author": "a"}).status == 201
    a.sendall(first[1000:])
    assert a.recv(100).startswith(b"HTTP/1.1 201")
    a.close()
    # The first upload's bytes are given back once its exchange completes, a moment after
    # its answer was sent.
    deadline = time.time() + 5
    while (r := s.client.post("/articles", json.loads(second))).status == 503:
        assert time.time() < deadline, "the budget was not given back"
        time.sleep(0.05)
    assert r.status == 201
    assert len(stored(s)) == 3

"""rawhttp.py - raw-socket HTTP for the abuse tests of both servers (tests/blackbox/test_limits.py
for the REST core, tests/graphql/test_abuse.py for the gateway): request shapes that no HTTP
library would send, clients that trickle bytes or never read, several client addresses.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a socket bound to 127.0.0.2 is
a second client address for a server listening on 127.0.0.1."""
import re
import socket
import time

# Request shapes whose framing two parsers could read differently (request smuggling), with
# the status the servers must answer before closing the connection. PATH is replaced by the
# route under test.
SMUGGLING = [
    ("content-length-and-chunked",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("two-content-lengths",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 400),
    ("content-length-list",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Content-Length: 2, 2\r\n\r\n{}", 400),
    ("two-transfer-encodings",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("unknown-transfer-coding",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("chunked-lookalike",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("chunked-in-http-1.0",
     b"POST PATH HTTP/1.0\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("space-before-colon",
     b"GET PATH HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("bare-cr-in-a-header",
     b"GET PATH HTTP/1.1\r\nHost: t\r\nX-A: a\rContent-Length: 5\r\n\r\n", 400),
    ("two-hosts", b"GET PATH HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("no-host", b"GET PATH HTTP/1.1\r\n\r\n", 400),
    ("bad-chunk-size",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
    ("negative-content-length",
     b"POST PATH HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
]


def connect(port, source="127.0.0.1", timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_all(s):
    """Everything until the server closes; b'' parts on a reset."""
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        return out


def exchange_and_close(port, data, timeout=5):
    """Sends data and reads until the server closes the connection. Returns the bytes read
    and whether the server closed within timeout (False: it kept the connection open)."""
    s = connect(port, timeout=timeout)
    try:
        s.sendall(data)
        return read_all(s), True
    except socket.timeout:
        return b"", False
    finally:
        s.close()


def trickle(port, head, data, interval, give_up):
    """Sends head at once, then data one byte every interval seconds until the server closes
    the connection or give_up seconds pass. Returns (seconds from head until the server
    closed, bytes of data sent, what it answered), with None for seconds when it never
    closed."""
    s = connect(port, timeout=give_up)
    s.sendall(head)
    start = time.monotonic()
    sent = 0
    try:
        for i in range(len(data)):
            if time.monotonic() - start > give_up:
                return None, sent, b""
            try:
                s.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, sent, b""
            sent += 1
            s.settimeout(interval)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start, sent, b""
            if not chunk:
                return time.monotonic() - start, sent, b""
            return time.monotonic() - start, sent, chunk + read_all(s)
        return None, sent, b""
    finally:
        s.close()


def status_of(raw):
    """The status code of a raw HTTP answer, or None."""
    if not raw.startswith(b"HTTP/1.1 "):
        return None
    return int(raw[9:12])


def holds(port, count, source="127.0.0.1"):
    """Opens count connections from source, each answered once (so the server has surely
    accepted it) and then left idle, and returns them."""
    held = []
    for _ in range(count):
        s = connect(port, source)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200"), "a held connection was not served"
        held.append(s)
    return held


def refused_at_once(port, source="127.0.0.1"):
    """True when a new connection from source is closed by the server without an answer
    to a request sent on it."""
    s = connect(port, source, timeout=3)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return read_all(s) == b""
    except (BrokenPipeError, ConnectionResetError):
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


def assert_refused_and_closed(port, raw, status):
    """An ambiguous framing gets status and the connection is closed, and nothing after the
    refused request is served as another one (libmicrohttpd 0.9 repeats its own 400 head for
    a malformed Content-Length, hence the search rather than a count)."""
    out, closed = exchange_and_close(port, raw)
    assert closed, "the connection stayed open after an ambiguous framing"
    assert status_of(out) == status, out[:300]
    assert not re.search(rb"HTTP/1.1 [1-3]", out), f"something was served: {out[:600]!r}"
    return out


def assert_waits_beyond_limit(port, held):
    """With the server's connection limit taken by the connections in held, a new client
    waits instead of being served; once one of them closes, it is served."""
    fifth = connect(port, timeout=1)
    fifth.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    try:
        early = fifth.recv(100)
    except TimeoutError:
        early = None
    assert early is None, f"a connection was served beyond the limit: {early!r}"
    held.pop().close()
    fifth.settimeout(10)
    assert fifth.recv(100).startswith(b"HTTP/1.1 200"), "the waiting client was not served"
    fifth.close()


def assert_oversized_refused(port, data, status):
    """Sends an oversized request several times. The server closes right after its answer
    while the excess is still unread, so the kernel may reset the connection before the answer
    is read: every attempt must show the status or such a reset, and one at least the status."""
    seen = [exchange_and_close(port, data)[0][:12] for _ in range(5)]
    want = b"HTTP/1.1 %d" % status
    assert all(s in (want, b"") for s in seen), seen
    assert want in seen, seen


def assert_per_client_limit(port, limit):
    """With limit connections held from 127.0.0.1, one more from there is closed at once while
    one from 127.0.0.2 is served; once the first ones close, 127.0.0.1 is served again."""
    held = holds(port, limit)
    assert refused_at_once(port, "127.0.0.1"), "a connection beyond the per-client limit was served"
    assert not refused_at_once(port, "127.0.0.2"), "another client address was refused"
    for c in held:
        c.close()
    deadline = time.monotonic() + 5
    while refused_at_once(port, "127.0.0.1"):
        assert time.monotonic() < deadline, "127.0.0.1 was not served again after its connections closed"
        time.sleep(0.1)

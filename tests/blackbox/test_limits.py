"""Limits of the HTTP layer: connections, header and URI size. Each test
shows the limit and that the server still serves others afterwards."""
import socket
import time


def raw_exchange(port, data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        return out  # the server refused and closed with our excess unread
    finally:
        s.close()


def refused_with(port, data, status):
    """Sends an oversized request several times. The server closes right
    after its answer while the excess is still unread, so the kernel may
    reset the connection before the answer is read: every attempt must be
    the status or such a reset, and at least one must show the status."""
    seen = [raw_exchange(port, data)[:12] for _ in range(5)]
    want = b"HTTP/1.1 %d" % status
    assert all(s in (want, b"") for s in seen), seen
    assert want in seen, seen


def test_connection_limit(server_factory):
    """With --max-connections 4 and four idle connections open, a fifth
    client waits instead of being served; once one closes, it is served."""
    s = server_factory.start(args=["--max-connections", "4"])
    idle = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(4)]
    time.sleep(0.3)
    fifth = socket.create_connection(("127.0.0.1", s.port), timeout=1)
    fifth.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    try:
        early = fifth.recv(100)
    except socket.timeout:
        early = None
    assert early is None, f"a fifth connection was served beyond --max-connections 4: {early!r}"
    idle.pop().close()
    fifth.settimeout(10)
    assert fifth.recv(100).startswith(b"HTTP/1.1 200"), "the waiting client was not served"
    fifth.close()
    for c in idle:
        c.close()
    assert s.client.get("/health").status == 200


def test_header_too_large_is_431(server):
    big = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    refused_with(server.port, big, 431)
    assert server.client.get("/health").status == 200


def test_uri_too_long_is_414(server):
    big = b"GET /articles?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    refused_with(server.port, big, 414)
    assert server.client.get("/health").status == 200


def test_headers_of_ordinary_size_pass(server):
    """8 KiB of headers, what common proxies forward, is served."""
    hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(16))
    out = raw_exchange(server.port, b"GET /health HTTP/1.1\r\nHost: t\r\n" + hdrs +
                       b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:100]

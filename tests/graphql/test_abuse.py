"""The gateway's HTTP abuse limits, against a real REST core: request smuggling shapes refused
and the connection closed, a trickling client cut off by --request-timeout, connections per
client address, header and URI size. Each test shows the limit and that the gateway still
serves others. The REST core's own limits are tested in tests/blackbox/test_limits.py."""
import json
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import http_json
from test_gateway import start_gateway, start_rest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rawhttp  # noqa: E402  (tests/rawhttp.py)

QUERY = b'{"query":"{ getArticles(limit: 1) { id } }"}'


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    p = start_rest(tmp_path_factory)
    yield p
    assert p.stop() == 0


@pytest.fixture(scope="module")
def gateway(rest, tmp_path_factory):
    g = start_gateway(tmp_path_factory, rest.port)
    yield g
    assert g.stop() == 0


def served(port):
    status, _, body = http_json(port, "POST", "/graphql", json.loads(QUERY))
    return status == 200 and "errors" not in json.loads(body)


def rest_articles(rest):
    status, _, body = http_json(rest.port, "GET", "/articles?limit=1000")
    assert status == 200
    return json.loads(body)


@pytest.mark.parametrize("raw,status", [c[1:] for c in rawhttp.SMUGGLING],
                         ids=[c[0] for c in rawhttp.SMUGGLING])
def test_smuggling_shape_refused_and_closed(gateway, rest, raw, status):
    before = rest_articles(rest)
    rawhttp.assert_refused_and_closed(gateway.port, raw.replace(b"PATH", b"/graphql"), status)
    assert rest_articles(rest) == before
    assert served(gateway.port)


def test_smuggling_refusal_says_why(gateway):
    raw = dict((c[0], c[1]) for c in rawhttp.SMUGGLING)["two-hosts"]
    out, _ = rawhttp.exchange_and_close(gateway.port, raw.replace(b"PATH", b"/graphql"))
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"Connection: close" in head
    assert json.loads(body) == {"errors": [{"message": "the request has more than one Host "
                                                       "header"}]}


def test_trickling_client_is_cut_off(rest, tmp_path_factory):
    g = start_gateway(tmp_path_factory, rest.port, "--request-timeout", "2")
    head = (b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(QUERY))
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=rawhttp.trickle(g.port, head, QUERY, 0.2, 15)))
    t.start()
    time.sleep(0.5)
    assert served(g.port), "others must be served while one trickles"
    t.join()
    seconds, sent, answer = result["r"]
    assert seconds is not None, "the trickling client was never cut off"
    assert 1.5 <= seconds <= 4.5, seconds
    assert sent < len(QUERY) and answer == b""
    assert g.stop() == 0
    assert "request not received within 2 s" in g.log_tail(50)


def test_connections_per_client_address(rest, tmp_path_factory):
    """The same limit as the REST core's (tests/blackbox/test_limits.py), in the shared glue."""
    g = start_gateway(tmp_path_factory, rest.port, "--max-connections-per-client", "3")
    rawhttp.assert_per_client_limit(g.port, 3)
    assert g.stop() == 0


@pytest.mark.parametrize("raw,status", [
    (b"GET /graphql HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
    (b"GET /graphql?query=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
], ids=["header-431", "uri-414"])
def test_header_and_uri_size(gateway, raw, status):
    rawhttp.assert_oversized_refused(gateway.port, raw, status)
    assert served(gateway.port)


def test_connection_limit(rest, tmp_path_factory):
    """With --max-connections 4 and four connections held, a fifth client waits instead of
    being served; once one closes, it is served."""
    g = start_gateway(tmp_path_factory, rest.port, "--max-connections", "4",
                      "--max-connections-per-client", "0")
    held = rawhttp.holds(g.port, 4)
    rawhttp.assert_waits_beyond_limit(g.port, held)
    for c in held:
        c.close()
    assert g.stop() == 0

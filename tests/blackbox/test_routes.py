"""Routing: ids in the path, unknown routes (404) and wrong methods (405
with Allow)."""
import json

import pytest

from helpers import MAX_ID, allow_set, assert_problem

BAD_IDS = ["abc", "-1", "0", "00", "9223372036854775808", "18446744073709551616",
           "99999999999999999999999", "+1", "%201", "1%20", "%20", "1.0", "1e3", "0x1A",
           "1abc", "%2B1", "-0", "%C3%A9"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_id_is_400(client, method, bad):
    before = client.snapshot()
    body = json.dumps({"title": "x"}).encode() if method in ("PUT", "PATCH") else None
    assert_problem(client.request(method, f"/articles/{bad}", body), 400)
    assert client.snapshot() == before


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_largest_id_is_valid_syntax(client, method):
    before = client.snapshot()
    body = json.dumps({"title": "x"}).encode() if method == "PATCH" else None
    assert_problem(client.request(method, f"/articles/{MAX_ID}", body), 404)
    assert client.snapshot() == before


def test_huge_valid_ids_are_404(client):
    for i in (2**53 - 1, 2**53, 2**53 + 1, 2**62, MAX_ID - 1):
        assert_problem(client.get(f"/articles/{i}"), 404)


UNKNOWN_ROUTES = ["/", "/article", "/articles/1/comments", "/articles/bulk/1", "/articlesx",
                  "/health/x", "/metrics/", "/openapi.yaml", "/ARTICLES", "/api/articles",
                  "/articles/1/", "//articles"]


@pytest.mark.parametrize("path", UNKNOWN_ROUTES)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_route_is_404(client, path, method):
    before = client.snapshot()
    body = b'{"title": "x"}' if method == "POST" else None
    assert_problem(client.request(method, path, body), 404)
    assert client.snapshot() == before


# route -> the methods it has (HEAD wherever GET)
ROUTES = {
    "/articles": {"GET", "HEAD", "POST"},
    "/articles/1": {"GET", "HEAD", "PUT", "PATCH", "DELETE"},
    "/articles/bulk": {"POST"},
    "/health": {"GET", "HEAD"},
    "/metrics": {"GET", "HEAD"},
    "/openapi.json": {"GET", "HEAD"},
}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
WRONG = [(p, m) for p, allowed in ROUTES.items() for m in METHODS if m not in allowed]


@pytest.mark.parametrize("path,method", WRONG, ids=[f"{m} {p}" for p, m in WRONG])
def test_wrong_method_is_405_with_allow(client, path, method):
    before = client.snapshot()
    body = b'{"title": "x"}' if method in ("POST", "PUT", "PATCH") else None
    r = client.request(method, path, body)
    if method == "HEAD":
        assert r.status == 405 and r.body == b""
    else:
        assert_problem(r, 405)
    assert allow_set(r) == ROUTES[path], r.header("Allow")
    assert client.snapshot() == before


def test_bulk_is_not_an_id(client):
    """GET /articles/bulk is the bulk route with a wrong method, not a bad id."""
    r = client.get("/articles/bulk")
    assert_problem(r, 405)
    assert allow_set(r) == {"POST"}


"""Create, read, replace, patch and delete one article at a time: the happy
paths, their status codes, headers and the stored result."""
import datetime
import http.client
import json
import random
import socket

import pytest

from helpers import (MIB, assert_article, assert_json_response, assert_problem, media_type,
                     parse_ts, q, tick)


def test_post_returns_201_location_and_stored_article(client):
    r = client.post("/articles", {"title": "Hello", "content": "World", "author": "Ada"})
    a = assert_json_response(r, 201)
    assert_article(a, title="Hello", content="World", author="Ada")
    assert r.header("Location") == f"/articles/{a['id']}"
    g = client.get(r.header("Location"))
    assert assert_json_response(g, 200) == a


def test_post_defaults_content_and_author(client):
    a = client.create("Only a title")
    assert_article(a, title="Only a title", content="", author=None)
    assert client.get(f"/articles/{a['id']}").json() == a


def test_post_explicit_null_author(client):
    a = client.create("x", author=None, content="c")
    assert_article(a, author=None, content="c")


def test_post_ids_are_distinct_and_positive(client):
    ids = [client.create(f"n{i}")["id"] for i in range(5)]
    assert len(set(ids)) == 5
    assert all(i >= 1 for i in ids)


def test_post_timestamps_are_now_in_utc(client):
    before = datetime.datetime.now(datetime.timezone.utc)
    a = client.create("time")
    for k in ("created_at", "updated_at"):
        t = parse_ts(a[k])
        assert abs((t - before).total_seconds()) < 60, f"{k} {a[k]} is not now ({before.isoformat()})"


def test_client_timestamps_are_ignored(client):
    old = "1999-01-01T00:00:00.000Z"
    r = client.post("/articles", {"title": "ts", "created_at": old, "updated_at": old})
    a = assert_json_response(r, 201)
    assert a["created_at"] != old and a["updated_at"] != old
    assert a["created_at"] > "2000"
    # also on PUT and PATCH
    r = client.put(f"/articles/{a['id']}", {"title": "ts2", "created_at": old, "updated_at": old})
    b = assert_json_response(r, 200)
    assert b["created_at"] == a["created_at"] and b["updated_at"] != old
    r = client.patch(f"/articles/{a['id']}", {"created_at": old, "updated_at": old})
    c = assert_json_response(r, 200)
    assert c["created_at"] == a["created_at"] and c["updated_at"] != old


def test_get_missing_is_404(client):
    before = client.snapshot()
    missing = max([a["id"] for a in before] + [0]) + 1000
    assert_problem(client.get(f"/articles/{missing}"), 404)


def test_put_replaces_keeps_created_at(client):
    a = client.create("Old", content="old content", author="Old Author")
    tick()
    r = client.put(f"/articles/{a['id']}", {"title": "New"})
    b = assert_json_response(r, 200)
    # full replace: content and author take their defaults
    assert_article(b, id=a["id"], title="New", content="", author=None, created_at=a["created_at"])
    assert b["updated_at"] > a["updated_at"]
    assert client.get(f"/articles/{a['id']}").json() == b


def test_put_with_matching_body_id(client):
    a = client.create("x")
    r = client.put(f"/articles/{a['id']}", {"id": a["id"], "title": "y", "content": "z", "author": "w"})
    assert_article(assert_json_response(r, 200), id=a["id"], title="y", content="z", author="w")


def test_put_creates_with_that_id(client):
    new_id = random.randint(10**9, 10**10)
    r = client.put(f"/articles/{new_id}", {"title": "Created by PUT", "content": "c", "author": "p"})
    a = assert_json_response(r, 201)
    assert_article(a, id=new_id, title="Created by PUT", content="c", author="p")
    assert r.header("Location") == f"/articles/{new_id}"
    assert client.get(f"/articles/{new_id}").json() == a
    # a second PUT now replaces
    r = client.put(f"/articles/{new_id}", {"title": "again"})
    assert assert_json_response(r, 200)["created_at"] == a["created_at"]


def test_post_after_put_at_the_next_free_id(client):
    """An explicit id must not collide with the ids POST chooses later (for
    example a PostgreSQL sequence that PUT did not move on)."""
    last = client.create("probe")["id"]
    taken = [last + 1, last + 2]
    for i in taken:
        assert client.put(f"/articles/{i}", {"title": f"explicit {i}"}).status == 201
    for _ in range(3):
        r = client.post("/articles", {"title": "after explicit ids"})
        a = assert_json_response(r, 201)
        assert a["id"] not in taken, f"POST reused the explicit id {a['id']}"
    for i in taken:
        assert client.get(f"/articles/{i}").json()["title"] == f"explicit {i}"


def test_patch_changes_only_present_fields(client):
    a = client.create("T", content="C", author="A")
    tick()
    r = client.patch(f"/articles/{a['id']}", {"content": "C2"})
    b = assert_json_response(r, 200)
    assert_article(b, id=a["id"], title="T", content="C2", author="A", created_at=a["created_at"])
    assert b["updated_at"] > a["updated_at"]
    r = client.patch(f"/articles/{a['id']}", {"title": "T2"})
    assert_article(assert_json_response(r, 200), title="T2", content="C2", author="A")
    r = client.patch(f"/articles/{a['id']}", {"author": "B"})
    assert_article(assert_json_response(r, 200), title="T2", content="C2", author="B")
    assert client.get(f"/articles/{a['id']}").json()["author"] == "B"


def test_patch_author_null_sets_null(client):
    a = client.create("T", content="C", author="A")
    b = assert_json_response(client.patch(f"/articles/{a['id']}", {"author": None}), 200)
    assert_article(b, title="T", content="C", author=None)
    assert client.get(f"/articles/{a['id']}").json()["author"] is None


def test_patch_content_null_resets_to_empty(client):
    a = client.create("T", content="C", author="A")
    b = assert_json_response(client.patch(f"/articles/{a['id']}", {"content": None}), 200)
    assert_article(b, title="T", content="", author="A")


def test_patch_empty_object_changes_nothing(client):
    a = client.create("T", content="C", author="A")
    b = assert_json_response(client.patch(f"/articles/{a['id']}", {}), 200)
    assert_article(b, id=a["id"], title="T", content="C", author="A", created_at=a["created_at"])


def test_patch_accepts_merge_patch_media_type(client):
    a = client.create("T", content="C", author="A")
    r = client.patch(f"/articles/{a['id']}", {"author": None, "title": "M"},
                     content_type="application/merge-patch+json")
    assert_article(assert_json_response(r, 200), title="M", content="C", author=None)


def test_patch_title_null_is_422(client):
    a = client.create("T", content="C", author="A")
    before = client.snapshot()
    assert_problem(client.patch(f"/articles/{a['id']}", {"title": None}), 422, field="title")
    assert client.snapshot() == before


def test_patch_missing_is_404(client):
    before = client.snapshot()
    missing = max([a["id"] for a in before] + [0]) + 1000
    assert_problem(client.patch(f"/articles/{missing}", {"title": "x"}), 404)
    assert client.snapshot() == before


def test_delete(client):
    a = client.create("to delete")
    r = client.delete(f"/articles/{a['id']}")
    assert r.status == 204, r
    assert r.body == b""
    assert_problem(client.get(f"/articles/{a['id']}"), 404)
    before = client.snapshot()
    assert_problem(client.delete(f"/articles/{a['id']}"), 404)
    assert client.snapshot() == before


def test_delete_then_put_recreates(client):
    a = client.create("phoenix")
    assert client.delete(f"/articles/{a['id']}").status == 204
    r = client.put(f"/articles/{a['id']}", {"title": "risen"})
    assert_article(assert_json_response(r, 201), id=a["id"], title="risen")


UNICODE = {
    "title": "Grüße, 世界 🌍 עברית e\u0301 \u2028",
    "content": "Ünïcödé\n\t\"quoted\" \\ back\\slash \U0001F600\U0001D11E 😀 中文 \u00a0 end",
    "author": "Zoë 🚀",
}


def test_unicode_round_trip_raw_utf8(client):
    body = json.dumps(UNICODE, ensure_ascii=False).encode("utf-8")
    a = assert_json_response(client.post("/articles", body), 201)
    assert_article(a, **UNICODE)
    assert client.get(f"/articles/{a['id']}").json() == a


def test_unicode_round_trip_escaped(client):
    body = json.dumps(UNICODE, ensure_ascii=True).encode("ascii")  # \uXXXX and surrogate pairs
    a = assert_json_response(client.post("/articles", body), 201)
    assert_article(a, **UNICODE)
    got = client.get(f"/articles/{a['id']}")
    assert got.json() == a
    got.body.decode("utf-8")  # the answer itself is valid UTF-8


def test_blank_title_is_a_title(client):
    """The contract asks for 1..200 characters, nothing more: a title of
    spaces has 3 characters."""
    for t in ("   ", " x", "\t"):
        a = assert_json_response(client.post("/articles", {"title": t}), 201)
        assert_article(a, title=t)


def test_put_at_the_largest_id_does_not_break_post(fresh_server):
    """PUT /articles/9223372036854775807 must either be refused with a 4xx
    problem, or leave POST /articles working."""
    c = fresh_server.client
    c.create("before")
    r = c.put(f"/articles/{2**63 - 1}", {"title": "max"})
    if r.status in (200, 201):
        for _ in range(2):
            p = c.post("/articles", {"title": "after max"})
            assert p.status == 201, f"PUT at the largest id succeeded, then POST /articles -> {p!r}"
    else:
        assert 400 <= r.status < 500, r
        assert_problem(r, r.status)


def test_unicode_title_counts_code_points(client):
    for ch in ("é", "世", "🌍"):
        a = client.create(ch * 200)
        assert a["title"] == ch * 200


SQL_STRINGS = ["'; DROP TABLE articles; --", "1 OR 1=1", "\" OR \"\"=\"", "%' OR '1'='1",
               "Robert'); DROP TABLE articles;--", "\\'; SELECT pg_sleep(5); --"]


def test_sql_looking_strings_are_stored_verbatim(client):
    keep = client.create("a witness")
    made = []
    for s in SQL_STRINGS:
        a = client.create(s, content=s, author=s[:100])
        assert_article(a, title=s, content=s, author=s[:100])
        made.append(a)
    for a in made:
        assert client.get(f"/articles/{a['id']}").json() == a
        r = client.get("/articles" + q(author=a["author"]))
        assert [x["id"] for x in r.json()] == [x["id"] for x in made if x["author"] == a["author"]]
        r = client.get("/articles" + q(q=a["title"]))
        assert a["id"] in [x["id"] for x in r.json()]
    # the table is still there and so is the other data
    assert client.get(f"/articles/{keep['id']}").json() == keep
    r = client.get("/articles?limit=1000")
    assert r.status == 200 and len(r.json()) >= len(made) + 1


def test_sql_looking_query_parameters(client):
    before = client.snapshot()
    for s in SQL_STRINGS:
        r = client.get("/articles" + q(author=s))
        assert r.status == 200
        r = client.get("/articles" + q(q=s))
        assert r.status == 200
    assert client.snapshot() == before


def test_head_article(client):
    a = client.create("head me", content="x" * 1000)
    g = client.get(f"/articles/{a['id']}")
    h = client.head(f"/articles/{a['id']}")
    assert h.status == 200 and h.body == b""
    assert media_type(h.header("Content-Type")) == "application/json"
    if h.header("Content-Length") is not None:
        assert int(h.header("Content-Length")) == len(g.body)
    assert client.head(f"/articles/{a['id'] + 10**9}").status == 404
    assert client.head("/articles/abc").status == 400


def test_chunked_request_body(client):
    body = json.dumps({"title": "chunked", "content": "y" * 200000}).encode()
    r = client.post("/articles", body, chunked=True)
    a = assert_json_response(r, 201)
    assert_article(a, title="chunked", content="y" * 200000)


def test_big_content_round_trip(client):
    content = "".join(chr(0x20 + (i * 7919) % 0x5F) for i in range(MIB))  # exactly 1 MiB of ASCII
    a = client.create("big", content=content)
    assert client.get(f"/articles/{a['id']}").json()["content"] == content
    assert client.delete(f"/articles/{a['id']}").status == 204  # keep snapshots small


KEEP_ALIVE_REQUESTS = [
    ("GET", "/health", None),
    ("POST", "/articles", b'{"title": "ka"}'),
    ("GET", "/articles?limit=1", None),
    ("HEAD", "/articles", None),
    ("GET", "/articles/0", None),
    ("GET", "/articles/999999999999", None),
    ("DELETE", "/articles/999999999999", None),
    ("PATCH", "/articles/999999999999", b'{"title": "x"}'),
    ("GET", "/nope", None),
    ("GET", "/metrics", None),
]


@pytest.mark.parametrize("method,path,body", KEEP_ALIVE_REQUESTS,
                         ids=[f"{m} {p}" for m, p, _ in KEEP_ALIVE_REQUESTS])
def test_connection_is_kept_alive(server, method, path, body):
    """HTTP/1.1 connections are persistent (RFC 9112 9.3): after an answer
    the server reads the next request on the same connection."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        for n in range(3):
            head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            sock.sendall(head.encode() + b"\r\n" + (body or b""))
            r = http.client.HTTPResponse(sock, method=method)
            try:
                r.begin()
                r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                raise AssertionError(f"request {n + 1} of {method} {path} on one connection: "
                                     "the server had closed the connection") from None
            assert (r.getheader("Connection") or "").lower() != "close", \
                f"{method} {path} -> {r.status} with Connection: close: keep-alive lost"
    finally:
        sock.close()

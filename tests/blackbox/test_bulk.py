"""POST /articles/bulk: upserts and deletes in one transaction."""
import json
import random

import pytest

from helpers import MAX_JSON_ID, assert_article, assert_json_response, assert_problem, tick


def base_id():
    return random.randint(10**8, 10**12)


def bulk(client, ops, **kw):
    return client.post("/articles/bulk", ops, **kw)


def test_upserts_and_deletes(client):
    b = base_id()
    existing = client.put(f"/articles/{b}", {"title": "old", "content": "old", "author": "x"}).json()
    doomed = client.put(f"/articles/{b + 1}", {"title": "doomed"}).json()
    tick()
    ops = [
        {"op": "upsert", "article": {"id": b + 2, "title": "new", "content": "c", "author": "a"}},
        {"op": "upsert", "article": {"id": b, "title": "replaced"}},
        {"op": "delete", "id": b + 1},
        {"op": "delete", "id": b + 3},
    ]
    r = bulk(client, ops)
    body = assert_json_response(r, 200)
    assert body == {"results": [
        {"op": "upsert", "id": b + 2, "status": 201},
        {"op": "upsert", "id": b, "status": 200},
        {"op": "delete", "id": b + 1, "status": 204},
        {"op": "delete", "id": b + 3, "status": 404},
    ]}
    created = client.get(f"/articles/{b + 2}").json()
    assert_article(created, id=b + 2, title="new", content="c", author="a")
    replaced = client.get(f"/articles/{b}").json()
    # a full replace, as PUT: defaults, created_at kept, updated_at new
    assert_article(replaced, id=b, title="replaced", content="", author=None,
                   created_at=existing["created_at"])
    assert replaced["updated_at"] > existing["updated_at"]
    assert client.get(f"/articles/{doomed['id']}").status == 404
    assert client.get(f"/articles/{b + 3}").status == 404


def test_operations_apply_in_order(client):
    b = base_id()
    ops = [
        {"op": "upsert", "article": {"id": b, "title": "first"}},
        {"op": "upsert", "article": {"id": b, "title": "second"}},
        {"op": "delete", "id": b},
        {"op": "delete", "id": b},
        {"op": "upsert", "article": {"id": b + 1, "title": "kept"}},
    ]
    body = assert_json_response(bulk(client, ops), 200)
    assert [(x["op"], x["id"], x["status"]) for x in body["results"]] == [
        ("upsert", b, 201), ("upsert", b, 200), ("delete", b, 204), ("delete", b, 404),
        ("upsert", b + 1, 201)]
    assert client.get(f"/articles/{b}").status == 404
    assert client.get(f"/articles/{b + 1}").json()["title"] == "kept"


def test_empty_array(client):
    before = client.snapshot()
    assert assert_json_response(bulk(client, []), 200) == {"results": []}
    assert client.snapshot() == before


def test_client_timestamps_ignored_in_bulk(client):
    b = base_id()
    old = "1999-01-01T00:00:00.000Z"
    bulk(client, [{"op": "upsert", "article": {"id": b, "title": "t", "created_at": old, "updated_at": old}}])
    a = client.get(f"/articles/{b}").json()
    assert a["created_at"] != old and a["updated_at"] != old


def test_post_after_bulk_upsert_gets_a_fresh_id(client):
    last = client.create("probe")["id"]
    assert_json_response(bulk(client, [{"op": "upsert", "article": {"id": last + 1, "title": "x"}},
                                       {"op": "upsert", "article": {"id": last + 2, "title": "y"}}]), 200)
    for _ in range(3):
        a = assert_json_response(client.post("/articles", {"title": "after bulk"}), 201)
        assert a["id"] not in (last + 1, last + 2)


def test_exactly_max_ops_accepted(client):
    b = base_id()
    ops = [{"op": "upsert", "article": {"id": b + i, "title": f"bulk {i}"}} for i in range(1000)]
    body = assert_json_response(bulk(client, ops), 200)
    assert len(body["results"]) == 1000
    assert all(x["status"] == 201 for x in body["results"])
    assert client.get(f"/articles/{b + 999}").json()["title"] == "bulk 999"
    # and away again, in one go
    body = assert_json_response(bulk(client, [{"op": "delete", "id": b + i} for i in range(1000)]), 200)
    assert all(x["status"] == 204 for x in body["results"])
    assert client.get(f"/articles/{b}").status == 404


def test_over_max_ops_is_422(client):
    b = base_id()
    ops = [{"op": "upsert", "article": {"id": b + i, "title": f"bulk {i}"}} for i in range(1001)]
    before = client.snapshot()
    assert_problem(bulk(client, ops), 422)
    assert client.snapshot() == before
    ops = [{"op": "delete", "id": b + i} for i in range(1001)]
    assert_problem(bulk(client, ops), 422)


GOOD = {"op": "upsert", "article": {"id": 1, "title": "good"}}

BAD_ITEMS = [
    ("empty title", {"op": "upsert", "article": {"id": 1, "title": ""}}, {"title"}),
    ("long title", {"op": "upsert", "article": {"id": 1, "title": "a" * 201}}, {"title"}),
    ("title null", {"op": "upsert", "article": {"id": 1, "title": None}}, {"title"}),
    ("no title", {"op": "upsert", "article": {"id": 1}}, {"title"}),
    ("title type", {"op": "upsert", "article": {"id": 1, "title": 5}}, {"title"}),
    ("author long", {"op": "upsert", "article": {"id": 1, "title": "t", "author": "a" * 101}}, {"author"}),
    ("content type", {"op": "upsert", "article": {"id": 1, "title": "t", "content": []}}, {"content"}),
    ("content NUL", {"op": "upsert", "article": {"id": 1, "title": "t", "content": "a\u0000"}}, {"content"}),
    ("unknown article field", {"op": "upsert", "article": {"id": 1, "title": "t", "x": 1}}, {"x"}),
    ("upsert without id", {"op": "upsert", "article": {"title": "t"}}, {"id"}),
    ("upsert id zero", {"op": "upsert", "article": {"id": 0, "title": "t"}}, {"id"}),
    ("upsert id string", {"op": "upsert", "article": {"id": "1", "title": "t"}}, {"id"}),
    ("upsert id 2^53", {"op": "upsert", "article": {"id": MAX_JSON_ID + 1, "title": "t"}}, {"id"}),
    ("upsert id float", {"op": "upsert", "article": {"id": 1.5, "title": "t"}}, {"id"}),
    ("article missing", {"op": "upsert"}, {"article"}),
    ("article not object", {"op": "upsert", "article": [1]}, {"article"}),
    ("article null", {"op": "upsert", "article": None}, {"article"}),
    ("delete without id", {"op": "delete"}, {"id"}),
    ("delete id negative", {"op": "delete", "id": -1}, {"id"}),
    ("delete id string", {"op": "delete", "id": "2"}, {"id"}),
    ("delete id null", {"op": "delete", "id": None}, {"id"}),
    ("delete id 2^63", {"op": "delete", "id": 2**63}, {"id"}),
    ("delete with article", {"op": "delete", "id": 1, "article": {"id": 1, "title": "t"}}, {"article"}),
    ("upsert with id", {"op": "upsert", "id": 1, "article": {"id": 1, "title": "t"}}, {"id"}),
    ("unknown op", {"op": "merge", "id": 1}, {"op"}),
    ("op missing", {"id": 1}, {"op"}),
    ("op type", {"op": 1, "id": 1}, {"op"}),
    ("unknown item field", {"op": "delete", "id": 1, "extra": True}, {"extra"}),
]


@pytest.mark.parametrize("name,item,fields", BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
def test_one_bad_item_rejects_all(client, name, item, fields):
    b = base_id()
    victim = client.put(f"/articles/{b + 50}", {"title": "victim"}).json()
    item = json.loads(json.dumps(item))
    if "article" in item and isinstance(item["article"], dict) and item["article"].get("id") == 1:
        item["article"]["id"] = b + 2
    if item.get("id") == 1:
        item["id"] = b + 2
    ops = [
        {"op": "upsert", "article": {"id": b, "title": "would be created"}},
        {"op": "delete", "id": victim["id"]},
        item,
        {"op": "upsert", "article": {"id": b + 1, "title": "after"}},
    ]
    before = client.snapshot()
    accepted = fields | {f"article.{f}" for f in fields}
    assert_problem(bulk(client, ops), 422, index=2, fields=accepted)
    assert client.snapshot() == before
    assert client.get(f"/articles/{victim['id']}").json() == victim


NOT_ITEMS = [1, "x", None, [], True]


@pytest.mark.parametrize("item", NOT_ITEMS, ids=[json.dumps(i) for i in NOT_ITEMS])
def test_item_not_an_object(client, item):
    b = base_id()
    before = client.snapshot()
    assert_problem(bulk(client, [{"op": "upsert", "article": {"id": b, "title": "x"}}, item]), 422, index=1)
    assert client.snapshot() == before


@pytest.mark.parametrize("body", [b"{}", b'{"op": "delete", "id": 1}', b'"x"', b"1", b"null"])
def test_body_not_an_array_is_422(client, body):
    before = client.snapshot()
    assert_problem(client.post("/articles/bulk", body), 422)
    assert client.snapshot() == before


@pytest.mark.parametrize("body", [b"", b"[", b'[{"op": "delete", "id": 1}', b"[] x", b"[]\x00",
                                  b'[{"op": "delete", "id": 1},]'])
def test_malformed_is_400(client, body):
    before = client.snapshot()
    assert_problem(client.post("/articles/bulk", body), 400)
    assert client.snapshot() == before


def test_invalid_utf8_in_bulk_article(client):
    b = base_id()
    before = client.snapshot()
    raw = (b'[{"op": "delete", "id": 1}, {"op": "upsert", "article": {"id": %d, "title": "a\xffb"}}]' % b)
    assert_problem(client.post("/articles/bulk", raw), 422, index=1, fields={"title", "article.title"})
    assert client.snapshot() == before


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/merge-patch+json"])
def test_wrong_content_type_is_415(client, ctype):
    b = base_id()
    before = client.snapshot()
    body = json.dumps([{"op": "upsert", "article": {"id": b, "title": "x"}}]).encode()
    assert_problem(client.post("/articles/bulk", body, content_type=ctype), 415)
    assert client.snapshot() == before

"""Bad input: every rejected request gets its exact status and an
application/problem+json body, and leaves the stored data unchanged."""
import json

import pytest

from helpers import MIB, assert_article, assert_json_response, assert_problem

ALL = ("POST", "PUT", "PATCH")
WHOLE = ("POST", "PUT")  # bodies that must carry a title


def j(obj):
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def existing(server):
    return server.client.create("existing", content="keep me", author="keeper")


def target(method, existing):
    return "/articles" if method == "POST" else f"/articles/{existing['id']}"


def rejected(client, method, path, body, status, content_type="application/json", **problem):
    before = client.snapshot()
    r = client.request(method, path, body, content_type=content_type)
    p = assert_problem(r, status, **problem)
    assert client.snapshot() == before, f"{method} {path} was refused with {status} but changed the data"
    return p


# -- malformed JSON: 400 ---------------------------------------------------
MALFORMED = [
    ("empty body", b""),
    ("only whitespace", b"  \n "),
    ("unterminated object", b"{"),
    ("missing brace", b'{"title": "a"'),
    ("trailing garbage", b'{"title": "a"} x'),
    ("two values", b'{"title": "a"}{}'),
    ("trailing comma", b'{"title": "a",}'),
    ("single quotes", b"{'title': 'a'}"),
    ("bare word", b"nul"),
    ("raw NUL in string", b'{"title": "a\x00b"}'),
    ("raw NUL after value", b'{"title": "a"}\x00'),
    ("raw NUL before value", b'\x00{"title": "a"}'),
    ("raw control char in string", b'{"title": "a\x01b"}'),
    ("bad escape", b'{"title": "a\\qb"}'),
    ("unquoted key", b'{title: "a"}'),
    ("NaN", b'{"title": "a", "content": NaN}'),
]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("name,body", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_json_is_400(client, existing, method, name, body):
    rejected(client, method, target(method, existing), body, 400)


# -- well-formed JSON that breaks the rules: 422 with field ------------------
NOT_OBJECT = [b"[]", b'[{"title": "a"}]', b'"title"', b"1", b"true", b"null"]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("body", NOT_OBJECT, ids=[b.decode() for b in NOT_OBJECT])
def test_not_an_object(client, existing, method, body):
    rejected(client, method, target(method, existing), body, 422)


WRONG_TYPES = [
    ("title", 1), ("title", 1.5), ("title", True), ("title", []), ("title", {}), ("title", ["a"]),
    ("content", 1), ("content", False), ("content", []), ("content", {"a": "b"}),
    ("author", 1), ("author", True), ("author", []), ("author", {"name": "x"}),
]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("fieldname,value", WRONG_TYPES, ids=[f"{f}={json.dumps(v)}" for f, v in WRONG_TYPES])
def test_wrong_type(client, existing, method, fieldname, value):
    body = {"title": "ok"}
    body[fieldname] = value
    rejected(client, method, target(method, existing), j(body), 422, field=fieldname)


@pytest.mark.parametrize("method", WHOLE)
def test_title_null_or_missing(client, existing, method):
    path = target(method, existing)
    rejected(client, method, path, j({"title": None}), 422, field="title")
    rejected(client, method, path, j({"content": "no title"}), 422, field="title")
    rejected(client, method, path, j({}), 422, field="title")


def test_patch_title_null(client, existing):
    rejected(client, "PATCH", target("PATCH", existing), j({"title": None}), 422, field="title")


UNKNOWN = [{"title": "a", "foo": 1}, {"title": "a", "Title": "b"}, {"title": "a", "tags": []},
           {"title": "a", "author_id": None}]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("body", UNKNOWN, ids=[sorted(set(b) - {"title"})[0] for b in UNKNOWN])
def test_unknown_field(client, existing, method, body):
    name = sorted(set(body) - {"title"})[0]
    rejected(client, method, target(method, existing), j(body), 422, field=name)


LENGTHS = [
    ("title", ""),
    ("title", "a" * 201),
    ("title", "é" * 201),
    ("title", "🌍" * 201),
    ("author", "a" * 101),
    ("author", "ü" * 101),
    ("content", "a" * (MIB + 1)),
    ("content", "é" * (MIB // 2) + "a"),  # 524288 characters but 1048577 bytes
]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("fieldname,value", LENGTHS,
                         ids=[f"{f}-{len(v)}x{v[:1]!r}" for f, v in LENGTHS])
def test_bad_length(client, existing, method, fieldname, value):
    body = {"title": "ok"}
    body[fieldname] = value
    rejected(client, method, target(method, existing), j(body), 422, field=fieldname)


@pytest.mark.parametrize("method", ALL)
def test_boundary_lengths_accepted(client, existing, method, server):
    path = target(method, existing)
    if method == "PUT":
        path = f"/articles/{existing['id'] + 7_000_000}"
    cases = [
        {"title": "a" * 200},
        {"title": "é" * 200, "author": "ü" * 100},
        {"title": "🌍" * 200, "author": "a" * 100},
        {"title": "a", "content": "x" * MIB},
        {"title": "a", "content": "é" * (MIB // 2)},
        {"title": "a", "content": "€" * (MIB // 3) + "a"},
    ]
    made = set()
    try:
        for body in cases:
            r = client.request(method, path, j(body))
            assert r.status in ((201,) if method == "POST" else (200, 201)), f"{method} {list(body)} -> {r!r}"
            got = assert_article(r.json())
            if got["id"] != existing["id"]:
                made.add(got["id"])
            for k, v in body.items():
                assert got[k] == v, k
            assert client.get(f"/articles/{got['id']}").json() == got
    finally:
        # keep the module's data small (every refusal test snapshots it all)
        for i in made:
            client.delete(f"/articles/{i}")
        client.put(f"/articles/{existing['id']}", {"title": "existing", "content": "keep me", "author": "keeper"})


NUL_ESCAPES = ["title", "content", "author"]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("fieldname", NUL_ESCAPES)
def test_nul_escape_is_422(client, existing, method, fieldname):
    body = {"title": "ok"}
    body[fieldname] = "before\u0000after"
    raw = json.dumps(body).encode()
    assert b"\\u0000" in raw
    rejected(client, method, target(method, existing), raw, 422, field=fieldname)


BAD_UTF8 = [
    ("lone 0xff", b"\xff"),
    ("bad continuation", b"\xc3\x28"),
    ("lone continuation", b"\x80"),
    ("overlong slash", b"\xc0\xaf"),
    ("overlong nul", b"\xc0\x80"),
    ("encoded surrogate", b"\xed\xa0\x80"),
    ("truncated 3-byte", b"\xe2\x82"),
    ("beyond U+10FFFF", b"\xf4\x90\x80\x80"),
    ("5-byte form", b"\xf8\x88\x80\x80\x80"),
]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("fieldname", ["title", "content", "author"])
@pytest.mark.parametrize("name,bad", BAD_UTF8, ids=[b[0] for b in BAD_UTF8])
def test_invalid_utf8_in_string_is_422(client, existing, method, fieldname, name, bad):
    parts = {"title": b'"ok"', "content": b'"c"', "author": b'"a"'}
    parts[fieldname] = b'"x' + bad + b'y"'
    raw = b"{" + b", ".join(b'"%s": %s' % (k.encode(), v) for k, v in parts.items()) + b"}"
    rejected(client, method, target(method, existing), raw, 422, field=fieldname)


CONTROL = ["\u0001", "\u001f", "\u007f", "\u0085", "\t\r\n", "\u001b[31mred\u001b[0m"]


@pytest.mark.parametrize("ctl", CONTROL, ids=[repr(c) for c in CONTROL])
def test_escaped_control_characters_other_than_nul_are_accepted(client, ctl):
    """The contract refuses NUL only: other control characters, sent as
    JSON escapes, are stored as they are."""
    body = {"title": f"a{ctl}b", "content": f"c{ctl}d", "author": f"e{ctl}f"}
    raw = json.dumps(body).encode()
    r = client.post("/articles", raw)
    a = assert_json_response(r, 201)
    assert_article(a, **body)
    assert client.get(f"/articles/{a['id']}").json() == a
    client.delete(f"/articles/{a['id']}")


# -- ids in bodies -----------------------------------------------------------
@pytest.mark.parametrize("value", [1, None, "1", 0, -1])
def test_post_with_id_is_422(client, existing, value):
    rejected(client, "POST", "/articles", j({"id": value, "title": "a"}), 422, field="id")


def test_post_with_own_existing_id_is_422(client, existing):
    rejected(client, "POST", "/articles", j({"id": existing["id"], "title": "a"}), 422, field="id")


@pytest.mark.parametrize("delta", [1, -1, 1000])
def test_put_body_id_differs_from_path(client, existing, delta):
    rejected(client, "PUT", f"/articles/{existing['id']}",
             j({"id": existing["id"] + delta, "title": "a"}), 422, field="id")


@pytest.mark.parametrize("value", ["1", 1.5, True, None, [], 0, -5, 2**53, 2**63, 2**64])
def test_put_body_id_wrong_type_or_range(client, existing, value):
    rejected(client, "PUT", f"/articles/{existing['id']}", j({"id": value, "title": "a"}), 422, field="id")


def test_put_body_id_beyond_2_53_even_if_equal_to_path(client):
    big = 2**53
    rejected(client, "PUT", f"/articles/{big}", j({"id": big, "title": "a"}), 422, field="id")


# -- content types: 415 ------------------------------------------------------
BAD_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
             "text/json", "application/json-patch+json", "multipart/form-data; boundary=x",
             "application/xml", "json", ""]


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize("ctype", BAD_TYPES, ids=[repr(t) for t in BAD_TYPES])
def test_wrong_content_type_is_415(client, existing, method, ctype):
    rejected(client, method, target(method, existing), j({"title": "a"}), 415, content_type=ctype)


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_merge_patch_type_only_for_patch(client, existing, method):
    rejected(client, method, target(method, existing), j({"title": "a"}), 415,
             content_type="application/merge-patch+json")


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                   "application/json ; charset=\"utf-8\""])
def test_charset_parameter_accepted(client, ctype):
    r = client.post("/articles", j({"title": "charset"}), content_type=ctype)
    assert_json_response(r, 201)


def test_media_type_is_case_insensitive(client):
    """RFC 9110 8.3.1: type and subtype names are case-insensitive."""
    r = client.post("/articles", j({"title": "case"}), content_type="Application/JSON")
    assert_json_response(r, 201)


# -- body size: 413 ----------------------------------------------------------
def test_body_over_default_limit_is_413(client, existing):
    big = j({"title": "a", "content": "x" * (2 * MIB)})
    assert len(big) > 2 * MIB
    for method in ALL:
        rejected(client, method, target(method, existing), big, 413)
    rejected(client, "POST", "/articles/bulk", b"[" + b" " * (2 * MIB) + b"]", 413)


def test_body_over_limit_answered_before_reading_it_all(client, existing):
    """A declared Content-Length over the limit: the answer is 413 even when
    the client keeps sending (raw socket; the server may answer early)."""
    before = client.snapshot()
    body = b'{"title": "a", "content": "' + b"y" * (3 * MIB) + b'"}'
    r = client.raw("POST", "/articles", [("Host", "x"), ("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body)))], body)
    assert_problem(r, 413)
    assert client.snapshot() == before


def test_chunked_body_over_limit_is_413(client):
    before = client.snapshot()
    body = j({"title": "a", "content": "z" * (2 * MIB + 100)})
    r = client.request("POST", "/articles", body, chunked=True)
    assert_problem(r, 413)
    assert client.snapshot() == before


def test_just_under_default_limit_is_not_413(client):
    # 2 MiB of body: within the limit, but the content is over 1 MiB: 422
    body = j({"title": "a", "content": "x" * (2 * MIB - 40)})
    assert len(body) <= 2 * MIB
    rejected(client, "POST", "/articles", body, 422, field="content")


# -- a server with a small body limit ----------------------------------------
@pytest.fixture
def small_body_server(server_factory):
    return server_factory.start(args=["--max-body-bytes", "1024"])


def test_small_max_body_bytes(small_body_server):
    c = small_body_server.client
    prefix = b'{"title": "t", "content": "'
    exact = prefix + b"a" * (1024 - len(prefix) - 2) + b'"}'
    assert len(exact) == 1024
    a = assert_json_response(c.post("/articles", exact), 201)
    assert len(a["content"]) == 1024 - len(prefix) - 2
    over = prefix + b"a" * (1025 - len(prefix) - 2) + b'"}'
    before = c.snapshot()
    assert_problem(c.post("/articles", over), 413)
    assert_problem(c.put(f"/articles/{a['id']}", over), 413)
    assert_problem(c.patch(f"/articles/{a['id']}", over), 413)
    assert_problem(c.request("POST", "/articles", over, chunked=True), 413)
    assert_problem(c.post("/articles/bulk", b"[" + b" " * 2000 + b"]"), 413)
    assert c.snapshot() == before

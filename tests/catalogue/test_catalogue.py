"""The bad-input catalogue: hostile and malformed input for all three programs, one table row per
case, each run as its own pytest item (ids like rest-json-truncated, gql-parse-unclosed-paren,
sync-dead-title-empty). Every case asserts the exact answer (HTTP status and the culprit or error
code, or the exit status and the message naming the problem) and that nothing stored changed
(a snapshot of the REST core's articles before and after; the sync cases that carry good rows
check that exactly those arrived and nothing of the bad ones).

  REST     articles-rest: malformed JSON, broken field rules, bad ids and query parameters,
           wrong methods, media types and sizes, bulk items, missing or wrong bearer tokens,
           raw HTTP framing (request smuggling shapes, oversized headers, odd request lines),
           bad command-line values;
  GraphQL  articles-graphql: parse and validation errors (messages and locations as graphql-js
           words them), the limit flags, GraphQL over HTTP mistakes, variable coercion, input
           the REST core refuses (BAD_USER_INPUT), mutations without a token (UNAUTHENTICATED),
           bad command-line values; the error code is also checked in graphql_errors_total;
  sync     articles-sync: bad flags and environment, bad URLs, missing or wrong REST token,
           and source rows that are dead-lettered while the good rows flow.

The processes are in conftest.py. Nothing here is skipped or expected to fail: a case that fails
shows a defect of the product.
"""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field as dc_field
from typing import Any, Optional

import pytest

from conftest import GR, LIMITS, TOKEN, bin_path, blackbox, dumps
from helpers import MIB, REASONS, media_type

ABSENT = object()   # a problem member that must not be there / a body without "data"
DEFAULT = object()  # the usual Content-Type (application/json when there is a body)

MISSING_TOKEN = "this operation needs a bearer token: send Authorization: Bearer <token>"
INVALID_TOKEN = "the bearer token is not valid"
REASON_OF = {401: "Unauthorized", 501: "Not Implemented"}


def problem(resp, status, *, field=ABSENT, parameter=ABSENT, index=ABSENT, detail=None):
    """An application/problem+json answer with exactly these culprit members."""
    assert resp.status == status, f"expected {status}, got {resp!r}"
    ct = resp.header("Content-Type")
    assert media_type(ct) == "application/problem+json", f"Content-Type {ct!r} in {resp!r}"
    body = resp.json()
    assert body.get("type") == "about:blank", body
    assert body.get("status") == status, body
    assert body.get("title") == resp.reason, body
    assert body["title"] in REASONS.get(status, {REASON_OF.get(status)}), body
    assert isinstance(body.get("detail"), str) and len(body["detail"]) >= 10, body
    for name, want in (("field", field), ("parameter", parameter), ("index", index)):
        if want is ABSENT:
            assert name not in body, f"unexpected {name!r} in {body!r}"
        else:
            assert body.get(name) == want, f"expected {name} {want!r}: {body!r}"
    if detail is not None:
        assert detail in body["detail"], f"detail should say {detail!r}: {body!r}"
    return body


def unchanged(store, before):
    after = store.snapshot()
    assert after == before, (f"the request was refused but the stored articles of {store.name} "
                             f"changed:\nbefore {before!r}\nafter  {after!r}")


# =================================================================================================
# REST: requests through http.client
# =================================================================================================

@dataclass
class Rest:
    id: str
    method: str
    path: str
    body: Optional[bytes]
    status: int
    field: Any = ABSENT
    parameter: Any = ABSENT
    index: Any = ABSENT
    detail: Optional[str] = None
    ctype: Any = DEFAULT
    headers: dict = dc_field(default_factory=dict)
    allow: Optional[set] = None
    chunked: bool = False
    server: str = "rest"
    token: Optional[str] = None  # 401 cases: "missing" or "invalid"


def j(obj):
    return dumps(obj)


def post(id, body, status, **kw):
    return Rest(id, "POST", "/articles", body, status, **kw)


MALFORMED = "malformed JSON"
NOT_UTF8 = "the text is not valid UTF-8"
NUL = "must not contain NUL"
PATH_NUL = "the path holds %00"
BAD_ID = "the article id must be an integer from 1 to 9223372036854775807"
JSON_ID = "id must be an integer from 1 to 9007199254740991"
UNKNOWN_FIELD = "unknown field"
NOT_JSON_TYPE = "send the body as application/json"
ITEM = {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
COLLECTION = {"GET", "HEAD", "POST"}

# Articles 1 to 3 are the targets of ordinary cases. Articles 4 and 5 are only touched by cases
# that would change them when the product is wrong (a %00 in the path), so that such a defect
# cannot change the outcome of other cases.
REST_CASES = [
    # ---- malformed JSON: 400 --------------------------------------------------------------
    post("rest-json-empty-body", b"", 400, detail="the body is empty"),
    post("rest-json-whitespace-only", b" \n\t ", 400),
    post("rest-json-truncated-object", b'{"title": "a"', 400, detail=MALFORMED),
    post("rest-json-truncated-string", b'{"title": "a', 400, detail=MALFORMED),
    post("rest-json-truncated-unicode-escape", b'{"title": "\\u12"}', 400,
         detail="\\u must be followed by four hex digits"),
    post("rest-json-trailing-garbage", b'{"title": "a"} x', 400, detail=MALFORMED),
    post("rest-json-two-documents", b'{"title": "a"}{"title": "b"}', 400, detail=MALFORMED),
    post("rest-json-trailing-comma", b'{"title": "a",}', 400, detail=MALFORMED),
    post("rest-json-single-quotes", b"{'title': 'a'}", 400, detail=MALFORMED),
    post("rest-json-unquoted-key", b'{title: "a"}', 400, detail=MALFORMED),
    Rest("rest-json-leading-zero", "PUT", "/articles/2", b'{"id": 02, "title": "a"}', 400,
         detail=MALFORMED),
    post("rest-json-bare-minus", b"-", 400, detail="a number needs digits"),
    post("rest-json-exponent-without-digits", b'{"title": "a", "content": 1e}', 400,
         detail="an exponent needs digits"),
    post("rest-json-nan", b'{"title": "a", "content": NaN}', 400, detail=MALFORMED),
    post("rest-json-infinity", b'{"title": "a", "content": Infinity}', 400, detail=MALFORMED),
    post("rest-json-byte-order-mark", b'\xef\xbb\xbf{"title": "a"}', 400, detail=MALFORMED),
    post("rest-json-bad-escape", b'{"title": "a\\qb"}', 400, detail=MALFORMED),
    post("rest-json-raw-control-char", b'{"title": "a\x01b"}', 400,
         detail="a control character must be escaped"),
    post("rest-json-raw-newline-in-string", b'{"title": "a\nb"}', 400,
         detail="a control character must be escaped"),
    post("rest-json-raw-nul-byte", b'{"title": "a\x00b"}', 400, detail=MALFORMED),
    post("rest-json-raw-nul-after-value", b'{"title": "a"}\x00', 400, detail=MALFORMED),
    post("rest-json-lone-high-surrogate", b'{"title": "a\\ud800"}', 400,
         detail="a high surrogate \\u escape must be followed by a low one"),
    post("rest-json-lone-low-surrogate", b'{"title": "a\\udc00b"}', 400,
         detail="a low surrogate \\u escape without a high one"),
    post("rest-json-reversed-surrogates", b'{"title": "\\udc00\\ud800"}', 400, detail=MALFORMED),
    post("rest-json-deep-nesting-100000", b"[" * 100000, 400, detail="nested deeper than 64 levels"),
    post("rest-json-deep-nesting-closed", b"[" * 100000 + b"]" * 100000, 400,
         detail="nested deeper than 64 levels"),
    post("rest-json-deep-objects-in-field",
         b'{"title": "a", "content": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}", 400,
         detail="nested deeper than 64 levels"),
    # ---- JSON that breaks the rules: 422 with the culprit ------------------------------------
    post("rest-json-invalid-utf8-byte-ff", b'{"title": "a\xffb"}', 422, field="title", detail=NOT_UTF8),
    Rest("rest-json-invalid-utf8-overlong", "PUT", "/articles/2",
         b'{"title": "t", "content": "a\xc0\xafb"}', 422, field="content", detail=NOT_UTF8),
    post("rest-json-invalid-utf8-encoded-surrogate", b'{"title": "t", "author": "\xed\xa0\x80"}', 422,
         field="author", detail=NOT_UTF8),
    post("rest-json-invalid-utf8-truncated-sequence", b'{"title": "a\xe2\x82"}', 422, field="title",
         detail=NOT_UTF8),
    post("rest-json-invalid-utf8-in-member-name", b'{"title": "t", "\xff": 1}', 422, field="\ufffd",
         detail=UNKNOWN_FIELD),
    post("rest-json-nul-escape-in-title", b'{"title": "a\\u0000b"}', 422, field="title", detail=NUL),
    Rest("rest-json-nul-escape-in-content", "PUT", "/articles/2",
         b'{"title": "t", "content": "\\u0000"}', 422, field="content", detail=NUL),
    Rest("rest-json-nul-escape-in-author", "PATCH", "/articles/2", b'{"author": "x\\u0000"}', 422,
         field="author", detail=NUL),
    post("rest-json-nul-escape-in-member-name", b'{"title": "t", "a\\u0000": 1}', 422,
         field="a\\u0000", detail=NUL),
    post("rest-json-huge-number", b'{"title": "a", "content": 1e999999}', 422, field="content",
         detail="content must be a string"),
    Rest("rest-json-huge-integer-id", "PUT", "/articles/2",
         b'{"id": 99999999999999999999, "title": "a"}', 422, field="id", detail=JSON_ID),
    post("rest-json-not-an-object-array", b'[{"title": "a"}]', 422,
         detail="the article must be a JSON object"),
    post("rest-json-not-an-object-string", b'"title"', 422, detail="the article must be a JSON object"),
    post("rest-json-not-an-object-null", b"null", 422, detail="the article must be a JSON object"),
    Rest("rest-json-not-an-object-number", "PUT", "/articles/2", b"42", 422,
         detail="the article must be a JSON object"),
    post("rest-json-duplicate-key", b'{"title": "a", "title": "b"}', 422, field="title",
         detail="the field appears twice"),
    # ---- field rules: 422 --------------------------------------------------------------------
    post("rest-field-title-missing", j({"content": "no title"}), 422, field="title",
         detail="title is required"),
    post("rest-field-title-null", j({"title": None}), 422, field="title", detail="title must be a string"),
    post("rest-field-title-empty", j({"title": ""}), 422, field="title", detail="title must not be empty"),
    post("rest-field-title-201-chars", j({"title": "a" * 201}), 422, field="title",
         detail="title is 201 characters long; at most 200 are allowed"),
    Rest("rest-field-title-201-emoji", "PUT", "/articles/2", j({"title": "🌍" * 201}), 422,
         field="title", detail="title is 201 characters long"),
    post("rest-field-title-number", j({"title": 1}), 422, field="title", detail="title must be a string"),
    post("rest-field-title-array", j({"title": ["a"]}), 422, field="title"),
    post("rest-field-title-object", j({"title": {"text": "a"}}), 422, field="title"),
    post("rest-field-title-boolean", j({"title": True}), 422, field="title"),
    post("rest-field-content-number", j({"title": "t", "content": 1}), 422, field="content",
         detail="content must be a string"),
    post("rest-field-content-object", j({"title": "t", "content": {"a": "b"}}), 422, field="content"),
    post("rest-field-content-null-on-post", j({"title": "t", "content": None}), 422, field="content"),
    post("rest-field-content-over-1mib", j({"title": "t", "content": "a" * (MIB + 1)}), 422,
         field="content", detail="content is 1048577 bytes long"),
    post("rest-field-author-number", j({"title": "t", "author": 7}), 422, field="author",
         detail="author must be a string or null"),
    post("rest-field-author-array", j({"title": "t", "author": ["a"]}), 422, field="author"),
    post("rest-field-author-101-chars", j({"title": "t", "author": "ü" * 101}), 422, field="author",
         detail="author is 101 characters long; at most 100 are allowed"),
    post("rest-field-unknown", j({"title": "t", "tags": []}), 422, field="tags", detail=UNKNOWN_FIELD),
    post("rest-field-unknown-other-case", j({"title": "t", "Title": "u"}), 422, field="Title",
         detail=UNKNOWN_FIELD),
    post("rest-field-unknown-empty-name", j({"title": "t", "": 1}), 422, detail=UNKNOWN_FIELD),
    post("rest-field-id-in-post", j({"id": 77, "title": "t"}), 422, field="id",
         detail="id is assigned by the server on POST"),
    post("rest-field-id-null-in-post", j({"id": None, "title": "t"}), 422, field="id"),
    Rest("rest-put-id-differs-from-path", "PUT", "/articles/2", j({"id": 3, "title": "t"}), 422,
         field="id", detail="id in the body differs from the id in the path"),
    Rest("rest-put-id-string", "PUT", "/articles/2", j({"id": "2", "title": "t"}), 422, field="id",
         detail=JSON_ID),
    Rest("rest-put-id-fraction", "PUT", "/articles/2", j({"id": 2.5, "title": "t"}), 422, field="id",
         detail=JSON_ID),
    Rest("rest-put-id-negative-zero", "PUT", "/articles/2", b'{"id": -0, "title": "t"}', 422,
         field="id", detail=JSON_ID),
    Rest("rest-put-path-id-beyond-2-53", "PUT", f"/articles/{2**53}", j({"title": "t"}), 422,
         field="id", detail="ids above 9007199254740991 cannot be stored"),
    Rest("rest-put-title-missing", "PUT", "/articles/2", j({"content": "c"}), 422, field="title",
         detail="title is required"),
    # ---- PATCH (JSON merge patch) ------------------------------------------------------------
    Rest("rest-patch-title-null", "PATCH", "/articles/2", j({"title": None}), 422, field="title",
         detail="title cannot be removed"),
    Rest("rest-patch-title-empty", "PATCH", "/articles/2", j({"title": ""}), 422, field="title",
         detail="title must not be empty"),
    Rest("rest-patch-unknown-field", "PATCH", "/articles/2", j({"views": 3}), 422, field="views",
         detail=UNKNOWN_FIELD),
    Rest("rest-patch-id-changed", "PATCH", "/articles/2", j({"id": 3}), 422, field="id",
         detail="id cannot be changed"),
    Rest("rest-patch-id-string", "PATCH", "/articles/2", j({"id": "2"}), 422, field="id",
         detail="id cannot be changed"),
    Rest("rest-patch-json-patch-document", "PATCH", "/articles/2",
         j([{"op": "replace", "path": "/title", "value": "x"}]), 422,
         detail="a merge patch must be a JSON object"),
    Rest("rest-patch-json-patch-media-type", "PATCH", "/articles/2", j({"title": "x"}), 415,
         ctype="application/json-patch+json", detail=NOT_JSON_TYPE),
    Rest("rest-patch-malformed-merge-patch", "PATCH", "/articles/2", b'{"title": ', 400,
         ctype="application/merge-patch+json", detail=MALFORMED),
    Rest("rest-patch-author-101-chars", "PATCH", "/articles/2", j({"author": "a" * 101}), 422,
         field="author", detail="author is 101 characters long"),
    Rest("rest-patch-content-number", "PATCH", "/articles/2", j({"content": 5}), 422,
         field="content", detail="content must be a string"),
    Rest("rest-patch-duplicate-key", "PATCH", "/articles/2", b'{"author": "a", "author": "b"}', 422,
         field="author", detail="the field appears twice"),
    Rest("rest-patch-missing-article", "PATCH", "/articles/424242", j({"title": "x"}), 404,
         detail="no article has this id"),
    # ---- ids in the path: 400 ----------------------------------------------------------------
    Rest("rest-id-not-numeric", "GET", "/articles/abc", None, 400, detail=BAD_ID),
    Rest("rest-id-negative", "DELETE", "/articles/-1", None, 400, detail=BAD_ID),
    Rest("rest-id-zero", "PUT", "/articles/0", j({"title": "t"}), 400, detail=BAD_ID),
    Rest("rest-id-overflow", "DELETE", "/articles/99999999999999999999", None, 400, detail=BAD_ID),
    Rest("rest-id-2-63", "GET", "/articles/9223372036854775808", None, 400, detail=BAD_ID),
    Rest("rest-id-dot-dot", "GET", "/articles/..", None, 400, detail=BAD_ID),
    Rest("rest-id-decimal", "PATCH", "/articles/1.0", j({"title": "t"}), 400, detail=BAD_ID),
    Rest("rest-id-hex", "GET", "/articles/0x1A", None, 400, detail=BAD_ID),
    Rest("rest-id-plus-sign", "DELETE", "/articles/+1", None, 400, detail=BAD_ID),
    Rest("rest-id-encoded-space", "GET", "/articles/%201", None, 400, detail=BAD_ID),
    Rest("rest-id-head-not-numeric", "HEAD", "/articles/abc", None, 400),
    # %00 in a path would cut it short (/articles/4%00x routed as /articles/4): refused as such
    Rest("rest-id-percent-00-get", "GET", "/articles/1%00", None, 400, detail=PATH_NUL),
    Rest("rest-id-percent-00-put", "PUT", "/articles/4%00", j({"title": "replaced through %00"}), 400,
         detail=PATH_NUL),
    Rest("rest-id-percent-00-delete", "DELETE", "/articles/5%00junk", None, 400, detail=PATH_NUL),
    Rest("rest-route-percent-00-after-collection", "POST", "/articles%00", j({"title": "via %00"}), 400,
         detail=PATH_NUL),
    Rest("rest-id-missing-delete", "DELETE", "/articles/424242", None, 404, detail="no article has this id"),
    Rest("rest-route-trailing-slash", "DELETE", "/articles/1/", None, 404, detail="no such route"),
    Rest("rest-route-subresource", "POST", "/articles/1/comments", j({"title": "t"}), 404,
         detail="no such route"),
    # ---- query parameters of GET /articles: 400 with parameter -------------------------------
    Rest("rest-query-limit-negative", "GET", "/articles?limit=-1", None, 400, parameter="limit",
         detail="limit must be an integer from 1 to 1000"),
    Rest("rest-query-limit-not-a-number", "GET", "/articles?limit=abc", None, 400, parameter="limit"),
    Rest("rest-query-limit-too-large", "GET", "/articles?limit=1001", None, 400, parameter="limit"),
    Rest("rest-query-limit-zero", "GET", "/articles?limit=0", None, 400, parameter="limit"),
    Rest("rest-query-limit-empty", "GET", "/articles?limit=", None, 400, parameter="limit"),
    Rest("rest-query-limit-without-value", "GET", "/articles?limit", None, 400, parameter="limit"),
    Rest("rest-query-limit-fraction", "GET", "/articles?limit=1.5", None, 400, parameter="limit"),
    Rest("rest-query-limit-plus-sign", "GET", "/articles?limit=%2B1", None, 400, parameter="limit"),
    Rest("rest-query-limit-twice", "GET", "/articles?limit=1&limit=2", None, 400, parameter="limit",
         detail="limit is given more than once"),
    Rest("rest-query-offset-negative", "GET", "/articles?offset=-1", None, 400, parameter="offset",
         detail="offset must be an integer from 0 to 9223372036854775807"),
    Rest("rest-query-offset-overflow", "GET", "/articles?offset=99999999999999999999", None, 400,
         parameter="offset"),
    Rest("rest-query-after-id-junk", "GET", "/articles?sort=id&after_id=x", None, 400,
         parameter="after_id", detail="after_id must be an integer from 1"),
    Rest("rest-query-after-id-zero", "GET", "/articles?sort=id&after_id=0", None, 400,
         parameter="after_id"),
    Rest("rest-query-after-id-with-sort-by-time", "GET", "/articles?sort=updated_at&after_id=1", None,
         400, parameter="after_id", detail="after_id pages by id"),
    Rest("rest-query-sort-unknown", "GET", "/articles?sort=title", None, 400, parameter="sort",
         detail="sort must be one of id, -id, updated_at, -updated_at"),
    Rest("rest-query-sort-upper-case", "GET", "/articles?sort=ID", None, 400, parameter="sort"),
    Rest("rest-query-sort-twice", "GET", "/articles?sort=id&sort=-id", None, 400, parameter="sort",
         detail="sort is given more than once"),
    Rest("rest-query-unknown-parameter", "GET", "/articles?foo=1", None, 400, parameter="foo",
         detail="unknown query parameter"),
    Rest("rest-query-unknown-upper-case", "GET", "/articles?LIMIT=1", None, 400, parameter="LIMIT"),
    Rest("rest-query-percent-00-in-value", "GET", "/articles?q=a%00b", None, 400, parameter="q",
         detail="query parameters must not contain NUL"),
    Rest("rest-query-percent-00-in-name", "GET", "/articles?li%00mit=1", None, 400, parameter="li",
         detail="query parameters must not contain NUL"),
    Rest("rest-query-author-invalid-utf8", "GET", "/articles?author=%FF", None, 400,
         parameter="author", detail="author is not valid UTF-8"),
    Rest("rest-query-q-201-chars", "GET", "/articles?q=" + "a" * 201, None, 400, parameter="q",
         detail="q is longer than 200 characters"),
    Rest("rest-query-author-101-chars", "GET", "/articles?author=" + "a" * 101, None, 400,
         parameter="author", detail="author is longer than 100 characters"),
    # ---- methods: 405 with Allow -------------------------------------------------------------
    Rest("rest-method-delete-collection", "DELETE", "/articles", None, 405, allow=COLLECTION),
    Rest("rest-method-put-collection", "PUT", "/articles", j({"title": "t"}), 405, allow=COLLECTION),
    Rest("rest-method-post-item", "POST", "/articles/1", j({"title": "t"}), 405, allow=ITEM),
    Rest("rest-method-get-bulk", "GET", "/articles/bulk", None, 405, allow={"POST"}),
    Rest("rest-method-delete-bulk", "DELETE", "/articles/bulk", None, 405, allow={"POST"}),
    Rest("rest-method-trace", "TRACE", "/articles/1", None, 405, allow=ITEM),
    Rest("rest-method-options", "OPTIONS", "/articles", None, 405, allow=COLLECTION),
    Rest("rest-method-post-health", "POST", "/health", j({"title": "t"}), 405, allow={"GET", "HEAD"}),
    Rest("rest-method-absurd", "FOO", "/articles", j({"title": "t"}), 405, allow=COLLECTION),
    Rest("rest-method-lower-case", "post", "/articles", j({"title": "t"}), 405, allow=COLLECTION),
    # ---- media types: 415 --------------------------------------------------------------------
    post("rest-ctype-text-plain", j({"title": "t"}), 415, ctype="text/plain", detail=NOT_JSON_TYPE),
    post("rest-ctype-missing", j({"title": "t"}), 415, ctype=None, detail=NOT_JSON_TYPE),
    Rest("rest-ctype-form-urlencoded", "PUT", "/articles/2", b"title=t", 415,
         ctype="application/x-www-form-urlencoded", detail=NOT_JSON_TYPE),
    post("rest-ctype-merge-patch-on-post", j({"title": "t"}), 415, ctype="application/merge-patch+json"),
    Rest("rest-ctype-text-json-on-patch", "PATCH", "/articles/2", j({"title": "t"}), 415,
         ctype="text/json"),
    post("rest-ctype-jsonx", j({"title": "t"}), 415, ctype="application/jsonx"),
    post("rest-ctype-multipart", j({"title": "t"}), 415, ctype="multipart/form-data; boundary=x"),
    Rest("rest-ctype-bulk-text-plain", "POST", "/articles/bulk",
         j([{"op": "upsert", "article": {"id": 9, "title": "t"}}]), 415, ctype="text/plain"),
    # ---- sizes: 413 --------------------------------------------------------------------------
    post("rest-size-body-over-2mib", j({"title": "t", "content": "x" * (2 * MIB)}), 413),
    post("rest-size-chunked-body-over-2mib", j({"title": "t", "content": "y" * (2 * MIB)}), 413,
         chunked=True),
    Rest("rest-size-bulk-over-2mib", "POST", "/articles/bulk", b"[" + b" " * (2 * MIB) + b"]", 413),
    # ---- bulk: 422 with the index of the bad item; nothing is applied ------------------------
    Rest("rest-bulk-not-an-array", "POST", "/articles/bulk", j({"op": "delete", "id": 1}), 422,
         detail="a bulk request must be a JSON array"),
    Rest("rest-bulk-item-not-an-object", "POST", "/articles/bulk", j([{"op": "delete", "id": 1}, 5]),
         422, index=1, detail="each operation must be a JSON object"),
    Rest("rest-bulk-op-missing", "POST", "/articles/bulk", j([{"id": 1}]), 422, index=0, field="op",
         detail='op must be "upsert" or "delete"'),
    Rest("rest-bulk-op-unknown", "POST", "/articles/bulk", j([{"op": "merge", "id": 1}]), 422,
         index=0, field="op"),
    Rest("rest-bulk-op-twice", "POST", "/articles/bulk", b'[{"op": "delete", "op": "delete", "id": 1}]',
         422, index=0, field="op", detail="the field appears twice"),
    Rest("rest-bulk-unknown-member", "POST", "/articles/bulk",
         j([{"op": "delete", "id": 1, "force": True}]), 422, index=0, field="force", detail=UNKNOWN_FIELD),
    Rest("rest-bulk-upsert-without-article", "POST", "/articles/bulk", j([{"op": "upsert"}]), 422,
         index=0, field="article", detail="an upsert needs an article object"),
    Rest("rest-bulk-upsert-id-outside-article", "POST", "/articles/bulk",
         j([{"op": "upsert", "id": 1, "article": {"id": 1, "title": "t"}}]), 422, index=0, field="id"),
    Rest("rest-bulk-upsert-without-id", "POST", "/articles/bulk",
         j([{"op": "upsert", "article": {"title": "t"}}]), 422, index=0, field="article.id",
         detail="id is required in a bulk upsert"),
    Rest("rest-bulk-bad-item-after-good-ones", "POST", "/articles/bulk",
         j([{"op": "delete", "id": 1}, {"op": "upsert", "article": {"id": 2, "title": "changed"}},
            {"op": "upsert", "article": {"id": 600, "title": ""}}]), 422, index=2,
         field="article.title", detail="title must not be empty"),
    Rest("rest-bulk-upsert-unknown-article-field", "POST", "/articles/bulk",
         j([{"op": "upsert", "article": {"id": 2, "title": "t", "tags": []}}]), 422, index=0,
         field="article.tags"),
    Rest("rest-bulk-upsert-invalid-utf8", "POST", "/articles/bulk",
         b'[{"op": "upsert", "article": {"id": 2, "title": "t\xff"}}]', 422, index=0,
         field="article.title", detail=NOT_UTF8),
    Rest("rest-bulk-upsert-nul-escape", "POST", "/articles/bulk",
         b'[{"op": "delete", "id": 3}, {"op": "upsert", "article": {"id": 2, "title": "a\\u0000"}}]',
         422, index=1, field="article.title", detail=NUL),
    Rest("rest-bulk-upsert-id-beyond-2-53", "POST", "/articles/bulk",
         j([{"op": "upsert", "article": {"id": 2**53, "title": "t"}}]), 422, index=0, field="article.id",
         detail=JSON_ID),
    Rest("rest-bulk-delete-with-article", "POST", "/articles/bulk",
         j([{"op": "delete", "id": 1, "article": {}}]), 422, index=0, field="article",
         detail="a delete carries only an id"),
    Rest("rest-bulk-delete-id-string", "POST", "/articles/bulk", j([{"op": "delete", "id": "1"}]), 422,
         index=0, field="id", detail=JSON_ID),
    Rest("rest-bulk-delete-id-zero", "POST", "/articles/bulk", j([{"op": "delete", "id": 0}]), 422,
         index=0, field="id"),
    Rest("rest-bulk-over-the-limit", "POST", "/articles/bulk",
         j([{"op": "delete", "id": 1}] + [{"op": "delete", "id": 10**6 + i} for i in range(1000)]), 422,
         detail="1001 operations; at most 1000 are allowed"),
    Rest("rest-bulk-malformed", "POST", "/articles/bulk", b'[{"op": "delete", "id": 1}', 400,
         detail=MALFORMED),
    Rest("rest-bulk-deep-nesting", "POST", "/articles/bulk", b"[" * 100000, 400,
         detail="nested deeper than 64 levels"),
    # ---- bearer tokens (a server started with --api-tokens): 401 before anything else --------
    Rest("rest-auth-post-without-token", "POST", "/articles", j({"title": "t"}), 401,
         server="rest_auth", token="missing"),
    Rest("rest-auth-put-wrong-token", "PUT", "/articles/1", j({"title": "t"}), 401, server="rest_auth",
         headers={"Authorization": "Bearer wrong-token-0123456789abcdef"}, token="invalid"),
    Rest("rest-auth-patch-basic-scheme", "PATCH", "/articles/1", j({"title": "t"}), 401,
         server="rest_auth", headers={"Authorization": f"Basic {TOKEN}"}, token="missing"),
    Rest("rest-auth-delete-token-without-scheme", "DELETE", "/articles/1", None, 401, server="rest_auth",
         headers={"Authorization": TOKEN}, token="missing"),
    Rest("rest-auth-bulk-without-token", "POST", "/articles/bulk",
         j([{"op": "delete", "id": 1}]), 401, server="rest_auth", token="missing"),
    Rest("rest-auth-token-with-suffix", "DELETE", "/articles/2", None, 401, server="rest_auth",
         headers={"Authorization": f"Bearer {TOKEN}x"}, token="invalid"),
    Rest("rest-auth-token-with-trailing-word", "DELETE", "/articles/2", None, 401, server="rest_auth",
         headers={"Authorization": f"Bearer {TOKEN} x"}, token="invalid"),
    Rest("rest-auth-bearer-without-token", "DELETE", "/articles/2", None, 401, server="rest_auth",
         headers={"Authorization": "Bearer "}, token="invalid"),
    Rest("rest-auth-token-in-query-string", "POST", f"/articles?access_token={TOKEN}",
         j({"title": "t"}), 401, server="rest_auth", token="missing"),
    Rest("rest-auth-malformed-json-without-token", "POST", "/articles", b"{", 401, server="rest_auth",
         token="missing"),
    Rest("rest-auth-bad-id-without-token", "PUT", "/articles/abc", j({"title": "t"}), 401,
         server="rest_auth", token="missing"),
    Rest("rest-auth-wrong-media-type-without-token", "POST", "/articles", b"<a/>", 401,
         server="rest_auth", ctype="application/xml", token="missing"),
]


def check_401(resp, kind):
    body = problem(resp, 401, detail=MISSING_TOKEN if kind == "missing" else INVALID_TOKEN)
    challenge = resp.header("WWW-Authenticate")
    assert challenge and challenge.startswith("Bearer ") and 'realm="articles"' in challenge, resp
    assert ('error="invalid_token"' in challenge) == (kind == "invalid"), challenge
    return body


@pytest.mark.parametrize("case", REST_CASES, ids=[c.id for c in REST_CASES])
def test_rest(case, request):
    store = request.getfixturevalue(case.server)
    kw = {"headers": dict(case.headers), "chunked": case.chunked}
    if case.ctype is not DEFAULT:
        kw["content_type"] = case.ctype
    before = store.snapshot()
    r = store.client.request(case.method, case.path, case.body, **kw)
    if case.token:
        check_401(r, case.token)
    elif case.method == "HEAD":
        assert r.status == case.status and r.body == b"", r
    else:
        problem(r, case.status, field=case.field, parameter=case.parameter, index=case.index,
                detail=case.detail)
    if case.allow is not None:
        allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
        assert allow == case.allow, f"Allow {r.header('Allow')!r}, expected {sorted(case.allow)}"
    assert store.alive(), f"{store.name} died:\n{store.server.log_tail()}"
    unchanged(store, before)


# =================================================================================================
# REST and GraphQL: raw HTTP on a socket (framing, request smuggling, oversized heads)
# =================================================================================================

CLOSED = None  # the expected status of a request answered by closing the connection


@dataclass
class Raw:
    id: str
    data: bytes
    status: Optional[int]
    detail: Optional[str] = None  # in a problem+json (REST) or GraphQL errors body
    closes: bool = False          # the connection must be closed after the one answer
    oversized: bool = False       # the server may reset before the answer is read: retry
    server: str = "rest"
    # libmicrohttpd 0.9.75 answers these itself, before the server sees the request, and sends
    # its head twice: only the first status line and the closed connection are checked
    garbled: bool = False


ARTICLE = b'{"title": "smuggled"}'


def http_post(path=b"/articles", extra=b"", body=ARTICLE, version=b"HTTP/1.1", length=True,
              ctype=b"application/json"):
    head = b"POST " + path + b" " + version + b"\r\nHost: t\r\nContent-Type: " + ctype + b"\r\n"
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + extra + b"\r\n" + body


def chunked(body=ARTICLE, size=None, extra=b"", version=b"HTTP/1.1", path=b"/articles"):
    size = b"%x" % len(body) if size is None else size
    return (b"POST " + path + b" " + version + b"\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n" + size + b"\r\n" + body + b"\r\n0\r\n\r\n")


def cl_te_smuggle(path, inner_body, ctype=b"application/json"):
    """A request whose Content-Length covers a second, hidden request that a server framing by
    Transfer-Encoding would read as the next one."""
    inner = (b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: " + ctype +
             b"\r\nContent-Length: %d\r\n\r\n" % len(inner_body) + inner_body)
    body = b"0\r\n\r\n" + inner
    return (b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) + body)


CLOSE = b"Connection: close\r\n"
BOTH_FRAMINGS = "both Content-Length and Transfer-Encoding"
CONTROL_CHAR = "a header value holds a control character"
SMUGGLED_MUTATION = dumps({"query": 'mutation { createArticle(input: {title: "smuggled"}) { id } }'})

RAW_CASES = [
    Raw("rest-raw-header-too-large",
        b"GET /articles HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431, oversized=True),
    Raw("rest-raw-too-many-headers",
        b"GET /articles HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(3000)) +
        b"\r\n", 431, oversized=True),
    Raw("rest-raw-uri-too-long", b"GET /articles?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        414, oversized=True),
    Raw("rest-raw-declared-length-over-limit",
        http_post(body=b'{"title": "t", "content": "' + b"z" * (3 * MIB) + b'"}'), 413, oversized=True),
    Raw("rest-raw-content-length-and-chunked",
        http_post(length=False, extra=b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                  body=b"%x\r\n" % len(ARTICLE) + ARTICLE + b"\r\n0\r\n\r\n"),
        400, detail=BOTH_FRAMINGS, closes=True),
    Raw("rest-raw-smuggled-request-cl-te", cl_te_smuggle(b"/articles", ARTICLE), 400,
        detail=BOTH_FRAMINGS, closes=True),
    Raw("rest-raw-two-content-lengths-differ", http_post(extra=b"Content-Length: 3\r\n"), 400,
        detail="more than one Content-Length", closes=True),
    Raw("rest-raw-two-content-lengths-equal", http_post(extra=b"Content-Length: %d\r\n" % len(ARTICLE)),
        400, detail="more than one Content-Length", closes=True),
    Raw("rest-raw-content-length-list",
        http_post(length=False, extra=b"Content-Length: %d, %d\r\n" % (len(ARTICLE), len(ARTICLE))), 400,
        closes=True, garbled=True),
    Raw("rest-raw-content-length-negative", http_post(length=False, extra=b"Content-Length: -1\r\n"),
        400, closes=True, garbled=True),
    Raw("rest-raw-content-length-hex", http_post(length=False, extra=b"Content-Length: 0x15\r\n"), 400,
        closes=True, garbled=True),
    Raw("rest-raw-content-length-huge",
        http_post(length=False, extra=b"Content-Length: 99999999999999999999999\r\n"), 413, closes=True, garbled=True),
    Raw("rest-raw-transfer-coding-gzip",
        http_post(length=False, extra=b"Transfer-Encoding: gzip\r\n"), 501,
        detail="the only transfer coding understood is chunked", closes=True),
    Raw("rest-raw-transfer-coding-gzip-chunked", chunked().replace(b"chunked\r\n", b"gzip, chunked\r\n", 1),
        501, detail="the only transfer coding understood is chunked", closes=True),
    Raw("rest-raw-transfer-encoding-twice", chunked(extra=b"Transfer-Encoding: chunked\r\n"), 400,
        detail="more than one Transfer-Encoding", closes=True),
    Raw("rest-raw-chunked-on-http-1-0", chunked(version=b"HTTP/1.0"), 400,
        detail="Transfer-Encoding needs HTTP/1.1", closes=True),
    Raw("rest-raw-space-before-colon",
        chunked().replace(b"Transfer-Encoding:", b"Transfer-Encoding :"), 400,
        detail="a header name holds a character that is not allowed", closes=True),
    Raw("rest-raw-chunk-size-junk", chunked(size=b"zz"), 400, closes=True),
    Raw("rest-raw-chunk-size-negative", chunked(size=b"-15"), 400, closes=True),
    Raw("rest-raw-chunk-size-0x-prefix", chunked(size=b"0x15"), 400, closes=True),
    Raw("rest-raw-chunk-size-huge", chunked(size=b"ffffffffffffffffffff"), 413, closes=True),
    Raw("rest-raw-chunk-shorter-than-data", chunked(size=b"5"), 400, closes=True),
    Raw("rest-raw-bare-cr-in-header", http_post(extra=b"X-A: a\rb\r\n"), 400, detail=CONTROL_CHAR,
        closes=True),
    Raw("rest-raw-del-in-header", http_post(extra=b"X-A: \x7f\r\n"), 400, detail=CONTROL_CHAR,
        closes=True),
    # libmicrohttpd 0.9 ends a header value at a NUL byte before the server sees it: what
    # follows the NUL is never interpreted, so it cannot pass for a media type or a token
    Raw("rest-raw-nul-in-header-value",
        http_post(ctype=b"text/plain\x00application/json", extra=CLOSE), 415,
        detail="send the body as application/json", closes=True),
    Raw("rest-raw-nul-in-authorization",
        http_post(extra=b"Authorization: Bearer junk\x00" + TOKEN.encode() + b"\r\n" + CLOSE), 401,
        closes=True, server="rest_auth"),
    Raw("rest-raw-nul-in-header-name", http_post(extra=b"X-\x00A: 1\r\n"), 400, closes=True),
    Raw("rest-raw-header-without-colon", http_post(extra=b"Garbage\r\n"), 400, closes=True),
    Raw("rest-raw-two-host-headers", http_post(extra=b"Host: u\r\n"), 400,
        detail="more than one Host header", closes=True),
    Raw("rest-raw-no-host-header", http_post().replace(b"Host: t\r\n", b""), 400, closes=True, garbled=True),
    Raw("rest-raw-nul-in-request-target",
        b"PUT /articles/4\x00zz HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + CLOSE +
        b"Content-Length: %d\r\n\r\n" % len(ARTICLE) + ARTICLE, 400, closes=True),
    Raw("rest-raw-http-0-9", b"GET /articles\r\n", 400, closes=True),
    Raw("rest-raw-http-2-0-request-line", b"GET /articles HTTP/2.0\r\nHost: t\r\n\r\n", 505, closes=True),
    Raw("rest-raw-bad-protocol-name", b"GET /articles HTTX/1.1\r\nHost: t\r\n\r\n", 400, closes=True),
    Raw("rest-raw-empty-request-target", b"GET  HTTP/1.1\r\nHost: t\r\n\r\n", 400, closes=True),
    Raw("rest-raw-space-in-request-target", http_post(path=b"/arti cles"), CLOSED),
    Raw("rest-raw-tls-client-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", CLOSED),
    # the gateway shares the HTTP glue: the same shapes, answered in GraphQL's error format
    Raw("gql-raw-smuggled-mutation-cl-te", cl_te_smuggle(b"/graphql", SMUGGLED_MUTATION), 400,
        detail=BOTH_FRAMINGS, closes=True, server="gateway"),
    Raw("gql-raw-two-content-lengths",
        http_post(path=b"/graphql", body=SMUGGLED_MUTATION, extra=b"Content-Length: 3\r\n"), 400,
        detail="more than one Content-Length", closes=True, server="gateway"),
    Raw("gql-raw-two-host-headers", http_post(path=b"/graphql", body=SMUGGLED_MUTATION,
                                              extra=b"Host: u\r\n"), 400,
        detail="more than one Host header", closes=True, server="gateway"),
    Raw("gql-raw-percent-00-in-path",
        http_post(path=b"/graphql%00x", body=SMUGGLED_MUTATION, extra=CLOSE), 400,
        detail=PATH_NUL, closes=True, server="gateway"),
]


def parse_answers(data):
    """The HTTP/1.1 answers in data (each with Content-Length), as (status, headers, body)."""
    out = []
    while data.startswith(b"HTTP/1."):
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete answer: {data[:300]!r}"
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
        n = int(headers.get("content-length", "0"))
        if status in (100,):
            n = 0
        body = rest[:n]
        assert not body.startswith(b"HTTP/1."), (
            f"malformed answer: its status line and headers were sent twice, the second copy "
            f"taken as the body: {data[:400]!r}")
        out.append((status, headers, body))
        data = rest[n:]
    assert not data, f"bytes after the answers: {data[:300]!r}"
    return out


def exchange(port, data, timeout=5.0):
    """Sends data on a new connection and reads until the server closes it (or timeout):
    (bytes read, "closed" | "reset" | "open")."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out, how = b"", "open"
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early (431, 413) and closed: read the answer
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                how = "reset"
                break
            if not chunk:
                how = "closed"
                break
            out += chunk
    finally:
        s.close()
    return out, how


@pytest.mark.parametrize("case", RAW_CASES, ids=[c.id for c in RAW_CASES])
def test_raw_http(case, request):
    target = request.getfixturevalue(case.server)
    store = target.store if case.server.startswith("gateway") else target
    before = store.snapshot()
    attempts = 5 if case.oversized else 1
    seen = []
    if case.garbled:
        data, how = exchange(target.port, case.data)
        assert data.startswith(b"HTTP/1.1 %d " % case.status), data[:300]
        assert how in ("closed", "reset"), "the connection was kept open after the refusal"
        assert target.alive(), f"{case.server} died"
        unchanged(store, before)
        return
    for _ in range(attempts):
        data, how = exchange(target.port, case.data)
        answers = parse_answers(data)
        seen.append((answers, how))
        if answers or case.status is CLOSED:
            break
    answers, how = seen[-1]
    if case.status is CLOSED:
        assert answers == [] and how in ("closed", "reset"), (
            f"expected the connection closed without an answer, got {how}: {data[:300]!r}")
    else:
        assert answers, f"no answer in {len(seen)} attempts (connection {how})"
        assert [a[0] for a in answers] == [case.status], (
            f"expected one answer {case.status}, got {[a[0] for a in answers]}: {data[:600]!r}")
        status, headers, body = answers[0]
        if case.detail is not None:
            if case.server.startswith("gateway"):
                assert case.detail in json.loads(body)["errors"][0]["message"], body
            else:
                assert media_type(headers.get("content-type")) == "application/problem+json", headers
                got = json.loads(body)
                assert got["status"] == status and case.detail in got["detail"], got
        if case.closes:
            assert how in ("closed", "reset"), "the connection was kept open after the refusal"
    assert target.alive(), f"{case.server} died"
    unchanged(store, before)


# =================================================================================================
# Bad command-line values: exit 2 with one line on stderr naming the problem
# =================================================================================================

@dataclass
class Flags:
    id: str
    program: str
    args: list
    says: str
    status: int = 2


FLAG_CASES = [
    Flags("rest-flag-unknown-option", "articles-rest", ["--bogus"], "unknown option '--bogus'"),
    Flags("rest-flag-max-limit-zero", "articles-rest", ["--max-limit", "0"], "--max-limit"),
    Flags("rest-flag-database-url-scheme", "articles-rest", ["--database-url", "mysql://x"],
          "unsupported database URL scheme 'mysql'"),
    Flags("rest-flag-token-too-short", "articles-rest", ["--api-tokens", "short"],
          "the token is shorter than 16 bytes"),
    Flags("rest-flag-port-out-of-range", "articles-rest", ["--port", "70000"], "--port"),
    Flags("rest-flag-auth-reads-unknown", "articles-rest", ["--auth-reads", "maybe"], "--auth-reads"),
    Flags("rest-flag-max-body-negative", "articles-rest", ["--max-body-bytes", "-1"], "--max-body-bytes"),
    Flags("gql-flag-max-depth-zero", "articles-graphql", ["--max-depth", "0"], "--max-depth"),
    Flags("gql-flag-max-tokens-not-a-number", "articles-graphql", ["--max-tokens", "abc"], "--max-tokens"),
    Flags("gql-flag-rest-url-scheme", "articles-graphql", ["--rest-api-url", "ftp://x"],
          "--rest-api-url"),
    Flags("gql-flag-rest-url-port-out-of-range", "articles-graphql",
          ["--rest-api-url", "http://127.0.0.1:99999"], "--rest-api-url"),
    Flags("gql-flag-introspection-unknown", "articles-graphql", ["--introspection", "maybe"],
          "--introspection"),
    Flags("gql-flag-cors-origin-without-scheme", "articles-graphql", ["--cors-origins", "app.example.com"],
          "--cors-origins"),
]

FLAG_TIMEOUT = 5  # a bad value is refused at once; a program still running then has accepted it


def run_to_exit(cmd, env=None, cwd=None, timeout=FLAG_TIMEOUT):
    """Runs cmd; one still running after timeout is stopped with SIGTERM and the case fails."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=cwd, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"{' '.join(map(str, cmd))}\nwas still running after {timeout}s instead of refusing "
                    f"its input (stopped: status {proc.returncode}); stderr:\n{err[-1500:]}",
                    pytrace=False)
    return proc.returncode, out, err


@pytest.mark.parametrize("case", FLAG_CASES, ids=[c.id for c in FLAG_CASES])
def test_flags(case, rest, tmp_path):
    before = rest.snapshot()
    port = str(blackbox.free_port())
    cmd = [str(bin_path(case.program)), "--port", port, *case.args]
    if case.program == "articles-rest" and "--database-url" not in case.args:
        cmd += ["--database-url", f"sqlite:{tmp_path}/flags.db"]
    if case.program == "articles-graphql" and "--rest-api-url" not in case.args:
        cmd += ["--rest-api-url", rest.url]
    env = {k: v for k, v in os.environ.items()
           if k not in ("API_TOKENS", "API_TOKENS_FILE", "DATABASE_URL", "REST_API_URL", "PORT")}
    rc, out, err = run_to_exit(cmd, env=env, cwd=tmp_path)
    assert rc == case.status, f"exit {rc}, expected {case.status}; stderr {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and case.says in lines[0], (
        f"stderr should be one line naming {case.says!r}: {err!r}")
    unchanged(rest, before)


# =================================================================================================
# GraphQL
# =================================================================================================

@dataclass
class Gql:
    id: str
    body: Any                     # dict (sent as JSON), bytes (as is) or None
    status: int
    errors: Any = None            # the exact "errors" list, when given
    message: Optional[str] = None  # else: the first error's exact message
    code: Optional[str] = None    # graphql_errors_total label that must go up by one (None: none)
    data: Any = ABSENT            # the expected "data" member (ABSENT: none)
    ext_code: Optional[str] = None  # errors[0].extensions.code
    path: Any = None              # errors[0].path
    locations: Any = None         # errors[0].locations
    method: str = "POST"
    url: str = "/graphql"
    params: Optional[dict] = None  # GET query parameters
    ctype: Any = DEFAULT
    accept: Optional[str] = GR
    headers: dict = dc_field(default_factory=dict)
    media: str = GR               # the answer's media type
    allow: Optional[str] = None
    gateway: str = "gateway"


def q(query, variables=None, **extra):
    b = {"query": query}
    if variables is not None:
        b["variables"] = variables
    b.update(extra)
    return b


def err(message, *locations):
    e = {"message": message}
    if locations:
        e["locations"] = [{"line": l, "column": c} for l, c in locations]
    return e


def parse_error(id, query, message, line, column):
    return Gql(id, q(query), 400, errors=[err("Syntax Error: " + message, (line, column))],
               code="GRAPHQL_PARSE_FAILED")


def invalid(id, query, *errors, variables=None):
    return Gql(id, q(query, variables), 400, errors=list(errors), code="GRAPHQL_VALIDATION_FAILED")


def limit(id, query, message, *locations, code="LIMIT_EXCEEDED"):
    return Gql(id, q(query), 400, errors=[err(message, *locations)], code=code)


def coercion(id, query, variables, message, *locations, **kw):
    return Gql(id, q(query, variables, **kw), 400, errors=[err(message, *locations)],
               code="EXECUTION_FAILED")


def request_error(id, body, status, message, **kw):
    kw.setdefault("code", "BAD_REQUEST")
    return Gql(id, body, status, errors=[{"message": message}], **kw)


def user_input(id, query, message, path, data, line=1, column=12, **kw):
    return Gql(id, q(query), 200, message=message, code="BAD_USER_INPUT", ext_code="BAD_USER_INPUT",
               path=path, data=data, locations=[{"line": line, "column": column}], **kw)


def unauthenticated(id, query, path, data, **kw):
    return Gql(id, q(query), 200, code="UNAUTHENTICATED", ext_code="UNAUTHENTICATED", path=path,
               data=data, gateway="gateway_auth", **kw)


CREATE = "mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }"
ALIASES5 = '{ getArticle(id: "1") { a: id b: id c: title d: title e: content } }'
NOT_POSITIVE = 'id must be a positive integer, like "42"; got "{}".'

GQL_CASES = [
    # ---- parse errors: 400, message and location as graphql-js words them --------------------
    parse_error("gql-parse-unclosed-paren", "{ getArticle(", "Expected Name, found <EOF>.", 1, 14),
    parse_error("gql-parse-unexpected-character", '{ getArticle(id: 1) { id } }\n  ?',
                'Unexpected character: "?".', 2, 3),
    parse_error("gql-parse-unterminated-string", '{ getArticle(id: "1) { id } }', "Unterminated string.",
                1, 30),
    parse_error("gql-parse-empty-document", "", "Unexpected <EOF>.", 1, 1),
    parse_error("gql-parse-only-a-comment", "# nothing here", "Unexpected <EOF>.", 1, 15),
    parse_error("gql-parse-bad-escape", '{ getArticle(id: "\\x") { id } }',
                'Invalid character escape sequence: "\\x".', 1, 19),
    parse_error("gql-parse-leading-zero", "{ getArticles(limit: 01) { id } }",
                'Invalid number, unexpected digit after 0: "1".', 1, 23),
    parse_error("gql-parse-fragment-named-on", "fragment on on Article { id } { getArticles { ...on } }",
                'Unexpected Name "on".', 1, 10),
    parse_error("gql-parse-lone-surrogate-escape",
                'mutation { createArticle(input: {title: "a\\uD800b"}) { id } }',
                'Invalid Unicode escape sequence: "\\uD800".', 1, 43),
    Gql("gql-parse-invalid-utf8", b'{"query": "{ getArticles(author: \\"\xff\\") { id } }"}', 400,
        errors=[err("Syntax Error: Invalid UTF-8 sequence (byte 0xFF).", (1, 24))],
        code="GRAPHQL_PARSE_FAILED"),
    # ---- validation errors: 400 --------------------------------------------------------------
    invalid("gql-validate-unknown-field", "{ nope }",
            err('Cannot query field "nope" on type "Query".', (1, 3))),
    invalid("gql-validate-unknown-subfield", '{ getArticle(id: "1") { id nope } }',
            err('Cannot query field "nope" on type "Article".', (1, 28))),
    invalid("gql-validate-unknown-argument", '{ getArticle(id: "1", foo: 2) { id } }',
            err('Unknown argument "foo" on field "Query.getArticle".', (1, 23))),
    invalid("gql-validate-unknown-type", 'query($x: Foo) { getArticle(id: "1") { id } }',
            err('Unknown type "Foo".', (1, 11)), err('Variable "$x" is never used.', (1, 7))),
    invalid("gql-validate-missing-required-argument", "{ getArticle { id } }",
            err('Field "getArticle" argument "id" of type "ID!" is required, but it was not '
                'provided.', (1, 3))),
    invalid("gql-validate-missing-selection", '{ getArticle(id: "1") }',
            err('Field "getArticle" of type "Article" must have a selection of subfields. '
                'Did you mean "getArticle { ... }"?', (1, 3))),
    invalid("gql-validate-selection-on-leaf", '{ getArticle(id: "1") { id { x } } }',
            err('Field "id" must not have a selection since type "ID!" has no subfields.', (1, 28))),
    invalid("gql-validate-wrong-literal-type", '{ getArticles(limit: "x") { id } }',
            err('Int cannot represent non-integer value: "x"', (1, 22))),
    invalid("gql-validate-variable-type-mismatch", "query($l: String) { getArticles(limit: $l) { id } }",
            err('Variable "$l" of type "String" used in position expecting type "Int".', (1, 7), (1, 40)),
            variables={"l": "1"}),
    invalid("gql-validate-unused-variable", "query($l: Int) { getArticles { id } }",
            err('Variable "$l" is never used.', (1, 7)), variables={"l": 1}),
    invalid("gql-validate-undefined-variable", "{ getArticles(limit: $l) { id } }",
            err('Variable "$l" is not defined.', (1, 22), (1, 1))),
    invalid("gql-validate-fragment-cycle",
            '{ getArticle(id: "1") { ...A } } fragment A on Article { ...B } fragment B on Article { ...A }',
            err('Cannot spread fragment "A" within itself via "B".', (1, 58), (1, 89))),
    invalid("gql-validate-unused-fragment", "{ getArticles { id } } fragment A on Article { id }",
            err('Fragment "A" is never used.', (1, 24))),
    invalid("gql-validate-unknown-fragment", "{ getArticles { ...Nope } }",
            err('Unknown fragment "Nope".', (1, 20))),
    invalid("gql-validate-duplicate-operation-names",
            "query A { getArticles { id } } query A { getArticles { id } }",
            err('There can be only one operation named "A".', (1, 7), (1, 38))),
    invalid("gql-validate-anonymous-not-alone", "{ getArticles { id } } query B { getArticles { id } }",
            err("This anonymous operation must be the only defined operation.", (1, 1))),
    invalid("gql-validate-duplicate-arguments", "{ getArticles(limit: 1, limit: 2) { id } }",
            err('There can be only one argument named "limit".', (1, 15), (1, 25))),
    invalid("gql-validate-field-conflict", '{ getArticle(id: "1") { x: id x: title } }',
            err('Fields "x" conflict because "id" and "title" are different fields. Use different '
                'aliases on the fields to fetch both if this was intentional.', (1, 25), (1, 31))),
    invalid("gql-validate-unknown-directive", "{ getArticles @nope { id } }",
            err('Unknown directive "@nope".', (1, 15))),
    invalid("gql-validate-fragment-on-scalar", "{ getArticles { ...F } } fragment F on String { x }",
            err('Fragment "F" cannot condition on non composite type "String".', (1, 40))),
    invalid("gql-validate-input-unknown-field",
            'mutation { createArticle(input: {title: "t", foo: 1}) { id } }',
            err('Field "foo" is not defined by type "CreateArticleInput".', (1, 46))),
    invalid("gql-validate-input-missing-required-field",
            'mutation { createArticle(input: {content: "t"}) { id } }',
            err('Field "CreateArticleInput.title" of required type "String!" was not provided.', (1, 33))),
    invalid("gql-validate-null-for-non-null-input", "mutation { createArticle(input: null) { id } }",
            err('Expected value of type "CreateArticleInput!", found null.', (1, 33))),
    # ---- limits (the gateway runs with small ones: conftest.LIMITS) --------------------------
    limit("gql-limit-document-bytes", "{ getArticles { id } }" + " " * LIMITS["--max-document-bytes"],
          "Syntax Error: Document is larger than 2000 bytes. Parsing aborted."),
    limit("gql-limit-tokens", "{ getArticles { " + "id " * 250 + "} }",
          "Syntax Error: Document contains more than 200 tokens. Parsing aborted.", (1, 608)),
    limit("gql-limit-depth", "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }",
          "Syntax Error: Document is nested more than 6 levels deep. Parsing aborted.", (1, 54)),
    limit("gql-limit-depth-in-values", "{ getArticles(author: " + "[" * 10 + '"a"' + "]" * 10 + ") { id } }",
          "Syntax Error: Document is nested more than 6 levels deep. Parsing aborted.", (1, 28)),
    limit("gql-limit-aliases", ALIASES5, "Too many aliases: the limit is 4 in a document.",
          (1, 55), code="GRAPHQL_VALIDATION_FAILED"),
    limit("gql-limit-root-fields",
          '{ getArticles { id } getArticle(id: "1") { id } __typename t: __typename u: __typename }',
          "The anonymous operation selects 5 root fields, more than the limit of 4.", (1, 1),
          code="GRAPHQL_VALIDATION_FAILED"),
    # ---- GraphQL over HTTP -------------------------------------------------------------------
    request_error("gql-http-get-mutation", None, 405, "mutations are sent with POST", method="GET",
                  params={"query": 'mutation { deleteArticle(id: "1") }'}, allow="POST"),
    request_error("gql-http-get-mutation-by-operation-name", None, 405, "mutations are sent with POST",
                  method="GET", allow="POST",
                  params={"query": 'query A { getArticles { id } } mutation B { deleteArticle(id: "1") }',
                          "operationName": "B"}),
    request_error("gql-http-get-without-query", None, 400, "the request has no query", method="GET"),
    request_error("gql-http-get-variables-not-json", None, 400, "variables must be JSON text", method="GET",
                  params={"query": "{ getArticles { id } }", "variables": "{"}),
    request_error("gql-http-get-variables-array", None, 400, "variables must be an object or null",
                  method="GET", params={"query": "{ getArticles { id } }", "variables": "[]"}),
    request_error("gql-http-get-percent-00", None, 400, "query parameters must not contain NUL (%00)",
                  method="GET", url="/graphql?query=%7B%00%7D"),
    request_error("gql-http-accept-html", q("{ getArticles { id } }"), 406,
                  "send Accept: application/graphql-response+json or application/json",
                  accept="text/html", media="application/json"),
    request_error("gql-http-accept-q-zero", q("{ getArticles { id } }"), 406,
                  "send Accept: application/graphql-response+json or application/json",
                  accept="application/json;q=0", media="application/json"),
    request_error("gql-http-content-type-text", q("{ getArticles { id } }"), 415,
                  "send the request as Content-Type: application/json", ctype="text/plain"),
    request_error("gql-http-content-type-missing", q("{ getArticles { id } }"), 415,
                  "send the request as Content-Type: application/json", ctype=None),
    request_error("gql-http-content-type-graphql", b"{ getArticles { id } }", 415,
                  "send the request as Content-Type: application/json", ctype="application/graphql"),
    request_error("gql-http-charset-latin1", q("{ getArticles { id } }"), 415,
                  "the request must be UTF-8 (charset=utf-8)", ctype="application/json; charset=latin1"),
    request_error("gql-http-body-not-json", b"{query", 400,
                  "malformed JSON at offset 1: expected a member name in double quotes"),
    request_error("gql-http-body-empty", b"", 400, "the body is empty; send a JSON document"),
    request_error("gql-http-body-trailing-data", dumps(q("{ getArticles { id } }")) + b"x", 400,
                  "malformed JSON at offset 35: unexpected data after the value"),
    request_error("gql-http-body-a-string", "{ getArticles { id } }", 400,
                  'the body must be a JSON object {"query": ...}'),
    request_error("gql-http-batch-empty", [], 400, "a batch holds 1 to 10 operations (--max-batch)"),
    request_error("gql-http-batch-too-long", [q("{ __typename }")] * 11, 400,
                  "a batch holds 1 to 10 operations (--max-batch)"),
    request_error("gql-http-query-not-a-string", {"query": 1}, 400, "query must be a string"),
    request_error("gql-http-no-query", {"variables": {}}, 400, "the request has no query"),
    request_error("gql-http-variables-string", q("{ getArticles { id } }", "x"), 400,
                  "variables must be an object or null"),
    request_error("gql-http-variables-array", q("{ getArticles { id } }", []), 400,
                  "variables must be an object or null"),
    request_error("gql-http-operation-name-number", q("{ getArticles { id } }", operationName=5), 400,
                  "operationName must be a string or null"),
    request_error("gql-http-extensions-string", q("{ getArticles { id } }", extensions="x"), 400,
                  "extensions must be an object or null"),
    request_error("gql-http-nul-escape-in-variables", q(CREATE, {"i": {"title": "a\u0000b"}}), 400,
                  "strings must not contain \\u0000"),
    request_error("gql-http-body-too-large", q("{ getArticles { id } }", {"x": "a" * 9000}), 413,
                  "the request body is larger than --max-body-bytes", media="application/json"),
    request_error("gql-http-method-put", q("{ getArticles { id } }"), 405, "use GET for queries or POST",
                  method="PUT", allow="GET, POST, OPTIONS", media="application/json"),
    request_error("gql-http-method-delete", None, 405, "use GET for queries or POST", method="DELETE",
                  allow="GET, POST, OPTIONS", media="application/json"),
    request_error("gql-http-unknown-route", q('mutation { deleteArticle(id: "1") }'), 404,
                  "no such route; GraphQL is served at /graphql", url="/graphql/x",
                  media="application/json", code=None),
    # ---- variables and operations: coercion errors, 400 --------------------------------------
    coercion("gql-var-required-missing", 'query($id: ID!) { getArticle(id: $id) { id } }', {},
             'Variable "$id" of required type "ID!" was not provided.', (1, 7)),
    coercion("gql-var-null-for-non-null", 'query($id: ID!) { getArticle(id: $id) { id } }', {"id": None},
             'Variable "$id" of non-null type "ID!" must not be null.', (1, 7)),
    coercion("gql-var-int-from-string", "query($l: Int) { getArticles(limit: $l) { id } }", {"l": "ten"},
             'Variable "$l" got invalid value "ten"; Int cannot represent non-integer value: "ten"', (1, 7)),
    coercion("gql-var-int-fraction", "query($l: Int) { getArticles(limit: $l) { id } }", {"l": 1.5},
             'Variable "$l" got invalid value 1.5; Int cannot represent non-integer value: 1.5', (1, 7)),
    coercion("gql-var-int-beyond-32-bits", "query($l: Int) { getArticles(limit: $l) { id } }",
             {"l": 2**31}, 'Variable "$l" got invalid value 2147483648; Int cannot represent non 32-bit '
             "signed integer value: 2147483648", (1, 7)),
    coercion("gql-var-id-object", 'query($id: ID!) { getArticle(id: $id) { id } }', {"id": {"a": 1}},
             'Variable "$id" got invalid value { a: 1 }; ID cannot represent value: { a: 1 }', (1, 7)),
    coercion("gql-var-input-wrong-type", CREATE, {"i": {"title": 5}},
             'Variable "$i" got invalid value 5 at "i.title"; String cannot represent a non string value: 5',
             (1, 10)),
    coercion("gql-var-input-unknown-field", CREATE, {"i": {"title": "a", "x": 1}},
             'Variable "$i" got invalid value { title: "a", x: 1 }; Field "x" is not defined by type '
             '"CreateArticleInput".', (1, 10)),
    coercion("gql-operation-name-unknown", "query A { getArticles { id } }", None,
             'Unknown operation named "B".', operationName="B"),
    coercion("gql-operation-name-missing",
             'query A { getArticles { id } } mutation B { deleteArticle(id: "1") }',
             None, "Must provide operation name if query contains multiple operations."),
    Gql("gql-subscription-unsupported", q("subscription { getArticles { id } }"), 200,
        errors=[err("Schema is not configured to execute subscription operation.", (1, 1))], data=None,
        code="EXECUTION_FAILED"),
    # ---- input the REST core (or the gateway's id check) refuses: BAD_USER_INPUT -------------
    user_input("gql-input-empty-title", 'mutation { createArticle(input: {title: ""}) { id } }',
               "title must not be empty", ["createArticle"], None),
    user_input("gql-input-title-too-long",
               'mutation { createArticle(input: {title: "%s"}) { id } }' % ("a" * 201),
               "title is 201 characters long; at most 200 are allowed", ["createArticle"], None),
    user_input("gql-input-author-too-long",
               'mutation { updateArticle(id: "1", input: {author: "%s"}) { id } }' % ("a" * 101),
               "author is 101 characters long; at most 100 are allowed", ["updateArticle"],
               {"updateArticle": None}),
    user_input("gql-input-update-empty-title",
               'mutation { updateArticle(id: "1", input: {title: ""}) { id } }',
               "title must not be empty", ["updateArticle"], {"updateArticle": None}),
    user_input("gql-input-update-id-not-numeric",
               'mutation { updateArticle(id: "abc", input: {title: "x"}) { id } }',
               NOT_POSITIVE.format("abc"), ["updateArticle"], {"updateArticle": None}),
    user_input("gql-input-delete-id-not-numeric", 'mutation { deleteArticle(id: "abc") }',
               NOT_POSITIVE.format("abc"), ["deleteArticle"], None),
    user_input("gql-input-delete-id-negative", 'mutation { deleteArticle(id: "-1") }',
               NOT_POSITIVE.format("-1"), ["deleteArticle"], None),
    user_input("gql-input-get-id-not-numeric", '{ getArticle(id: "abc") { id } }',
               NOT_POSITIVE.format("abc"), ["getArticle"], {"getArticle": None}, column=3),
    user_input("gql-input-limit-negative", "{ getArticles(limit: -1) { id } }",
               "limit must be an integer from 1 to 1000", ["getArticles"], None, column=3),
    user_input("gql-input-limit-too-large", "{ getArticles(limit: 100000) { id } }",
               "limit must be an integer from 1 to 1000", ["getArticles"], None, column=3),
    user_input("gql-input-offset-negative", "{ getArticles(offset: -1) { id } }",
               "offset must be an integer from 0 to 9223372036854775807", ["getArticles"], None, column=3),
    # graphql-js takes \u0000 in a string literal; the gateway refuses it as an argument that
    # does not coerce (a NUL would cut the value short downstream), before any REST call.
    Gql("gql-input-nul-escape-in-title-literal",
        q('mutation { createArticle(input: {title: "a\\u0000b"}) { id title } }'), 200,
        message='Argument "input" has invalid value {title: "a\\u0000b"}.',
        code="EXECUTION_FAILED", path=["createArticle"], data=None,
        locations=[{"line": 1, "column": 33}]),
    Gql("gql-input-nul-escape-in-id-literal",
        q('mutation { updateArticle(id: "4\\u0000", input: {title: "via a NUL in the id"}) { id } }'), 200,
        message='Argument "id" has invalid value "4\\u0000".',
        code="EXECUTION_FAILED", path=["updateArticle"],
        data={"updateArticle": None}, locations=[{"line": 1, "column": 30}]),
    # ---- a REST core that wants a token, and a client without one: UNAUTHENTICATED ----------
    unauthenticated("gql-auth-create-without-token", 'mutation { createArticle(input: {title: "t"}) { id } }',
                    ["createArticle"], None),
    unauthenticated("gql-auth-create-wrong-token", 'mutation { createArticle(input: {title: "t"}) { id } }',
                    ["createArticle"], None,
                    headers={"Authorization": "Bearer wrong-token-0123456789abcdef"}),
    unauthenticated("gql-auth-update-without-token",
                    'mutation { updateArticle(id: "1", input: {title: "t"}) { id } }',
                    ["updateArticle"], {"updateArticle": None}),
    unauthenticated("gql-auth-delete-basic-scheme", 'mutation { deleteArticle(id: "1") }', ["deleteArticle"],
                    None, headers={"Authorization": f"Basic {TOKEN}"}),
]


@pytest.mark.parametrize("case", GQL_CASES, ids=[c.id for c in GQL_CASES])
def test_graphql(case, request):
    gw = request.getfixturevalue(case.gateway)
    before = gw.store.snapshot()
    codes_before = gw.errors_by_code()
    url = case.url
    if case.params is not None:
        url += "?" + urllib.parse.urlencode(case.params, quote_via=urllib.parse.quote)
    headers = dict(case.headers)
    if case.accept is not None:
        headers["Accept"] = case.accept
    body = case.body if isinstance(case.body, (bytes, type(None))) else dumps(case.body)
    kw = {"headers": headers}
    if case.ctype is not DEFAULT:
        kw["content_type"] = case.ctype
    r = gw.client.request(case.method, url, body, **kw)

    assert r.status == case.status, f"expected {case.status}, got {r!r}"
    assert media_type(r.header("Content-Type")) == case.media, r
    if case.allow is not None:
        assert r.header("Allow") == case.allow, r
    got = r.json()
    assert isinstance(got, dict) and isinstance(got.get("errors"), list) and got["errors"], got
    assert set(got) <= {"errors", "data"}, got
    if case.data is ABSENT:
        assert "data" not in got, f"a request error must have no data: {got!r}"
    else:
        assert "data" in got and got["data"] == case.data, got
    first = got["errors"][0]
    if case.errors is not None:
        assert got["errors"] == case.errors, got
    if case.message is not None:
        assert first.get("message") == case.message, got
    assert isinstance(first.get("message"), str) and first["message"], got
    if case.ext_code is not None:
        assert first.get("extensions", {}).get("code") == case.ext_code, got
    if case.path is not None:
        assert first.get("path") == case.path, got
    if case.locations is not None:
        assert first.get("locations") == case.locations, got
    assert TOKEN not in r.body.decode("utf-8", "replace")

    codes_after = gw.errors_by_code()
    moved = {k: v - codes_before.get(k, 0) for k, v in codes_after.items() if v != codes_before.get(k, 0)}
    assert moved == ({case.code: 1} if case.code else {}), f"graphql_errors_total moved by {moved}"
    assert gw.alive(), f"{gw.name} died:\n{gw.process.log_tail()}"
    unchanged(gw.store, before)


# =================================================================================================
# sync
# =================================================================================================

class SqlText:
    """A source value written as SQL (bytes that are not valid UTF-8 text, say)."""

    def __init__(self, sql):
        self.sql = sql


def make_source(path, rows=(), init=True):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, content TEXT, author TEXT, "
               "created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT)")
    db.commit()
    db.close()
    if init:
        rc, out, err = run_to_exit([str(bin_path("articles-sync")), "init", "--source", f"sqlite:{path}"],
                                   env=sync_env(), timeout=60)
        assert rc == 0, f"articles-sync init failed ({rc}): {err}"
    insert(path, rows)


def insert(path, rows):
    db = sqlite3.connect(path)
    for row in rows:
        values = [v.sql if isinstance(v, SqlText) else "?" for v in row]
        params = [v for v in row if not isinstance(v, SqlText)]
        db.execute(f"INSERT INTO articles (id, title, content, author) VALUES ({', '.join(values)})", params)
    db.commit()
    db.close()


def sync_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SYNC_", "KAFKA_", "REST_API_", "SOURCE_DATABASE", "DEAD_LETTER",
                                "PUSHGATEWAY", "METRICS_"))}
    env["LOG_FORMAT"] = "json"
    env.update(extra)
    return env


@dataclass
class SyncUsage:
    id: str
    args: list
    status: int
    says: str
    env: dict = dc_field(default_factory=dict)
    init: bool = True
    one_line: bool = True
    rest: str = "rest_sync"


SYNC_USAGE = [
    SyncUsage("sync-no-command", [], 2, "a command is needed"),
    SyncUsage("sync-unknown-command", ["frobnicate"], 2, "unknown command 'frobnicate'"),
    SyncUsage("sync-unknown-option", ["run", "--once", "--bogus"], 2, "unknown option '--bogus'"),
    SyncUsage("sync-once-and-follow", ["run", "--once", "--follow"], 2,
              "--once and --follow exclude each other"),
    SyncUsage("sync-bad-transport", ["run", "--once", "--transport", "carrier-pigeon"], 2,
              "invalid value 'carrier-pigeon' for --transport"),
    SyncUsage("sync-batch-size-zero", ["run", "--once", "--batch-size", "0"], 2,
              "invalid value '0' for --batch-size"),
    SyncUsage("sync-batch-size-not-a-number", ["run", "--once", "--batch-size", "abc"], 2, "--batch-size"),
    SyncUsage("sync-batch-size-overflow", ["run", "--once", "--batch-size", "99999999999999999999"], 2,
              "--batch-size"),
    SyncUsage("sync-poll-interval-junk", ["run", "--once", "--poll-interval-ms", "soon"], 2,
              "--poll-interval-ms"),
    SyncUsage("sync-metrics-port-out-of-range", ["run", "--follow", "--metrics-port", "70000"], 2,
              "--metrics-port"),
    SyncUsage("sync-option-without-value", ["run", "--once", "--source"], 2, "option --source needs a value"),
    SyncUsage("sync-env-batch-size-junk", ["run", "--once"], 2, "--batch-size",
              env={"SYNC_BATCH_SIZE": "abc"}),
    SyncUsage("sync-env-once-junk", ["run"], 2, "--once", env={"SYNC_ONCE": "maybe"}),
    SyncUsage("sync-source-unknown-scheme", ["run", "--once"], 2, "unsupported source URL scheme 'mysql'",
              env={"SOURCE_DATABASE_URL": "mysql://x"}),
    SyncUsage("sync-source-sqlite-without-path", ["run", "--once"], 2, "without a file name",
              env={"SOURCE_DATABASE_URL": "sqlite:"}),
    SyncUsage("sync-source-empty", ["run", "--once"], 2, "SOURCE_DATABASE_URL",
              env={"SOURCE_DATABASE_URL": ""}),
    SyncUsage("sync-rest-url-scheme", ["run", "--once"], 2, "--rest-api-url",
              env={"REST_API_URL": "ftp://127.0.0.1/"}),
    SyncUsage("sync-rest-url-port-out-of-range", ["run", "--once"], 2, "--rest-api-url",
              env={"REST_API_URL": "http://127.0.0.1:99999"}),
    SyncUsage("sync-rest-url-without-host", ["run", "--once"], 2, "--rest-api-url",
              env={"REST_API_URL": "http://"}),
    SyncUsage("sync-kafka-without-brokers", ["run", "--once", "--transport", "kafka"], 2,
              "needs KAFKA_BROKERS"),
    # failures at run time: exit 1
    SyncUsage("sync-source-file-missing", ["run", "--once"], 1, "cannot open the source",
              env={"SOURCE_DATABASE_URL": "sqlite:/nonexistent/folder/source.db"}, one_line=False),
    SyncUsage("sync-source-postgresql-unreachable", ["run", "--once"], 1, "cannot open the source",
              env={"SOURCE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}, one_line=False),
    SyncUsage("sync-run-before-init", ["run", "--once"], 1, "articles-sync init", init=False, one_line=False),
    SyncUsage("sync-dead-letter-file-unwritable", ["run", "--once"], 1, "cannot open the dead-letter file",
              env={"DEAD_LETTER_FILE": "/nonexistent/folder/dead.jsonl"}, one_line=False),
    SyncUsage("sync-rest-token-missing", ["run", "--once"], 1, "REST_API_TOKEN", rest="rest_auth",
              one_line=False),
    SyncUsage("sync-rest-token-wrong", ["run", "--once"], 1, "refused the sync daemon's token (401)",
              env={"REST_API_TOKEN": "wrong-token-0123456789abcdef"}, rest="rest_auth", one_line=False),
]


@pytest.mark.parametrize("case", SYNC_USAGE, ids=[c.id for c in SYNC_USAGE])
def test_sync_usage(case, request, tmp_path):
    """A pending source row, and a command that must refuse to run: the row never arrives."""
    store = request.getfixturevalue(case.rest)
    row_id = 50_000 + SYNC_USAGE.index(case)
    make_source(tmp_path / "source.db", [(row_id, "pending", "c", None)], init=case.init)
    env = sync_env(SOURCE_DATABASE_URL=f"sqlite:{tmp_path / 'source.db'}", REST_API_URL=store.url,
                   DEAD_LETTER_FILE=str(tmp_path / "dead.jsonl"))
    env.update(case.env)
    before = store.snapshot()
    rc, out, err = run_to_exit([str(bin_path("articles-sync")), *case.args], env=env, cwd=tmp_path)
    assert rc == case.status, f"exit {rc}, expected {case.status}\nstdout {out!r}\nstderr {err[-1500:]!r}"
    assert case.says in err, f"stderr should name the problem ({case.says!r}): {err[-1500:]!r}"
    if case.one_line:
        assert len(err.strip().splitlines()) == 1, f"stderr should be one line: {err!r}"
    assert TOKEN not in err and "wrong-token-0123456789abcdef" not in err, "a token was logged"
    dead = tmp_path / "dead.jsonl"
    assert not dead.exists() or dead.read_text() == "", f"dead letters written: {dead.read_text()!r}"
    unchanged(store, before)
    r = store.client.get(f"/articles/{row_id}")
    assert r.status == 404, f"the pending row arrived: {r!r}"


@dataclass
class SyncDead:
    id: str
    row: tuple      # (id or None for the case's own, title, content, author); SqlText for raw SQL
    reason: str     # the dead letter's reason
    detail: str     # part of its detail


SYNC_DEAD = [
    SyncDead("sync-dead-title-too-long-for-the-format", (None, "t" * 201, "c", None), "too_large",
             "title is 201 characters long"),
    SyncDead("sync-dead-title-too-long-for-the-rest-core", (None, "t" * 51, "c", None), "http_422",
             "title is 51 characters long; at most 50 are allowed"),
    SyncDead("sync-dead-title-empty", (None, "", "c", None), "bad_value", "title must not be empty"),
    SyncDead("sync-dead-title-null", (None, None, "c", None), "bad_type", "title must be a string"),
    SyncDead("sync-dead-author-too-long-for-the-rest-core", (None, "t", "c", "a" * 21), "http_422",
             "author is 21 characters long"),
    SyncDead("sync-dead-author-too-long-for-the-format", (None, "t", "c", "a" * 101), "too_large",
             "author is 101 characters long"),
    SyncDead("sync-dead-content-over-1mib", (None, "t", "c" * (MIB + 1), None), "too_large",
             "content is 1048577 bytes long"),
    SyncDead("sync-dead-title-invalid-utf8", (None, SqlText("CAST(X'61FF62' AS TEXT)"), "c", None),
             "bad_value", "title is not valid UTF-8"),
    SyncDead("sync-dead-author-encoded-surrogate", (None, "t", "c", SqlText("CAST(X'EDA080' AS TEXT)")),
             "bad_value", "author is not valid UTF-8"),
    SyncDead("sync-dead-id-zero", (0, "zero", "c", None), "out_of_range",
             "id must be from 1 to 9007199254740991"),
    SyncDead("sync-dead-id-negative", (-5, "negative", "c", None), "out_of_range", "id must be from 1"),
    SyncDead("sync-dead-id-beyond-2-53", (2**53, "big", "c", None), "out_of_range", "id must be from 1"),
    SyncDead("sync-dead-title-with-nul", (None, "a\x00b", "c", None), "bad_value",
             "title must not contain NUL"),
    SyncDead("sync-dead-content-with-nul", (None, "t", "ab\x00cd", None), "bad_value",
             "content must not contain NUL"),
]


@pytest.mark.parametrize("case", SYNC_DEAD, ids=[c.id for c in SYNC_DEAD])
def test_sync_dead_letter(case, rest_sync, tmp_path):
    """Good rows around a bad one: the good ones arrive, the bad one is dead-lettered with its
    reason and nothing of it reaches the REST core."""
    base = 100_000 + 10 * SYNC_DEAD.index(case)
    bad_id = base + 5 if case.row[0] is None else case.row[0]
    good = [(base + 1, f"good {base + 1}", "c", "ada"), (base + 9, f"good {base + 9}", "", None)]
    source = tmp_path / "source.db"
    make_source(source)
    insert(source, [good[0], (bad_id, *case.row[1:]), good[1]])
    before = rest_sync.snapshot()[1]
    dead = tmp_path / "dead.jsonl"
    env = sync_env(SOURCE_DATABASE_URL=f"sqlite:{source}", REST_API_URL=rest_sync.url)
    rc, out, err = run_to_exit([str(bin_path("articles-sync")), "run", "--once", "--transport", "direct",
                                "--dead-letter-file", str(dead)], env=env, cwd=tmp_path, timeout=60)
    assert rc == 0, f"exit {rc}\nstdout {out!r}\nstderr {err[-2000:]!r}"
    assert "changes read: 3" in out and "applied: 2" in out and "dead-lettered: 1" in out, out
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["id"] == bad_id and letter["reason"] == case.reason, letter
    assert case.detail in letter["detail"], letter
    assert isinstance(letter["seq"], int) and letter["seq"] > 0, letter
    if case.reason.startswith("http_"):
        assert letter["item"]["op"] == "upsert" and letter["item"]["article"]["id"] == bad_id, letter
    after = rest_sync.snapshot()[1]
    arrived = [a for a in after if a not in before]
    assert [(a["id"], a["title"], a["content"], a["author"]) for a in arrived] == \
        [(i, t, c, a) for i, t, c, a in good], f"expected exactly the good rows to arrive: {arrived!r}"
    assert [a for a in before if a not in after] == [], "a stored article changed"
    assert rest_sync.client.get(f"/articles/{bad_id}").status in (400, 404)

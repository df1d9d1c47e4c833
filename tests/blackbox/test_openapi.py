"""schema/openapi.yaml against the contract and against the real server:
the document is valid OpenAPI 3.1, names every route of the contract, and
every documented operation answers with a documented status, media type,
headers and a body that validates against the documented schema."""
import json
import random

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from helpers import MIB, OPENAPI_YAML, allow_set, media_type

HTTP_METHODS = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]
DOC_URI = "urn:articles:openapi"

with open(OPENAPI_YAML, encoding="utf-8") as _f:
    DOC = yaml.safe_load(_f)

REGISTRY = Registry().with_resource(DOC_URI, Resource.from_contents(DOC, default_specification=DRAFT202012))

CONTRACT_OPERATIONS = {
    ("/articles", "get"), ("/articles", "head"), ("/articles", "post"),
    ("/articles/{id}", "get"), ("/articles/{id}", "head"), ("/articles/{id}", "put"),
    ("/articles/{id}", "patch"), ("/articles/{id}", "delete"),
    ("/articles/bulk", "post"),
    ("/health", "get"), ("/health", "head"),
    ("/metrics", "get"), ("/metrics", "head"),
    ("/openapi.json", "get"), ("/openapi.json", "head"),
}

# statuses of the contract each operation must document
CONTRACT_STATUSES = {
    ("/articles", "get"): {"200", "400"},
    ("/articles", "post"): {"201", "400", "413", "415", "422"},
    ("/articles/{id}", "get"): {"200", "400", "404"},
    ("/articles/{id}", "put"): {"200", "201", "400", "413", "415", "422"},
    ("/articles/{id}", "patch"): {"200", "400", "404", "413", "415", "422"},
    ("/articles/{id}", "delete"): {"204", "400", "404"},
    ("/articles/bulk", "post"): {"200", "400", "413", "415", "422"},
    ("/health", "get"): {"200", "503"},
    ("/metrics", "get"): {"200"},
    ("/openapi.json", "get"): {"200"},
}

CONTRACT_SCHEMAS = {"Article", "ArticleInput", "ArticlePut", "ArticlePatch", "BulkRequest",
                    "BulkResult", "Problem"}


def pointer_escape(s):
    return s.replace("~", "~0").replace("/", "~1")


def deref(node, pointer):
    """Follows an OpenAPI $ref inside the document; returns (node, pointer)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        pointer = ref[1:]
        node = DOC
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def schema_validator(pointer):
    return jsonschema.Draft202012Validator({"$ref": DOC_URI + "#" + pointer}, registry=REGISTRY,
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def operations():
    for path, item in DOC["paths"].items():
        for m in HTTP_METHODS:
            if m in item:
                yield path, m


# -- the document itself --------------------------------------------------------
def test_document_is_valid_openapi_3_1():
    assert DOC["openapi"].startswith("3.1")
    validate_spec(DOC)


def test_document_covers_the_contract():
    assert set(operations()) == CONTRACT_OPERATIONS
    for op, statuses in CONTRACT_STATUSES.items():
        documented = set(DOC["paths"][op[0]][op[1]]["responses"])
        assert statuses <= documented, f"{op}: statuses {sorted(statuses - documented)} not documented"
    assert CONTRACT_SCHEMAS <= set(DOC["components"]["schemas"])
    params = DOC["paths"]["/articles"]["get"]["parameters"]
    names = {deref(p, "")[0]["name"] for p in params}
    assert names == {"limit", "offset", "after_id", "author", "q", "sort"}
    for path, method in operations():
        op = DOC["paths"][path][method]
        assert op.get("summary") or op.get("description"), f"{method} {path} has no description"
        assert op.get("operationId"), f"{method} {path} has no operationId"


def test_documented_headers():
    post = DOC["paths"]["/articles"]["post"]["responses"]["201"]
    assert "Location" in post["headers"]
    put = DOC["paths"]["/articles/{id}"]["put"]["responses"]["201"]
    assert "Location" in put["headers"]
    lst = DOC["paths"]["/articles"]["get"]["responses"]["200"]
    assert "X-Total-Count" in lst["headers"]


def iter_examples():
    def walk(node, pointer):
        if isinstance(node, dict):
            if "schema" in node and "example" in node:
                yield pointer + "/schema", node["example"], pointer
            if "example" in node and ("type" in node or "$ref" in node or "properties" in node):
                yield pointer, node["example"], pointer
            for k, v in node.items():
                yield from walk(v, f"{pointer}/{pointer_escape(k)}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{pointer}/{i}")
    yield from walk(DOC, "")


def test_examples_validate_against_their_schemas():
    n = 0
    for schema_ptr, example, where in iter_examples():
        errors = list(schema_validator(schema_ptr).iter_errors(example))
        assert not errors, f"example at {where} does not validate: {errors[0].message}"
        n += 1
    assert n >= 5


def test_schemas_accept_and_refuse_as_the_contract_says():
    art = schema_validator("/components/schemas/Article")
    good = {"id": 1, "title": "t", "content": "", "author": None,
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"}
    assert art.is_valid(good)
    assert not art.is_valid({**good, "extra": 1})
    assert not art.is_valid({**good, "title": ""})
    assert not art.is_valid({**good, "created_at": "2026-01-01T00:00:00Z"})
    inp = schema_validator("/components/schemas/ArticleInput")
    assert inp.is_valid({"title": "a" * 200})
    assert not inp.is_valid({"title": "a" * 201})
    assert not inp.is_valid({"title": "x", "id": 1})
    assert not inp.is_valid({"content": "x"})
    assert not inp.is_valid({"title": "x", "author": "a" * 101})
    put = schema_validator("/components/schemas/ArticlePut")
    assert put.is_valid({"title": "x", "id": 2**53 - 1})
    assert not put.is_valid({"title": "x", "id": 2**53})
    patch = schema_validator("/components/schemas/ArticlePatch")
    assert patch.is_valid({}) and patch.is_valid({"author": None, "content": None})
    assert not patch.is_valid({"title": None})
    bulk = schema_validator("/components/schemas/BulkRequest")
    assert bulk.is_valid([{"op": "upsert", "article": {"id": 1, "title": "t"}}, {"op": "delete", "id": 2}])
    assert not bulk.is_valid([{"op": "upsert", "article": {"title": "t"}}])
    assert not bulk.is_valid([{"op": "delete", "id": 2}] * 1001)
    prob = schema_validator("/components/schemas/Problem")
    assert prob.is_valid({"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No such article."})
    assert not prob.is_valid({"type": "https://x", "title": "Not Found", "status": 404, "detail": "x"})


# -- the server against the document ---------------------------------------------
@pytest.fixture(scope="module")
def ctx(server):
    c = server.client
    a = c.create("openapi sample", content="c", author="o")
    return {"id": a["id"], "missing": a["id"] + 10**9, "client": c}


def j(obj):
    return json.dumps(obj).encode()


def fresh_id():
    return random.randint(10**9, 10**12)


# (path template, method) -> list of (label, function(ctx) -> (method, url, body, content type))
SAMPLES = {
    ("/articles", "get"): [
        ("ok", lambda x: ("GET", "/articles?limit=5&sort=-id", None, None)),
        ("filtered", lambda x: ("GET", "/articles?author=o&q=sample&offset=0&after_id=1", None, None)),
        ("bad limit", lambda x: ("GET", "/articles?limit=0", None, None)),
        ("unknown parameter", lambda x: ("GET", "/articles?nope=1", None, None)),
    ],
    ("/articles", "head"): [
        ("ok", lambda x: ("HEAD", "/articles", None, None)),
        ("bad sort", lambda x: ("HEAD", "/articles?sort=x", None, None)),
    ],
    ("/articles", "post"): [
        ("created", lambda x: ("POST", "/articles", j({"title": "t", "content": "c", "author": None}), "application/json")),
        ("malformed", lambda x: ("POST", "/articles", b"{", "application/json")),
        ("invalid", lambda x: ("POST", "/articles", j({"title": ""}), "application/json")),
        ("media type", lambda x: ("POST", "/articles", j({"title": "t"}), "text/plain")),
        ("too large", lambda x: ("POST", "/articles", b" " * (2 * MIB + 1), "application/json")),
    ],
    ("/articles/bulk", "post"): [
        ("ok", lambda x: ("POST", "/articles/bulk", j([{"op": "upsert", "article": {"id": fresh_id(), "title": "b"}},
                                                       {"op": "delete", "id": fresh_id()}]), "application/json")),
        ("malformed", lambda x: ("POST", "/articles/bulk", b"[", "application/json")),
        ("invalid", lambda x: ("POST", "/articles/bulk", j([{"op": "nope"}]), "application/json")),
        ("media type", lambda x: ("POST", "/articles/bulk", j([]), "text/plain")),
    ],
    ("/articles/{id}", "get"): [
        ("ok", lambda x: ("GET", f"/articles/{x['id']}", None, None)),
        ("missing", lambda x: ("GET", f"/articles/{x['missing']}", None, None)),
        ("bad id", lambda x: ("GET", "/articles/x1", None, None)),
    ],
    ("/articles/{id}", "head"): [
        ("ok", lambda x: ("HEAD", f"/articles/{x['id']}", None, None)),
        ("missing", lambda x: ("HEAD", f"/articles/{x['missing']}", None, None)),
        ("bad id", lambda x: ("HEAD", "/articles/0", None, None)),
    ],
    ("/articles/{id}", "put"): [
        ("replaced", lambda x: ("PUT", f"/articles/{x['id']}", j({"title": "openapi sample", "content": "c", "author": "o"}), "application/json")),
        ("created", lambda x: ("PUT", f"/articles/{fresh_id()}", j({"title": "new"}), "application/json")),
        ("bad id", lambda x: ("PUT", "/articles/-1", j({"title": "t"}), "application/json")),
        ("invalid", lambda x: ("PUT", f"/articles/{x['id']}", j({"title": "t", "id": x['id'] + 1}), "application/json")),
        ("media type", lambda x: ("PUT", f"/articles/{x['id']}", j({"title": "t"}), None)),
    ],
    ("/articles/{id}", "patch"): [
        ("ok", lambda x: ("PATCH", f"/articles/{x['id']}", j({"content": "c"}), "application/merge-patch+json")),
        ("missing", lambda x: ("PATCH", f"/articles/{x['missing']}", j({"content": "c"}), "application/json")),
        ("bad id", lambda x: ("PATCH", "/articles/abc", j({"content": "c"}), "application/json")),
        ("invalid", lambda x: ("PATCH", f"/articles/{x['id']}", j({"title": None}), "application/json")),
        ("malformed", lambda x: ("PATCH", f"/articles/{x['id']}", b"{]", "application/json")),
        ("media type", lambda x: ("PATCH", f"/articles/{x['id']}", j({}), "application/json-patch+json")),
    ],
    ("/articles/{id}", "delete"): [
        ("deleted", lambda x: ("DELETE", f"/articles/{x['client'].create('to delete')['id']}", None, None)),
        ("missing", lambda x: ("DELETE", f"/articles/{x['missing']}", None, None)),
        ("bad id", lambda x: ("DELETE", "/articles/9223372036854775808", None, None)),
    ],
    ("/health", "get"): [("ok", lambda x: ("GET", "/health", None, None))],
    ("/health", "head"): [("ok", lambda x: ("HEAD", "/health", None, None))],
    ("/metrics", "get"): [("ok", lambda x: ("GET", "/metrics", None, None))],
    ("/metrics", "head"): [("ok", lambda x: ("HEAD", "/metrics", None, None))],
    ("/openapi.json", "get"): [("ok", lambda x: ("GET", "/openapi.json", None, None))],
    ("/openapi.json", "head"): [("ok", lambda x: ("HEAD", "/openapi.json", None, None))],
}

CASES = [(op, label, fn) for op, samples in SAMPLES.items() for label, fn in samples]


def test_every_documented_operation_is_exercised():
    assert set(operations()) == set(SAMPLES), "the table SAMPLES must cover each documented operation"


def media_matches(actual, documented):
    """actual 'text/plain; version=0.0.4; charset=utf-8' matches documented
    'text/plain; version=0.0.4': same type and the documented parameters."""
    def split(v):
        parts = [p.strip() for p in v.split(";")]
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, val = p.split("=", 1)
                params[k.strip().lower()] = val.strip().strip('"').lower()
        return parts[0].lower(), params
    at, ap = split(actual)
    dt, dp = split(documented)
    return at == dt and all(ap.get(k) == v for k, v in dp.items())


@pytest.mark.parametrize("op,label,fn", CASES, ids=[f"{m.upper()} {p} {label}" for (p, m), label, _ in CASES])
def test_response_conforms(ctx, op, label, fn):
    path, method = op
    http_method, url, body, ctype = fn(ctx)
    r = ctx["client"].request(http_method, url, body, content_type=ctype)
    op_obj = DOC["paths"][path][method]
    op_ptr = f"/paths/{pointer_escape(path)}/{method}"
    responses = op_obj["responses"]
    key = str(r.status) if str(r.status) in responses else ("default" if "default" in responses else None)
    assert key is not None, f"{http_method} {url} answered {r.status}, not documented for {method} {path}: {r!r}"
    resp_obj, resp_ptr = deref(responses[key], f"{op_ptr}/responses/{key}")
    for name, h in (resp_obj.get("headers") or {}).items():
        h, h_ptr = deref(h, f"{resp_ptr}/headers/{pointer_escape(name)}")
        value = r.header(name)
        if h.get("required"):
            assert value is not None, f"documented header {name} missing: {r!r}"
        if value is not None and "schema" in h:
            errors = list(schema_validator(h_ptr + "/schema").iter_errors(value))
            assert not errors, f"header {name}: {value!r}: {errors[0].message}"
    content = resp_obj.get("content")
    if http_method == "HEAD" or not content:
        assert r.body == b"", f"{http_method} {url} -> {r.status} has a body, none documented"
        return
    ct = r.header("Content-Type")
    assert ct is not None, r
    matches = [m for m in content if media_matches(ct, m)]
    assert matches, f"Content-Type {ct!r} is not one of the documented {sorted(content)}"
    media = matches[0]
    if "schema" not in content[media]:
        return
    schema_ptr = f"{resp_ptr}/content/{pointer_escape(media)}/schema"
    if media_type(media) in ("application/json", "application/problem+json"):
        instance = r.json()
    else:
        instance = r.body.decode("utf-8")
    errors = sorted(schema_validator(schema_ptr).iter_errors(instance), key=lambda e: e.path)
    assert not errors, (f"{http_method} {url} -> {r.status}: body does not validate against "
                        f"{schema_ptr}: {errors[0].message} at {list(errors[0].path)}")


def concrete(path, ctx):
    return path.replace("{id}", str(ctx["id"]))


UNDOCUMENTED = [(p, m) for p in DOC["paths"] for m in HTTP_METHODS if m not in DOC["paths"][p]]


@pytest.mark.parametrize("path,method", UNDOCUMENTED, ids=[f"{m.upper()} {p}" for p, m in UNDOCUMENTED])
def test_undocumented_method_is_405(ctx, path, method):
    c = ctx["client"]
    before = c.snapshot()
    body = j({"title": "x"}) if method in ("post", "put", "patch") else None
    r = c.request(method.upper(), concrete(path, ctx), body)
    assert r.status == 405, r
    documented = {m.upper() for m in HTTP_METHODS if m in DOC["paths"][path]}
    assert allow_set(r) == documented
    assert c.snapshot() == before

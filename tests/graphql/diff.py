"""diff.py - differential test of the GraphQL gateway against graphql-js (reference/server.mjs).

Run with `python3 -m pytest -q tests/graphql/diff.py` (fixtures and corpus loading in conftest.py).
Each corpus case goes to both servers from the same seeded REST core, and the answers must agree:
`data` equal (present in both or neither), `errors` present in both or neither, and then the same
number of errors with equal `path` and `locations`, and equal `extensions.code` wherever the
reference gives one. Messages may differ. Errors are compared in (path, locations) order, since the
order of field errors depends on which REST answer arrives first.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CASE_NAME = re.compile(r"^(\d{3})-[a-z0-9][a-z0-9-]*$")
MISSING = "<absent>"


def mask_timestamps(value):
    """Mutation cases run at two different moments: their timestamps cannot be equal."""
    if isinstance(value, dict):
        return {k: mask_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_timestamps(v) for v in value]
    if isinstance(value, str) and TIMESTAMP.match(value):
        return "<timestamp>"
    return value


def error_view(e):
    ext = e.get("extensions") if isinstance(e.get("extensions"), dict) else {}
    return {"path": e.get("path"), "locations": e.get("locations"), "code": ext.get("code")}


def sorted_errors(errors):
    views = [error_view(e) for e in errors]
    return sorted(views, key=lambda v: json.dumps([v["path"], v["locations"]], sort_keys=True))


def show(result, limit=4000):
    text = json.dumps(result, indent=1, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "\n... (cut)"


def compare(ref, gw, mask=False, what=""):
    """Asserts that the gateway's answer gw agrees with the reference's answer ref."""
    context = f"{what}\n--- reference:\n{show(ref)}\n--- gateway:\n{show(gw)}"
    ref_data, gw_data = ref.get("data", MISSING), gw.get("data", MISSING)
    if mask:
        ref_data, gw_data = mask_timestamps(ref_data), mask_timestamps(gw_data)
    assert gw_data == ref_data, f"`data` differs{context}"
    assert ("errors" in gw) == ("errors" in ref), f"`errors` is in one answer only{context}"
    if "errors" not in ref:
        return
    assert isinstance(gw["errors"], list) and gw["errors"], f"`errors` must be a non-empty list{context}"
    for e in gw["errors"]:
        assert isinstance(e, dict) and isinstance(e.get("message"), str), f"an error without a message{context}"
    assert len(gw["errors"]) == len(ref["errors"]), f"not the same number of errors{context}"
    ref_errs, gw_errs = sorted_errors(ref["errors"]), sorted_errors(gw["errors"])
    for r, g in zip(ref_errs, gw_errs):
        assert (g["path"], g["locations"]) == (r["path"], r["locations"]), \
            f"errors differ in path or locations{context}"
        if r["code"] is not None:
            assert g["code"] == r["code"], f"extensions.code {g['code']!r}, expected {r['code']!r}{context}"


def test_corpus_is_well_formed():
    docs = sorted(HERE.glob("corpus/*.graphql"))
    assert len(docs) >= 160, f"only {len(docs)} corpus cases"
    numbers = set()
    for doc in docs:
        m = CASE_NAME.match(doc.stem)
        assert m, f"{doc.name}: cases are named NNN-short-name.graphql"
        assert m.group(1) not in numbers, f"{doc.name}: number {m.group(1)} is used twice"
        numbers.add(m.group(1))
    for opts in HERE.glob("corpus/*.json"):
        assert opts.with_suffix(".graphql").exists(), f"{opts.name} has no .graphql"
        raw = json.loads(opts.read_text(encoding="utf-8"))
        assert set(raw) <= {"variables", "operationName"}, f"{opts.name}: unknown keys {set(raw)}"


def test_reset_restores_the_seed(rest_core):
    """The harness's own check: every reset gives the seed back, and the same next id."""
    seed = json.loads((HERE / "seed.json").read_text(encoding="utf-8"))
    for _ in range(2):
        rest_core.reset()
        stored = rest_core.articles()
        assert [{k: a[k] for k in ("id", "title", "content", "author")} for a in stored] == seed
        assert [a["id"] for a in stored if a["created_at"] != a["updated_at"]] == [a["id"] for a in seed[1::2]]
        status, created, raw = rest_core.request("POST", "/articles", {"title": "probe"})
        assert status == 201 and created["id"] == len(seed) + 1, raw


def test_case(case, harness):
    ref, gw = harness.run(case)
    compare(ref, gw, mask=case.is_mutation, what=f"\ncase {case.name}:\n{case.query}")


def test_introspection_matches_schema(gateway):
    gateway.ensure()
    r = subprocess.run(["node", str(HERE / "reference" / "introspect.mjs"), gateway.url,
                        str(HERE.parents[1] / "schema" / "articles.graphql")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"introspection of the gateway differs from the SDL:\n{r.stdout}{r.stderr}"


UNREACHABLE = [
    {"query": '{ getArticle(id: "1") { id title } }'},
    {"query": "{ getArticles { id } }"},
    {"query": '{ a: getArticle(id: "1") { id } b: getArticle(id: "x") { id } __typename }'},
    {"query": 'mutation { createArticle(input: {title: "t"}) { id } }'},
    {"query": 'mutation { updateArticle(id: "1", input: {}) { id } deleteArticle(id: "2") }'},
]


@pytest.mark.parametrize("body", UNREACHABLE, ids=[f"unreachable-{i}" for i in range(len(UNREACHABLE))])
def test_rest_core_unreachable(body, dead_upstream):
    reference, gateway = dead_upstream
    compare(reference.post(body), gateway.post(body), what=f"\nwith no REST core:\n{body['query']}")

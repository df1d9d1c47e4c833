"""Batched requests (a POST whose body is a JSON array of requests, as Apollo's clients send
them): each operation answered in order as if sent alone, counted per operation in the
metrics, the batch's size limited by --max-batch, and its operations' aliases and root fields
adding up against --max-aliases and --max-root-fields, so that batching cannot multiply what
one request may cost."""
import json
import re

import pytest

from conftest import http_json
from test_gateway import start_gateway, start_rest


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    p = start_rest(tmp_path_factory)
    for i in range(1, 4):
        status, _, _ = http_json(p.port, "PUT", f"/articles/{i}",
                                 {"title": f"T{i}", "content": "c", "author": "ada"})
        assert status == 201
    yield p
    assert p.stop() == 0


@pytest.fixture(scope="module")
def gateway(rest, tmp_path_factory):
    g = start_gateway(tmp_path_factory, rest.port, "--max-batch", "4", "--max-root-fields", "3",
                      "--max-aliases", "4")
    yield g
    assert g.stop() == 0


def post(gw, body, accept=None):
    headers = {"Accept": accept} if accept else None
    status, _, raw = http_json(gw.port, "POST", "/graphql", body, headers=headers)
    return status, json.loads(raw)


def operations_count(gw, name):
    _, _, raw = http_json(gw.port, "GET", "/metrics")
    m = re.search(r'^graphql_operations_total\{type="query",name="%s"\} (\d+)' % name,
                  raw.decode(), re.M)
    return int(m.group(1)) if m else 0


def test_each_operation_answered_in_order(gateway):
    batch = [{"query": "query One { getArticle(id: 1) { id title } }"},
             {"query": "query Two($id: ID!) { getArticle(id: $id) { title } }",
              "variables": {"id": "2"}},
             {"query": "{ getArticle(id: 99) { id } }"}]
    status, got = post(gateway, batch)
    assert status == 200
    assert got == [{"data": {"getArticle": {"id": "1", "title": "T1"}}},
                   {"data": {"getArticle": {"title": "T2"}}},
                   {"data": {"getArticle": None}}]
    # each equals the answer to the same request sent alone
    for request, answer in zip(batch, got):
        assert post(gateway, request)[1] == answer


def test_counted_per_operation(gateway):
    before = operations_count(gateway, "Counted")
    status, got = post(gateway, [{"query": "query Counted { getArticle(id: 1) { id } }"}] * 3)
    assert status == 200 and len(got) == 3
    assert operations_count(gateway, "Counted") == before + 3


def test_mutations_in_a_batch_run_in_order(gateway, rest):
    batch = [{"query": 'mutation { createArticle(input: {title: "B1", content: "c", '
                       'author: "x"}) { id title } }'},
             {"query": '{ getArticles(author: "x") { title } }'}]
    status, got = post(gateway, batch)
    assert status == 200
    assert got[0]["data"]["createArticle"]["title"] == "B1"
    assert got[1] == {"data": {"getArticles": [{"title": "B1"}]}}


def test_a_bad_item_fails_alone(gateway):
    status, got = post(gateway, [{"query": "{ getArticle(id: 1) { id } }"}, 7,
                                 {"query": "{ nope }"}, {"query": "{ getArticle(id: 3) { id } }"}])
    assert status == 200
    assert got[0] == {"data": {"getArticle": {"id": "1"}}}
    assert "errors" in got[1] and "data" not in got[1]
    assert got[2]["errors"][0]["message"] == 'Cannot query field "nope" on type "Query".'
    assert got[3] == {"data": {"getArticle": {"id": "3"}}}


@pytest.mark.parametrize("size", [0, 5])
def test_batch_size_limit(gateway, size, rest):
    before = http_json(rest.port, "GET", "/articles?limit=1000")[2]
    status, got = post(gateway, [{"query": "{ getArticle(id: 1) { id } }"}] * size,
                       accept="application/graphql-response+json")
    assert status == 400
    assert got == {"errors": [{"message": "a batch holds 1 to 4 operations (--max-batch)"}]}
    assert http_json(rest.port, "GET", "/articles?limit=1000")[2] == before


def test_batches_off(rest, tmp_path_factory):
    g = start_gateway(tmp_path_factory, rest.port, "--max-batch", "0")
    status, got = post(g, [{"query": "{ getArticle(id: 1) { id } }"}],
                       accept="application/graphql-response+json")
    assert status == 400
    assert got == {"errors": [{"message": "batched requests are off here (--max-batch 0)"}]}
    assert g.stop() == 0


def test_root_fields_add_up_over_the_batch(gateway):
    """--max-root-fields 3: two root fields, then two more, is one too many in all."""
    two = "{ a: getArticle(id: 1) { id } b: getArticle(id: 2) { id } }"
    status, got = post(gateway, [{"query": two}, {"query": two}])
    assert status == 200
    assert got[0] == {"data": {"a": {"id": "1"}, "b": {"id": "2"}}}
    assert got[1] == {"errors": [{"message": "The operations of this batch select more than 3 "
                                             "root fields in all (--max-root-fields)."}]}


def test_aliases_add_up_over_the_batch(gateway):
    """--max-aliases 4: three aliases, then two more, is one too many in all; a third
    operation without aliases still runs."""
    three = "{ a: getArticle(id: 1) { x: id y: title } }"
    two = "{ b: getArticle(id: 2) { z: id } }"
    status, got = post(gateway, [{"query": three}, {"query": two},
                                 {"query": "{ getArticle(id: 3) { id } }"}])
    assert status == 200
    assert got[0] == {"data": {"a": {"x": "1", "y": "T1"}}}
    assert got[1] == {"errors": [{"message": "The operations of this batch use more than 4 "
                                             "aliases in all (--max-aliases)."}]}
    assert got[2] == {"data": {"getArticle": {"id": "3"}}}


def test_readme_batch_example_runs(gateway):
    """The README's batch example, as written, with the gateway's port in place of 4000."""
    import pathlib
    import subprocess
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("- Batches:", 1)[1]
    cmd = re.search(r"```sh\n(.*?)```", section, re.S).group(1).replace("\\\n", " ").strip()
    cmd = cmd.replace("localhost:4000", f"127.0.0.1:{gateway.port}")
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got[0] == {"data": {"getArticle": {"title": "T1"}}}
    assert [a["id"] for a in got[1]["data"]["getArticles"]] == ["1", "2"]

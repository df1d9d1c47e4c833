"""GET /articles: filters, sorts, paging, X-Total-Count and bad parameters.

Most tests work on a data set of their own, told apart from the rest of the
module's data by a unique author, so that they can share one server."""
import uuid

import pytest

from helpers import assert_json_response, assert_problem, q, tick

TITLES = ["Alpha one", "ALPHA two", "beta", "100% pure", "100 pure", "a_b", "axb",
          "Gamma", "gamma ray", "delta", "Épsilon", "zeta"]


@pytest.fixture(scope="module")
def dataset(server):
    """12 articles by one unique author, created in order with distinct
    updated_at times; returns (author, articles in id order)."""
    c = server.client
    author = "list-" + uuid.uuid4().hex[:8]
    arts = []
    for t in TITLES:
        arts.append(c.create(t, content="c", author=author))
        tick()
    # other authors' articles with the same titles, to make filters matter
    for t in TITLES[:4]:
        c.create(t, author="someone else")
    return author, arts


def ids(resp):
    return [a["id"] for a in resp.json()]


def total(resp):
    v = resp.header("X-Total-Count")
    assert v is not None, f"no X-Total-Count: {resp!r}"
    assert v.isdigit(), v
    return int(v)


def listing(client, **params):
    r = client.get("/articles" + q(**params))
    assert_json_response(r, 200)
    return r


def test_author_filter_default_sort_by_id(client, dataset):
    author, arts = dataset
    r = listing(client, author=author)
    assert ids(r) == [a["id"] for a in arts]
    assert r.json() == arts
    assert total(r) == 12


def test_author_is_exact_match(client, dataset):
    author, _ = dataset
    for other in (author.upper(), author[:-1], author + " ", "%" + author[2:], author[:4] + "%"):
        r = listing(client, author=other)
        assert r.json() == [] and total(r) == 0, other


def test_sort_id_explicit_and_desc(client, dataset):
    author, arts = dataset
    want = [a["id"] for a in arts]
    assert ids(listing(client, author=author, sort="id")) == want
    r = listing(client, author=author, sort="-id")
    assert ids(r) == want[::-1]
    assert total(r) == 12


def test_limit_and_offset(client, dataset):
    author, arts = dataset
    want = [a["id"] for a in arts]
    r = listing(client, author=author, limit=5)
    assert ids(r) == want[:5] and total(r) == 12
    r = listing(client, author=author, limit=5, offset=5)
    assert ids(r) == want[5:10] and total(r) == 12
    r = listing(client, author=author, limit=5, offset=10)
    assert ids(r) == want[10:] and total(r) == 12
    r = listing(client, author=author, offset=12)
    assert ids(r) == [] and total(r) == 12
    r = listing(client, author=author, offset=1000000)
    assert ids(r) == [] and total(r) == 12
    r = listing(client, author=author, limit=3, offset=2, sort="-id")
    assert ids(r) == want[::-1][2:5]
    r = listing(client, author=author, limit=1)
    assert ids(r) == want[:1]
    r = listing(client, author=author, limit=1000)
    assert ids(r) == want


def test_after_id_keyset(client, dataset):
    author, arts = dataset
    want = [a["id"] for a in arts]
    r = listing(client, author=author, after_id=want[3])
    assert ids(r) == want[4:]
    assert total(r) == 12, "X-Total-Count ignores after_id"
    r = listing(client, author=author, after_id=want[3], sort="id", limit=2)
    assert ids(r) == want[4:6]
    r = listing(client, author=author, after_id=want[8], sort="-id")
    assert ids(r) == want[:8][::-1]
    assert total(r) == 12
    r = listing(client, author=author, after_id=want[-1])
    assert ids(r) == []
    # an after_id that is not an existing article still works as a bound
    r = listing(client, author=author, after_id=want[-1] + 10**9, sort="-id", limit=2)
    assert ids(r) == want[::-1][:2]


def test_after_id_walks_all_pages(client, dataset):
    author, arts = dataset
    for sort, want in (("id", [a["id"] for a in arts]), ("-id", [a["id"] for a in arts][::-1])):
        got, after = [], None
        for _ in range(10):
            params = {"author": author, "limit": 5, "sort": sort}
            if after is not None:
                params["after_id"] = after
            page = ids(listing(client, **params))
            got += page
            if len(page) < 5:
                break
            after = page[-1]
        assert got == want, sort


def test_q_is_case_insensitive_substring(client, dataset):
    author, arts = dataset
    by_title = {a["title"]: a["id"] for a in arts}

    def found(text):
        r = listing(client, author=author, q=text)
        assert total(r) == len(r.json())
        return sorted(ids(r))

    assert found("alpha") == sorted([by_title["Alpha one"], by_title["ALPHA two"]])
    assert found("ALPHA") == found("alpha")
    assert found("Gam") == sorted([by_title["Gamma"], by_title["gamma ray"]])
    assert found("ray") == [by_title["gamma ray"]]
    assert found("pure") == sorted([by_title["100% pure"], by_title["100 pure"]])
    assert found("no such title") == []
    assert found("e") == sorted(i for t, i in by_title.items() if "e" in t.lower())


def test_q_percent_and_underscore_are_literal(client, dataset):
    author, arts = dataset
    by_title = {a["title"]: a["id"] for a in arts}
    r = listing(client, author=author, q="%")
    assert ids(r) == [by_title["100% pure"]]
    r = listing(client, author=author, q="_")
    assert ids(r) == [by_title["a_b"]]
    r = listing(client, author=author, q="a_b")
    assert ids(r) == [by_title["a_b"]]
    r = listing(client, author=author, q="100%")
    assert ids(r) == [by_title["100% pure"]]


def test_q_and_paging_and_total(client, dataset):
    author, arts = dataset
    r = listing(client, q="alpha")  # other authors' "Alpha one" too
    n = total(r)
    assert n >= 3 and len(r.json()) == n
    assert all("alpha" in a["title"].lower() for a in r.json())
    r = listing(client, q="alpha", limit=1)
    assert len(r.json()) == 1 and total(r) == n
    r = listing(client, author=author, q="alpha", limit=1, offset=1)
    assert total(r) == 2 and len(r.json()) == 1


def test_q_with_unicode_and_reserved_characters(client):
    tag = uuid.uuid4().hex[:8]
    a = client.create(f"Ünïcode & = ? # / + {tag}", author=f"Zoë & Co {tag}")
    r = listing(client, q=f"ünïcode & = ? # / + {tag}".replace("ünï", "Ünï"))
    assert a["id"] in ids(r)
    r = listing(client, author=f"Zoë & Co {tag}")
    assert ids(r) == [a["id"]] and total(r) == 1
    r = listing(client, q=f"+ {tag}")
    assert ids(r) == [a["id"]]


def test_sort_by_updated_at(client, server):
    author = "upd-" + uuid.uuid4().hex[:8]
    arts = []
    for i in range(4):
        arts.append(client.create(f"u{i}", author=author))
        tick()
    # touching the first one makes it the most recently updated
    first = client.patch(f"/articles/{arts[0]['id']}", {"content": "touched"}).json()
    assert first["updated_at"] > arts[-1]["updated_at"]
    order = [a["id"] for a in arts[1:]] + [arts[0]["id"]]
    r = listing(client, author=author, sort="updated_at")
    assert ids(r) == order
    assert total(r) == 4
    r = listing(client, author=author, sort="-updated_at")
    assert ids(r) == order[::-1]
    r = listing(client, author=author, sort="-updated_at", limit=2, offset=1)
    assert ids(r) == order[::-1][1:3]
    # a PUT moves it too
    tick()
    client.put(f"/articles/{arts[2]['id']}", {"title": "u2", "author": author})
    r = listing(client, author=author, sort="-updated_at")
    assert ids(r)[0] == arts[2]["id"]


BAD_PARAMS = [
    ("limit=abc", "limit"),
    ("limit=0", "limit"),
    ("limit=-1", "limit"),
    ("limit=1001", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("limit=10abc", "limit"),
    ("offset=-1", "offset"),
    ("offset=abc", "offset"),
    ("offset=1e3", "offset"),
    ("offset=99999999999999999999999", "offset"),
    ("after_id=0", "after_id"),
    ("after_id=-3", "after_id"),
    ("after_id=x", "after_id"),
    ("after_id=9223372036854775808", "after_id"),
    ("sort=title", "sort"),
    ("sort=", "sort"),
    ("sort=ID", "sort"),
    ("sort=%2Bid", "sort"),
    ("sort=created_at", "sort"),
    ("foo=1", "foo"),
    ("Limit=5", "Limit"),
    ("limit=1&limit=2", "limit"),
    ("offset=1&offset=1", "offset"),
    ("author=a&author=b", "author"),
    ("q=a&q=a", "q"),
    ("sort=id&sort=-id", "sort"),
    ("sort=updated_at&after_id=1", "after_id"),
    ("sort=-updated_at&after_id=1", "after_id"),
    ("after_id=1&sort=-updated_at", "after_id"),
]


@pytest.mark.parametrize("query,param", BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_bad_parameter_is_400(client, query, param):
    before = client.snapshot()
    assert_problem(client.get("/articles?" + query), 400, parameter=param)
    assert client.head("/articles?" + query).status == 400
    assert client.snapshot() == before


def test_limit_bounds_accepted(client):
    assert listing(client, limit=1000).status == 200
    assert listing(client, limit=1).status == 200
    assert listing(client, offset=0).status == 200


def test_head_list_has_total_and_no_body(client, dataset):
    author, _ = dataset
    r = client.head("/articles" + q(author=author))
    assert r.status == 200 and r.body == b""
    assert total(r) == 12


def test_default_limit_is_100_and_total_counts_everything(fresh_server):
    c = fresh_server.client
    r = listing(c)
    assert r.json() == [] and total(r) == 0
    made = [c.create(f"a{i}")["id"] for i in range(105)]
    r = listing(c)
    assert ids(r) == made[:100]
    assert total(r) == 105
    r = listing(c, limit=1000)
    assert ids(r) == made
    assert c.delete(f"/articles/{made[0]}").status == 204
    assert total(listing(c)) == 104
    r = listing(c, limit=2, offset=103)
    assert ids(r) == made[104:]

"""Bearer tokens: with --api-tokens / API_TOKENS / --api-tokens-file every
write needs Authorization: Bearer <token> (and reads too with --auth-reads
token); /health, /metrics and /openapi.json stay open; a refused request
changes nothing; bad token configuration exits 2; no token is ever logged."""
import os
import secrets
import subprocess

import pytest

from conftest import binary, free_port
from helpers import (MIB, assert_article, assert_json_response, media_type, parse_metrics,
                     sample_value)

MISSING_DETAIL = "this operation needs a bearer token: send Authorization: Bearer <token>"
INVALID_DETAIL = "the bearer token is not valid"
AUTH_ENV = ("API_TOKENS", "API_TOKENS_FILE", "AUTH_READS")


def new_token():
    return "tk-" + secrets.token_urlsafe(24)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_401(resp, *, invalid):
    """A 401 problem+json with the WWW-Authenticate challenge; `invalid`
    when a bearer token was sent but is not valid."""
    assert resp.status == 401, f"expected 401, got {resp!r}"
    assert resp.reason == "Unauthorized", resp
    assert media_type(resp.header("Content-Type")) == "application/problem+json", resp
    body = resp.json()
    assert body.get("type") == "about:blank", body
    assert body.get("title") == "Unauthorized", body
    assert body.get("status") == 401, body
    assert body.get("detail") == (INVALID_DETAIL if invalid else MISSING_DETAIL), body
    challenge = resp.header("WWW-Authenticate")
    assert challenge is not None, f"401 without WWW-Authenticate: {resp!r}"
    assert challenge.startswith("Bearer "), challenge
    assert 'realm="articles"' in challenge, challenge
    assert ('error="invalid_token"' in challenge) == invalid, challenge
    return body


def start(server_factory, tokens=None, args=(), env=None):
    """A server with the given tokens on its command line."""
    full_args = list(args)
    if tokens:
        full_args += ["--api-tokens", ",".join(tokens)]
    return server_factory.start(args=full_args, env=env)


def write_requests(c, art_id, headers):
    """One request of every write kind, each of which would change something."""
    return [
        ("POST /articles", lambda: c.post("/articles", {"title": "new"}, headers=headers)),
        ("PUT existing", lambda: c.put(f"/articles/{art_id}", {"title": "replaced"},
                                       headers=headers)),
        ("PUT new", lambda: c.put("/articles/424242", {"title": "created"}, headers=headers)),
        ("PATCH", lambda: c.patch(f"/articles/{art_id}", {"title": "patched"}, headers=headers)),
        ("PATCH merge-patch", lambda: c.patch(f"/articles/{art_id}", {"author": "x"},
                                              headers=headers,
                                              content_type="application/merge-patch+json")),
        ("bulk", lambda: c.post("/articles/bulk",
                                [{"op": "upsert", "article": {"id": 777, "title": "b"}},
                                 {"op": "delete", "id": art_id}], headers=headers)),
        ("DELETE", lambda: c.delete(f"/articles/{art_id}", headers=headers)),
    ]


def seeded(server, token):
    """Creates one article with the token and returns (article, snapshot)."""
    c = server.client
    r = c.post("/articles", {"title": "kept", "author": "ada", "content": "c"},
               headers=bearer(token))
    art = assert_json_response(r, 201)
    return art, assert_json_response(c.get("/articles?limit=1000", headers=bearer(token)), 200)


# ---- writes ---------------------------------------------------------------

def test_writes_without_a_token_get_401_and_change_nothing(server_factory):
    token = new_token()
    s = start(server_factory, [token])
    c = s.client
    art, before = seeded(s, token)
    for headers in ({}, {"Authorization": f"Basic {token}"}, {"Authorization": ""},
                    {"Authorization": token}):
        for name, send in write_requests(c, art["id"], headers):
            assert_401(send(), invalid=False)
    assert c.snapshot() == before
    assert c.get("/articles/424242").status == 404


def test_a_wrong_token_gets_401_invalid_token_and_changes_nothing(server_factory):
    token = new_token()
    s = start(server_factory, [token])
    c = s.client
    art, before = seeded(s, token)
    wrong = [new_token(), token[:-1], token + "x", token.upper(), token[:-1] + "#",
             token + " x", "", "   "]
    for bad in wrong:
        for name, send in write_requests(c, art["id"], {"Authorization": f"Bearer {bad}"}):
            assert_401(send(), invalid=True)
    assert c.snapshot() == before


def test_the_right_token_allows_every_write(server_factory):
    token, other = new_token(), new_token()
    s = start(server_factory, [token, other])
    c = s.client
    h = bearer(token)
    r = c.post("/articles", {"title": "a"}, headers=h)
    art = assert_article(assert_json_response(r, 201), title="a")
    r = c.put(f"/articles/{art['id']}", {"title": "b"}, headers=bearer(other))
    assert_article(assert_json_response(r, 200), title="b")
    r = c.put("/articles/5000", {"title": "put-created"}, headers=h)
    assert_article(assert_json_response(r, 201), id=5000)
    # the scheme is case-insensitive, and more than one space may follow it
    r = c.patch(f"/articles/{art['id']}", {"author": "ada"},
                headers={"Authorization": f"bearer   {token}"})
    assert_article(assert_json_response(r, 200), author="ada")
    r = c.post("/articles/bulk", [{"op": "upsert", "article": {"id": 6000, "title": "bulk"}},
                                  {"op": "delete", "id": 5000}],
               headers={"Authorization": f"BEARER {other}"})
    assert assert_json_response(r, 200)["results"] == [
        {"op": "upsert", "id": 6000, "status": 201}, {"op": "delete", "id": 5000, "status": 204}]
    r = c.delete(f"/articles/{art['id']}", headers=h)
    assert r.status == 204, r
    assert [a["id"] for a in c.snapshot()] == [6000]


def test_401_comes_before_the_request_is_examined(server_factory):
    """No token: 401, whatever is wrong with the id, the media type or the
    body (even a large one); the route and method are still checked first."""
    token = new_token()
    s = start(server_factory, [token], args=["--max-body-bytes", str(2 * MIB)])
    c = s.client
    assert_401(c.put("/articles/abc", {"title": "x"}), invalid=False)
    assert_401(c.post("/articles", b"<xml/>", content_type="application/xml"), invalid=False)
    assert_401(c.post("/articles", b"{"), invalid=False)
    assert_401(c.post("/articles", {"title": ""}), invalid=False)
    assert_401(c.post("/articles/bulk", b"[" + b"{}," * (MIB // 3) + b"{}]"), invalid=False)
    assert_401(c.post("/articles", b"x" * (MIB + MIB // 2), content_type="text/plain"),
               invalid=False)
    # beyond --max-body-bytes the glue may already have answered 413
    r = c.post("/articles", b"x" * (3 * MIB))
    assert r.status in (401, 413), r
    assert c.delete("/articles").status == 405
    assert c.get("/nope").status == 404
    assert c.snapshot() == []


def test_401s_are_counted_in_the_metrics(server_factory):
    token = new_token()
    s = start(server_factory, [token])
    c = s.client
    assert c.post("/articles", {"title": "x"}).status == 401
    assert c.post("/articles", {"title": "x"}, headers=bearer(new_token())).status == 401
    assert c.delete("/articles/1").status == 401
    assert c.post("/articles", {"title": "x"}, headers=bearer(token)).status == 201
    r = c.get("/metrics")
    assert r.status == 200
    _, _, samples = parse_metrics(r.body.decode())
    assert sample_value(samples, "http_requests_total", method="POST", route="/articles",
                        status="401") == 2
    assert sample_value(samples, "http_requests_total", method="DELETE",
                        route="/articles/{id}", status="401") == 1
    assert sample_value(samples, "http_requests_total", method="POST", route="/articles",
                        status="201") == 1


# ---- reads and the open routes ------------------------------------------------

OPEN_ROUTES = ("/health", "/metrics", "/openapi.json")


def assert_open_routes(c):
    for path in OPEN_ROUTES:
        assert c.get(path).status == 200, path
        assert c.head(path).status == 200, path


def test_reads_are_open_by_default(server_factory):
    token = new_token()
    s = start(server_factory, [token])
    c = s.client
    art, _ = seeded(s, token)
    assert assert_json_response(c.get("/articles"), 200)[0]["id"] == art["id"]
    assert_json_response(c.get(f"/articles/{art['id']}"), 200)
    assert c.head(f"/articles/{art['id']}").status == 200
    assert c.head("/articles").status == 200
    # a wrong token on an open read is not looked at
    assert c.get("/articles", headers=bearer(new_token())).status == 200
    assert_open_routes(c)


def test_reads_need_a_token_with_auth_reads_token(server_factory):
    token = new_token()
    s = start(server_factory, [token], args=["--auth-reads", "token"])
    c = s.client
    art, before = seeded(s, token)
    for path in ("/articles", f"/articles/{art['id']}", "/articles?limit=1",
                 "/articles/abc", "/articles?bogus=1"):
        assert_401(c.get(path), invalid=False)
        assert_401(c.get(path, headers=bearer(new_token())), invalid=True)
        h = c.head(path)
        assert h.status == 401 and h.body == b"", h
        assert 'realm="articles"' in (h.header("WWW-Authenticate") or ""), h
    assert assert_json_response(c.get("/articles", headers=bearer(token)), 200) == before
    assert_json_response(c.get(f"/articles/{art['id']}", headers=bearer(token)), 200)
    assert c.head("/articles", headers=bearer(token)).status == 200
    assert_open_routes(c)
    # writes still need it too
    assert_401(c.post("/articles", {"title": "x"}), invalid=False)


def test_auth_reads_from_the_environment(server_factory):
    token = new_token()
    s = start(server_factory, env={"API_TOKENS": token, "AUTH_READS": "token"})
    c = s.client
    assert_401(c.get("/articles"), invalid=False)
    assert c.get("/articles", headers=bearer(token)).status == 200
    assert_open_routes(c)


def test_without_tokens_everything_is_open(server_factory):
    s = server_factory.start(env={"API_TOKENS": ""})
    c = s.client
    r = c.post("/articles", {"title": "open"})
    art = assert_json_response(r, 201)
    # an Authorization header is ignored when no token is configured
    assert c.delete(f"/articles/{art['id']}", headers=bearer("whatever")).status == 204
    assert_open_routes(c)


# ---- where tokens come from ------------------------------------------------------

def test_tokens_from_the_environment(server_factory):
    t1, t2 = new_token(), new_token()
    s = start(server_factory, env={"API_TOKENS": f"{t1}, {t2}"})
    c = s.client
    assert c.post("/articles", {"title": "a"}, headers=bearer(t1)).status == 201
    assert c.post("/articles", {"title": "b"}, headers=bearer(t2)).status == 201
    assert_401(c.post("/articles", {"title": "c"}), invalid=False)
    assert_401(c.post("/articles", {"title": "c"}, headers=bearer(f"{t1},{t2}")), invalid=True)
    assert len(c.snapshot()) == 2


def test_tokens_from_a_file_combined_with_the_list(server_factory, tmp_path):
    in_file, commented, in_list, in_env_file = new_token(), new_token(), new_token(), new_token()
    path = tmp_path / "tokens"
    path.write_text(f"# tokens of the sync daemon\n\n{in_file}\n  # {commented}\n#{commented}\n"
                    f"   \n{in_env_file}\r\n")
    s = start(server_factory, [in_list], args=["--api-tokens-file", str(path)])
    c = s.client
    for t in (in_file, in_list, in_env_file):
        assert c.post("/articles", {"title": "ok"}, headers=bearer(t)).status == 201, t
    assert_401(c.post("/articles", {"title": "no"}, headers=bearer(commented)), invalid=True)
    assert_401(c.post("/articles", {"title": "no"}, headers=bearer("#" + commented)),
               invalid=True)
    assert len(c.snapshot()) == 3
    # the file is read at start: a token added later is not known
    later = new_token()
    with open(path, "a") as f:
        f.write(later + "\n")
    assert_401(c.post("/articles", {"title": "no"}, headers=bearer(later)), invalid=True)


def test_token_file_from_the_environment(server_factory, tmp_path):
    token = new_token()
    path = tmp_path / "tokens"
    path.write_text(token + "\n")
    s = start(server_factory, env={"API_TOKENS_FILE": str(path)})
    c = s.client
    assert c.post("/articles", {"title": "ok"}, headers=bearer(token)).status == 201
    assert_401(c.post("/articles", {"title": "no"}), invalid=False)


# ---- bad configuration -------------------------------------------------------------

def run(args, tmp_path, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in AUTH_ENV}
    full_env.update(env or {})
    cmd = [binary(), "--host", "127.0.0.1", "--port", str(free_port()),
           "--database-url", f"sqlite:{tmp_path}/a.db", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=15, env=full_env,
                              cwd=tmp_path)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{cmd} did not exit: it started despite a bad configuration") \
            from None


def assert_exit_2(r, *, mentions, secret=None):
    assert r.returncode == 2, f"expected exit 2, got {r.returncode}: {r.stderr!r}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr: {r.stderr!r}"
    for word in mentions:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    if secret:
        assert secret not in r.stderr + r.stdout, "the token appears in the error message"


def test_bad_token_files_exit_2_with_one_line(tmp_path):
    missing = tmp_path / "missing"
    assert_exit_2(run(["--api-tokens-file", str(missing)], tmp_path),
                  mentions=[str(missing), "--api-tokens-file"])
    assert_exit_2(run([], tmp_path, env={"API_TOKENS_FILE": str(missing)}),
                  mentions=[str(missing)])
    empty = tmp_path / "empty"
    empty.write_text("")
    assert_exit_2(run(["--api-tokens-file", str(empty)], tmp_path), mentions=["no token"])
    comments = tmp_path / "comments"
    hidden = new_token()
    comments.write_text(f"# only comments\n\n#{hidden}\n")
    assert_exit_2(run(["--api-tokens-file", str(comments)], tmp_path), mentions=["no token"],
                  secret=hidden)
    assert_exit_2(run(["--api-tokens-file", str(tmp_path)], tmp_path), mentions=[str(tmp_path)])
    unreadable = tmp_path / "unreadable"
    unreadable.write_text(new_token() + "\n")
    unreadable.chmod(0)
    if os.geteuid() != 0:  # root reads any file
        assert_exit_2(run(["--api-tokens-file", str(unreadable)], tmp_path),
                      mentions=[str(unreadable)])
    short = "short-secret-15"  # 15 bytes
    bad = tmp_path / "bad"
    bad.write_text(f"# ok\n{new_token()}\n{short}\n")
    assert_exit_2(run(["--api-tokens-file", str(bad)], tmp_path),
                  mentions=["line 3", "16"], secret=short)


def test_bad_token_lists_exit_2_without_printing_the_token(tmp_path):
    cases = [
        ("a" * 15, ["16"]),
        ("b" * 257, ["256"]),
        ("with-a-space inside-it", ["visible ASCII"]),
        ("caf\u00e9-token-0123456789", ["visible ASCII"]),
    ]
    for token, mentions in cases:
        r = run(["--api-tokens", token], tmp_path)
        assert_exit_2(r, mentions=mentions, secret=token)
        r = run([], tmp_path, env={"API_TOKENS": f"{new_token()},{token}"})
        assert_exit_2(r, mentions=mentions + ["item 2"], secret=token)
    assert_exit_2(run(["--api-tokens", f"{new_token()},,{new_token()}"], tmp_path),
                  mentions=["item 2", "empty"])
    too_many = ",".join(f"token-{i:012d}" for i in range(1001))
    assert_exit_2(run([], tmp_path, env={"API_TOKENS": too_many}), mentions=["1000"])
    assert_exit_2(run(["--auth-reads", "token"], tmp_path), mentions=["--auth-reads"])
    assert_exit_2(run(["--auth-reads", "closed", "--api-tokens", new_token()], tmp_path),
                  mentions=["--auth-reads"])


def test_limits_of_a_token_are_inclusive(server_factory):
    t16, t256 = "x" * 16, "y" * 256
    s = start(server_factory, [t16, t256])
    c = s.client
    assert c.post("/articles", {"title": "a"}, headers=bearer(t16)).status == 201
    assert c.post("/articles", {"title": "b"}, headers=bearer(t256)).status == 201
    assert_401(c.post("/articles", {"title": "c"}, headers=bearer("y" * 257)), invalid=True)
    assert_401(c.post("/articles", {"title": "c"}, headers=bearer("x" * 15)), invalid=True)


def test_a_thousand_tokens(server_factory, tmp_path):
    tokens = [new_token() for _ in range(1000)]
    path = tmp_path / "tokens"
    path.write_text("\n".join(tokens) + "\n")
    s = start(server_factory, args=["--api-tokens-file", str(path)])
    c = s.client
    for t in (tokens[0], tokens[499], tokens[999]):
        assert c.post("/articles", {"title": "t"}, headers=bearer(t)).status == 201
    assert_401(c.post("/articles", {"title": "t"}, headers=bearer(new_token())), invalid=True)


# ---- secrecy ----------------------------------------------------------------------

def test_tokens_never_appear_in_the_log(server_factory, tmp_path):
    listed, filed, wrong = new_token(), new_token(), new_token()
    path = tmp_path / "tokens"
    path.write_text(filed + "\n")
    s = start(server_factory, [listed],
              args=["--api-tokens-file", str(path), "--log-level", "debug"])
    c = s.client
    art = assert_json_response(c.post("/articles", {"title": "a"}, headers=bearer(listed)), 201)
    c.put(f"/articles/{art['id']}", {"title": "b"}, headers=bearer(filed))
    c.patch(f"/articles/{art['id']}", {"title": "c"}, headers=bearer(wrong))
    c.post("/articles", b"{", headers=bearer(listed))
    c.post("/articles/bulk", [{"op": "delete", "id": 1}], headers=bearer(wrong))
    c.get(f"/articles/{art['id']}", headers=bearer(listed))
    c.delete(f"/articles/{art['id']}", headers=bearer(filed))
    c.raw("POST", "/articles", [("Host", "x"), ("Authorization", f"Bearer {wrong}"),
                                ("Content-Type", "application/json"), ("Content-Length", "2")],
          b"{}")
    assert s.stop() == 0
    out, err = s.logs()
    assert err.strip(), "the server logged nothing on stderr"
    for secret in (listed, filed, wrong):
        assert secret not in out + err, "a token appears in the server's log"

"""The GraphiQL playground: a browser's GET on /graphql gets the page, whose
scripts and styles the gateway serves itself (no CDN), and a real headless
Chromium renders it and runs GraphiQL's introspection query against the
gateway, as a person opening the playground would."""
import http.client
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, GraphQLServer, free_port, gateway_command

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def fetch(port, path, accept=BROWSER_ACCEPT):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.getheader("Cache-Control"), r.read()
    finally:
        conn.close()


def test_page_and_assets_are_served_locally(gateway):
    gateway.ensure()
    port = gateway.process.port
    status, ctype, cache, page = fetch(port, "/graphql")
    assert status == 200 and ctype.startswith("text/html") and cache == "no-cache"
    html = page.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(refs) == 4 and all(r.startswith("/graphql/assets/") for r in refs), refs
    assert "http://" not in html and "https://" not in html, "the page must not load from a CDN"
    for ref in refs:
        status, ctype, cache, body = fetch(port, ref)
        local = REPO_ROOT / "build" / "playground" / ref.rsplit("/", 1)[1]
        assert status == 200 and body == local.read_bytes(), ref
        assert ctype.startswith("text/css" if ref.endswith(".css") else "text/javascript")
        assert "immutable" in cache
    assert fetch(port, "/graphql/assets/../../etc/passwd")[0] == 404
    # An API client is not given the page.
    assert fetch(port, "/graphql", accept="application/json")[0] == 400


def test_playground_can_be_switched_off(tmp_path_factory, rest_core):
    def command(port, rest_url):
        return gateway_command(port, rest_url) + ["--playground", "off"]
    g = GraphQLServer("gateway", command, rest_core.url, tmp_path_factory)
    try:
        g.ensure()
        # A browser then gets a GraphQL answer (no query: 400 in JSON), not the page.
        status, ctype, _, _ = fetch(g.process.port, "/graphql")
        assert status == 400 and "json" in ctype
        assert fetch(g.process.port, "/graphql", accept="text/html")[0] == 406
        assert fetch(g.process.port, "/graphql/assets/graphiql.min.js")[0] == 404
    finally:
        g.stop()


def test_chromium_renders_the_playground(gateway, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.fail("chromium is missing: install Debian's chromium package (make deps)")
    gateway.ensure()
    port = gateway.process.port
    r = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom",
         f"http://127.0.0.1:{port}/graphql"],
        capture_output=True, text=True, timeout=120)
    assert "graphiql-container" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    # GraphiQL fetched the schema for its docs: the introspection query reached the gateway.
    status, _, _, metrics = fetch(port, "/metrics", accept="text/plain")
    assert re.search(rb'graphql_operations_total\{type="query",name="IntrospectionQuery"\} [1-9]',
                     metrics), metrics.decode()[-1500:]

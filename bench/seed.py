#!/usr/bin/env python3
"""seed.py URL N - loads N articles with ids 1..N into the REST core through
POST /articles/bulk, 1000 at a time, for the benchmarks."""
import json
import sys
import urllib.request

url, total = sys.argv[1], int(sys.argv[2])
for start in range(1, total + 1, 1000):
    ops = [{"op": "upsert", "article": {"id": i, "title": f"Article {i}",
            "content": "Seeded for the benchmark. " * 8, "author": f"author{i % 50}"}}
           for i in range(start, min(start + 1000, total + 1))]
    req = urllib.request.Request(url + "/articles/bulk", data=json.dumps(ops).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200, r.status

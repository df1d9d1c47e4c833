#!/usr/bin/env python3
"""lag.py - the writer and the sampler of bench/sync.sh's steady-state lag runs.

  lag.py write DB RATE SECONDS SEED
      writes RATE changes a second for SECONDS into the SQLite source DB: half updates of the
      seeded ids 1..SEED, half inserts of new ids above it. Each row's title is its write time,
      "t=<unix time, microseconds>"; one transaction every 5 ms. Last, an update of id 1 titled
      "t=<time> end". Prints "RESULT written=N inserts=N updates=N seconds=X".
  lag.py sample URL TIMEOUT
      polls the REST core at URL (GET /articles?sort=-updated_at&limit=L, every 10 ms) and notes
      each (id, t) the first time it shows: lag = the send time of that request - t, so a lag is
      overstated by at most one poll. L starts at 100 and grows (up to 1000, the REST core's
      largest page) while the oldest row of a page is not one seen before, so no write that shows
      is skipped; a page of 1000 all new counts as a gap. Stops 1 s after the last new row once
      the end row showed, or after TIMEOUT seconds. Prints
      "RESULT observed=N p50_ms=X p99_ms=X max_ms=X mean_ms=X polls=N gaps=N".
  lag.py wait-count URL N TIMEOUT
      waits until the REST core holds N articles (X-Total-Count); exit 1 after TIMEOUT seconds.
"""
import json
import math
import random
import sqlite3
import sys
import time
import urllib.request

from fill import author, content


def cmd_write(db, rate, seconds, seed):
    c = sqlite3.connect(db, timeout=30, isolation_level=None)
    c.execute("PRAGMA synchronous=NORMAL")
    rng = random.Random(1)
    total = int(rate * seconds)
    done = inserts = updates = 0
    next_id = seed + 1
    t0 = time.monotonic()
    while done < total:
        due = min(total, int(rate * (time.monotonic() - t0))) - done
        if due > 0:
            c.execute("BEGIN IMMEDIATE")
            for _ in range(due):
                t = f"t={time.time():.6f}"
                if seed and rng.random() < 0.5:
                    i = rng.randint(1, seed)
                    c.execute("UPDATE articles SET title = ?, content = ?, updated_at = "
                              "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                              (t, content(i + done), i))
                    updates += 1
                else:
                    c.execute("INSERT INTO articles (id, title, content, author) VALUES (?, ?, ?, ?)",
                              (next_id, t, content(next_id), author(next_id)))
                    next_id += 1
                    inserts += 1
            c.execute("COMMIT")
            done += due
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    c.execute("UPDATE articles SET title = ? WHERE id = 1", (f"t={time.time():.6f} end",))
    c.close()
    print(f"RESULT written={done + 1} inserts={inserts} updates={updates + 1} seconds={elapsed:.2f}")


def parse_title(title):
    """(t, end) from "t=<time>[ end]"; (None, False) for any other title (the seeded rows)."""
    if not title.startswith("t="):
        return None, False
    parts = title[2:].split()
    return float(parts[0]), len(parts) > 1 and parts[1] == "end"


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    # nearest rank
    k = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[min(k, len(sorted_values) - 1)]


def cmd_sample(url, timeout):
    start = time.time()
    deadline = start + timeout
    seen = {}  # id -> the t of the title last seen
    lags = []
    polls = gaps = 0
    limit = 100
    end_seen = False
    last_new = start
    while True:
        sent = time.time()
        page = get_json(f"{url}/articles?sort=-updated_at&limit={limit}")
        polls += 1
        # Covered: the oldest row of the page is one seen before (or a seeded row), so every
        # newer change is in the page.
        covered = True
        if len(page) == limit:
            t, _ = parse_title(page[-1]["title"])
            covered = t is None or t < start or seen.get(page[-1]["id"]) == t
        for a in page:
            t, end = parse_title(a["title"])
            if t is None or t < start or seen.get(a["id"]) == t:
                continue
            seen[a["id"]] = t
            lags.append(sent - t)
            last_new = sent
            end_seen = end_seen or end
        now = time.time()
        if not covered:
            if limit < 1000:
                limit = min(1000, limit * 4)
                continue  # ask again at once for what this page did not reach
            gaps += 1
        elif limit > 100 and len(page) == limit:
            limit = max(100, limit // 2)
        if (end_seen and now - last_new > 1.0) or now > deadline:
            break
        time.sleep(0.01)
    lags.sort()
    ms = [x * 1000 for x in lags]
    mean = sum(ms) / len(ms) if ms else 0.0
    print(f"RESULT observed={len(ms)} p50_ms={percentile(ms, 50):.0f} p99_ms={percentile(ms, 99):.0f} "
          f"max_ms={(ms[-1] if ms else 0):.0f} mean_ms={mean:.0f} polls={polls} gaps={gaps} "
          f"end_seen={int(end_seen)}")


def cmd_wait_count(url, n, timeout):
    deadline = time.time() + timeout
    while True:
        with urllib.request.urlopen(f"{url}/articles?limit=1", timeout=10) as r:
            count = int(r.headers["X-Total-Count"])
        if count >= n:
            return 0
        if time.time() > deadline:
            print(f"lag.py: the REST core holds {count} of {n} articles after {timeout} s",
                  file=sys.stderr)
            return 1
        time.sleep(0.1)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "write":
        cmd_write(args[0], float(args[1]), float(args[2]), int(args[3]))
    elif cmd == "sample":
        cmd_sample(args[0], float(args[1]))
    elif cmd == "wait-count":
        sys.exit(cmd_wait_count(args[0], int(args[1]), float(args[2])))
    else:
        sys.exit(f"lag.py: unknown command {cmd}")


if __name__ == "__main__":
    main()

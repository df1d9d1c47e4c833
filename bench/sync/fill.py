#!/usr/bin/env python3
"""fill.py PATH N - creates the SQLite source database of bench/sync.sh at PATH (WAL, as an
application would run it) with the table `articles` and rows 1..N: ~600 bytes of text content,
an author on every even id. One transaction, executemany: a million rows take seconds."""
import sqlite3
import sys

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
         "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat duis aute irure "
         "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur ")
TEXT = WORDS * 8
CONTENT_BYTES = 600


def content(i):
    """~600 bytes of text, a different window of the words for each id."""
    start = (i * 7) % len(WORDS)
    return f"article {i}: " + TEXT[start:start + CONTENT_BYTES]


def author(i):
    return f"author {i % 100}" if i % 2 == 0 else None


def create(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, content TEXT, "
              "author TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT)")
    return c


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    c = create(path)
    c.execute("BEGIN")
    c.executemany("INSERT INTO articles (id, title, content, author) VALUES (?, ?, ?, ?)",
                  ((i, f"title {i}", content(i), author(i)) for i in range(1, n + 1)))
    c.execute("COMMIT")
    c.close()


if __name__ == "__main__":
    main()

-- sqlite.sql - the SQLite schema of the articles store, embedded into the
-- binary and applied by store_sqlite.c at every open, hence IF NOT EXISTS.
-- AUTOINCREMENT keeps ids from ever being reused, also after an explicit-id
-- PUT. Timestamps are RFC 3339 UTC text with milliseconds, which sorts
-- lexicographically in time order.
CREATE TABLE IF NOT EXISTS articles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    author     TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- ?author=X ordered and paged by id.
CREATE INDEX IF NOT EXISTS articles_author_id ON articles (author, id);
-- ?sort=updated_at and -updated_at, ties broken by id.
CREATE INDEX IF NOT EXISTS articles_updated_id ON articles (updated_at, id);

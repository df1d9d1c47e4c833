/* source.h - change capture on the source database ("Base A") of the sync
 * daemon bin/articles-sync: Base A -> Kafka -> REST core. This layer turns
 * every committed insert, update and delete of the source table `articles`
 * into a numbered change the producer reads in order, and keeps the
 * producer's checkpoints next to them.
 *
 * The source is any SQLite or PostgreSQL database with a table `articles`
 * holding at least id (integer primary key), title, content and author;
 * created_at and updated_at are used when present, other columns ignored.
 * source_init() adds our own objects only, all named articles_sync_*:
 *   articles_sync_changes  the change log: seq, article_id, op, changed_at
 *                          (PostgreSQL also pos, see below)
 *   articles_sync_state    checkpoints: name, seq, updated_at
 *   articles_sync_ins/upd/del triggers on articles (PostgreSQL also
 *                          articles_sync_trunc, the trigger functions of the
 *                          same names and the sequence articles_sync_seq)
 * On PostgreSQL they go into the schema of the `articles` that the
 * connection's search_path finds, and the trigger functions name that schema
 * explicitly, so applications writing with another search_path are captured
 * too; they are SECURITY DEFINER, so the application's role needs no rights
 * on our tables.
 *
 * ---- Why nothing is missed -------------------------------------------------
 *
 * A change carries the article id only; the reader joins the *current* row
 * of the article in (a missing row makes the change a delete). The producer
 * remembers "every change up to seq N is done". For that to be safe the seq
 * must be given in commit order: no change may ever become visible with a
 * seq at or below one a reader has already seen. A sequence drawn inside the
 * writer's transaction is not in commit order (txn A draws 1, txn B draws 2
 * and commits, a reader sees 2 and checkpoints it, then A commits 1: lost);
 * that is how timestamp/incrementing JDBC sources lose rows.
 *
 * SQLite: seq is an AUTOINCREMENT key assigned by the triggers, inside the
 * writing transaction. SQLite has one writer at a time: a transaction holds
 * the database's write lock from its first write until its commit, so no
 * other transaction can draw a seq, let alone commit, between our draw and
 * our commit. Hence seq order is commit order, and a reader (one statement,
 * one snapshot) always sees a prefix 1..N of the committed seqs. A rolled
 * back transaction gives its numbers back to the next writer; nobody saw
 * them. AUTOINCREMENT (not a plain rowid) so that numbers are never reused
 * after source_compact() emptied the log.
 *
 * PostgreSQL: writers run concurrently, so the triggers do not number. They
 * append rows with seq NULL and pos from a bigserial (trigger order). Before
 * each read, the reader numbers the rows itself, in one transaction under an
 * advisory lock taken in its own statement first:
 *     UPDATE articles_sync_changes SET seq = nextval(articles_sync_seq)
 *     WHERE seq IS NULL AND pos in [lowest unnumbered pos, + a batch)
 * - The UPDATE's snapshot is taken after the lock was granted (READ
 *   COMMITTED, forced), so it sees only committed change rows, and every row
 *   committed later is still NULL and gets a number in a later pass.
 * - Numbering passes are serialised by the lock, and nextval only grows, so
 *   the numbers of a pass exceed those of every pass committed before it;
 *   at any moment at most one pass is uncommitted and its numbers are above
 *   all visible ones. A reader's snapshot therefore sees a prefix of the
 *   numbers ever handed out (an aborted pass leaves a hole, never a late
 *   low number): reading "seq > N in seq order" never skips anything.
 * - Per article, passes follow commit order: two transactions changing the
 *   same row are serialised by its row lock (or, for inserts, the unique
 *   index), and the statement triggers draw pos at the end of the statement,
 *   with the lock held; so the later transaction's rows have the higher pos,
 *   and as a pass takes the lowest committed pos first, they are numbered in
 *   the same pass as the earlier one's or a later pass. Within a pass the
 *   numbers follow the scan (normally pos order), and nothing depends on
 *   that: each change carries the row as it is when read, so the last
 *   change of an article, read after its last commit, brings the final
 *   state whatever came before it.
 * Indexes: a partial one on (pos) WHERE seq IS NULL for the numbering, a
 * unique partial one on (seq) for reading.
 *
 * Deletes are captured like writes. An UPDATE that changes id records a
 * delete of the old id and an upsert of the new one. TRUNCATE on PostgreSQL
 * fires no row triggers; a BEFORE TRUNCATE statement trigger records one
 * change per row still present (the table is locked exclusively by then), so
 * it arrives as deletes. SQLite has no TRUNCATE: `DELETE FROM articles`
 * without WHERE skips its truncate optimisation when triggers exist, so it
 * fires them.
 *
 * Not captured (documented limits): changes made while the triggers were
 * missing or disabled (a dropped and recreated table, ALTER TABLE DISABLE
 * TRIGGER); PostgreSQL sessions with session_replication_role = replica
 * (logical replication's apply workers), which skip ordinary triggers;
 * SQLite rows deleted by INSERT OR REPLACE because of a conflict on a unique
 * column other than id (REPLACE deletes without firing triggers unless
 * recursive_triggers is on). source_read_changes() fails with
 * SOURCE_ESCHEMA when the triggers are gone; source_init() then restores them
 * and snapshots every row again, and the verify command finds deletes that
 * happened meanwhile.
 *
 * ---- Conventions -------------------------------------------------------------
 *
 * A source_t is one connection, used by one thread at a time. Functions
 * return SOURCE_OK (0) or a negative SOURCE_E* code with a message in the
 * caller's err (may be NULL; errlen bytes, always NUL-terminated); the
 * message never contains the URL's password. On PostgreSQL a lost
 * connection is re-established at the next call. */
#ifndef SOURCE_H
#define SOURCE_H

#include <stddef.h>
#include <stdint.h>

enum {
    SOURCE_OK = 0,
    SOURCE_EUNAVAILABLE = -1, /* the database does not answer or is busy too long: retry later */
    SOURCE_EERROR = -2,       /* any other database error */
    SOURCE_EURL = -3,         /* the URL is not understood */
    SOURCE_ENOMEM = -4,
    SOURCE_ESCHEMA = -5, /* no usable articles table, or our objects are missing (run init) */
    SOURCE_EINVAL = -6,  /* an argument is out of range */
};

/* Limits of the arguments below. */
#define SOURCE_BATCH_MAX 100000 /* limit of a read or an iteration */
#define SOURCE_NAME_MAX 128     /* bytes of a checkpoint name */

/* How long a SQLite call waits for the source application's write lock
 * before failing with SOURCE_EUNAVAILABLE. */
#define SOURCE_SQLITE_BUSY_MS 30000

typedef enum source_kind {
    SOURCE_KIND_NONE = 0, /* not a URL we understand */
    SOURCE_KIND_SQLITE,   /* sqlite:PATH (also sqlite://PATH); sqlite::memory: for tests */
    SOURCE_KIND_PG,       /* postgresql://... or postgres://... (libpq URI) */
} source_kind_t;

/* The kind of url by its scheme alone; does not connect. */
source_kind_t source_url_kind(const char *url);
/* SOURCE_OK when source_open could take url, else SOURCE_EURL and why. */
int source_check_url(const char *url, char *err, size_t errlen);
const char *source_strerror(int code);

typedef struct source source_t;

/* Connects. A SQLite file must exist (a typo must not create an empty
 * database); SQLite calls wait up to SOURCE_SQLITE_BUSY_MS for the lock.
 * Nothing is created or checked here: see source_init. The caller closes
 * *out with source_close (NULL is fine). */
int source_open(const char *url, source_t **out, char *err, size_t errlen);
void source_close(source_t *src);
source_kind_t source_kind(const source_t *src);

/* One row of the source table, as text. Strings are NULL when the value is
 * NULL (title and content too, should the source allow it) and
 * created_at/updated_at also when the column does not exist. Timestamps come
 * as "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC (RFC 3339, what the REST core
 * stores) when they can: PostgreSQL timestamptz, date and timestamp (taken
 * as UTC); SQLite text SQLite's date functions understand (ISO 8601 with or
 * without T, fraction or offset; none means UTC, as CURRENT_TIMESTAMP
 * writes) and integers as Unix seconds. Anything else comes as its text.
 * The strings live in the block of the array that holds them: they are
 * freed with it, never alone. */
typedef struct source_article {
    int64_t id;
    const char *title;
    const char *content;
    const char *author;
    const char *created_at;
    const char *updated_at;
    /* Bytes of the texts as stored, when the source told (0: up to the
     * terminator): more than strlen when the text holds a NUL byte, which a
     * SQLite TEXT value can, so that it is refused rather than cut. */
    size_t title_len, content_len, author_len;
} source_article_t;

typedef enum source_op {
    SOURCE_OP_UPSERT = 0, /* the row exists: article holds it */
    SOURCE_OP_DELETE,     /* the row does not exist (any more): only article.id is set */
} source_op_t;

typedef struct source_change {
    int64_t seq;              /* > 0, strictly increasing within and across reads */
    source_op_t op;           /* from the current row, not from what the trigger saw */
    source_article_t article; /* the current row */
    const char *changed_at;   /* when the change (the last collapsed one) was logged, UTC text */
} source_change_t;

/* Creates the change log, the state table and the triggers when missing,
 * and, in the same transaction, logs one change per existing article (the
 * initial snapshot), so rows that existed before are carried too. The
 * application's writers wait for that transaction (SQLite: the write lock;
 * PostgreSQL: a SHARE ROW EXCLUSIVE lock on articles): writes in flight
 * finish first and are in the snapshot, later ones are caught by the
 * triggers. A big table holds them back a while (about a second per few
 * hundred thousand rows). PostgreSQL gives up after 5 s without the lock
 * (SOURCE_EUNAVAILABLE, try again), so a long application transaction does
 * not stall every writer queued behind init. Idempotent: when every trigger
 * is there it changes nothing and *snapshot_count (may be NULL) is 0. When
 * some were missing they are all recreated and every row is snapshotted
 * again (changes may have been missed meanwhile). Concurrent inits are safe.
 * Capture costs the application one more row per changed row: bulk writes
 * take about twice as long, single-row commits much less. */
int source_init(source_t *src, int64_t *snapshot_count, char *err, size_t errlen);

/* The next changes with seq > after_seq, in seq order, each with the current
 * row joined in. At most limit (1..SOURCE_BATCH_MAX) log entries are
 * consumed; entries for the same article within them are collapsed into
 * one, which keeps the highest seq (they would carry the same row anyway).
 * So *n may be below limit while more changes wait (also on PostgreSQL,
 * whose window is a seq range of that width, and numbers can have holes),
 * but the last change returned always has the highest seq consumed: it is
 * the checkpoint to store once the batch is processed. *n == 0 (and *out
 * NULL) means nothing after after_seq yet. On PostgreSQL this first numbers
 * committed unnumbered changes (see above). Fails with SOURCE_ESCHEMA when
 * init was not run or the triggers are gone. The whole batch is in memory
 * at once (on PostgreSQL twice, briefly): keep limit modest when articles
 * are large. *out: caller frees with source_changes_free. */
int source_read_changes(source_t *src, int64_t after_seq, size_t limit, source_change_t **out,
                        size_t *n, char *err, size_t errlen);
void source_changes_free(source_change_t *changes);

/* A named position (say "producer") in articles_sync_state; a name never
 * set reads as 0, which precedes every change. name: 1..SOURCE_NAME_MAX
 * bytes. Setting overwrites, also backwards (a deliberate replay). */
int source_checkpoint_get(source_t *src, const char *name, int64_t *seq, char *err,
                          size_t errlen);
int source_checkpoint_set(source_t *src, const char *name, int64_t seq, char *err,
                          size_t errlen);

/* *count: log entries not read yet, i.e. seq > after_seq plus, on
 * PostgreSQL, committed changes not numbered yet (entries, before
 * collapsing). *max_seq: the highest seq handed out so far, also after
 * compaction (0: none); on PostgreSQL only numbered ones count. Read only.
 * Either pointer may be NULL. */
int source_backlog(source_t *src, int64_t after_seq, int64_t *count, int64_t *max_seq, char *err,
                   size_t errlen);

/* Deletes the log entries with seq <= upto_seq (the lowest checkpoint of
 * all readers: entries above it are still needed), in transactions of a
 * few thousand rows so the source's writers never wait long. *deleted (may
 * be NULL) receives how many. Unnumbered PostgreSQL entries are kept. */
int source_compact(source_t *src, int64_t upto_seq, int64_t *deleted, char *err, size_t errlen);

/* A keyset page of the current source rows: id > after_id, ordered by id,
 * at most limit (1..SOURCE_BATCH_MAX); for the verify command. Start with 0
 * (INT64_MIN when ids may be negative), continue with the last id; *n == 0
 * means the end. Needs no init. *out: caller frees with
 * source_articles_free. */
int source_iterate_articles(source_t *src, int64_t after_id, size_t limit, source_article_t **out,
                            size_t *n, char *err, size_t errlen);
void source_articles_free(source_article_t *articles);

#endif

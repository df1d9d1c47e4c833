/* event.h - the Kafka record of the sync daemon (source database -> Kafka ->
 * REST core). Key: the article id in decimal ("42"). Value: one compact JSON
 * object, schema/article-event.schema.json. The producer encodes, the
 * consumer decodes strictly, turns the event into a REST bulk item, and
 * sends what it refuses to the dead-letter topic with err.reason. */
#ifndef EVENT_H
#define EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define EVENT_VERSION 1
/* ids and sequence numbers: 2^53-1, exact in every JSON reader (cJSON
 * holds numbers as doubles). */
#define EVENT_MAX_ID 9007199254740991LL
#define EVENT_MAX_SEQ 9007199254740991LL
/* The limits of the format; title, content and author are the REST core's. */
#define EVENT_MAX_VALUE_BYTES (2u * 1024 * 1024) /* the whole JSON value */
#define EVENT_MAX_TITLE_CHARS 200                /* code points, at least 1 */
#define EVENT_MAX_CONTENT_BYTES (1024u * 1024)   /* UTF-8 bytes, may be empty */
#define EVENT_MAX_AUTHOR_CHARS 100               /* code points */
/* RFC 3339 with upper-case T and Z, at most nine fraction digits, years
 * 0001-9999 and no leap second: "2026-11-22T04:17:13.123456789+01:00" is
 * the longest. */
#define EVENT_MAX_TIME_BYTES 35
#define EVENT_TS_LEN 32  /* ts is UTC: "2026-11-22T04:17:13.123456789Z" and NUL */
#define EVENT_KEY_LEN 21 /* any int64_t in decimal and NUL */

enum {
    EVENT_EINVAL = -1, /* the event breaks the format: dead-letter it, err says why */
    EVENT_ENOMEM = -2, /* out of memory: retry, the event may be fine */
};

/* Reason codes of event_error_t: stable, for dead-letter headers and metrics. */
#define EVENT_R_BAD_JSON "bad_json"               /* not JSON (RFC 8259), or nested too deep */
#define EVENT_R_TOO_LARGE "too_large"             /* the value, or a string, above its limit */
#define EVENT_R_BAD_TYPE "bad_type"               /* a member of the wrong JSON type */
#define EVENT_R_MISSING_FIELD "missing_field"     /* a required member is absent */
#define EVENT_R_UNKNOWN_FIELD "unknown_field"     /* a member the format does not have */
#define EVENT_R_DUPLICATE_FIELD "duplicate_field" /* a member given twice */
#define EVENT_R_OUT_OF_RANGE "out_of_range"       /* id or seq outside 1..2^53-1 */
#define EVENT_R_BAD_VALUE "bad_value"     /* op, source, a time, bad UTF-8, NUL, empty title */
#define EVENT_R_BAD_VERSION "bad_version" /* v is not 1 */
#define EVENT_R_OP_MISMATCH "op_mismatch" /* upsert with article null, delete with an article */
#define EVENT_R_ID_MISMATCH "id_mismatch" /* article.id differs from id */
#define EVENT_R_KEY_MISMATCH "key_mismatch" /* the record key differs from id */
#define EVENT_R_NO_MEMORY "no_memory"       /* with EVENT_ENOMEM only */

typedef struct event_error {
    const char *reason; /* one of EVENT_R_*, static; NULL after success */
    char message[160];  /* one sentence for a person */
    char pointer[128];  /* RFC 6901 pointer to the culprit ("/article/title"), "" for the
                         * whole value; member names from the input are cut to fit */
} event_error_t;

typedef enum event_op { EVENT_OP_UPSERT = 1, EVENT_OP_DELETE = 2 } event_op_t;
typedef enum event_source {
    EVENT_SOURCE_SQLITE = 1,
    EVENT_SOURCE_POSTGRESQL = 2,
} event_source_t;

/* A text member: len bytes at data, NUL-terminated when decoded. */
typedef struct event_text {
    char *data;   /* see event_t for ownership; NULL when is_null (and may be for "") */
    size_t len;   /* bytes, without the terminator */
    bool is_null; /* JSON null; only author, created_at and updated_at may be null */
} event_text_t;

/* One change. The article members matter for upserts only; a delete's are
 * zero after decoding and ignored when encoding.
 * Ownership: an event from event_decode owns its texts (heap, free with
 * event_free). The encoders only read, so a producer may point the texts
 * at memory it owns (a database row) and never call event_free. */
typedef struct event {
    event_op_t op;
    int64_t id;  /* 1..EVENT_MAX_ID; also the article's id */
    int64_t seq; /* 1..EVENT_MAX_SEQ */
    event_source_t source;
    char ts[EVENT_TS_LEN];   /* RFC 3339 UTC, NUL-terminated; see event_now */
    event_text_t title;      /* 1..200 characters */
    event_text_t content;    /* at most 1 MiB */
    event_text_t author;     /* at most 100 characters, or null */
    event_text_t created_at; /* RFC 3339, or null */
    event_text_t updated_at; /* RFC 3339, or null */
} event_t;

/* Checks ev against every rule of the format, the encoded size included.
 * Returns 0 or EVENT_EINVAL with err (may be NULL) filled. */
int event_validate(const event_t *ev, event_error_t *err);

/* Appends the event's JSON value (compact, no newline) to out. Strings are
 * escaped as JSON needs (", \, control characters); valid UTF-8 is copied
 * as is. Returns 0, EVENT_EINVAL when event_validate would refuse ev (call
 * it for the reason), or EVENT_ENOMEM. On failure out keeps its length.
 * A 1 MiB content full of control characters can exceed the 2 MiB value
 * limit once escaped; such an event is refused, not truncated. */
int event_encode(const event_t *ev, buf_t *out);

/* Parses and checks one record value, data[0..len) (need not be
 * NUL-terminated). On success *out owns its texts (caller frees with
 * event_free). On failure *out is zeroed, err (may be NULL) is filled and
 * the result is EVENT_EINVAL, or EVENT_ENOMEM. */
int event_decode(const char *data, size_t len, event_t *out, event_error_t *err);

/* Checks that a record key is the event's id in decimal, as event_key
 * writes it (no sign, no leading zeros). Returns 0 or EVENT_EINVAL with
 * reason key_mismatch and pointer "/id". */
int event_check_key(const event_t *ev, const char *key, size_t len, event_error_t *err);

/* Appends the event as one item of the REST core's bulk request
 * (POST /articles/bulk): {"op":"upsert","article":{"id":..,"title":..,
 * "content":..,"author":..}} or {"op":"delete","id":N}. The timestamps are
 * left out: the REST core sets its own. Same results as event_encode. */
int event_to_bulk_item(const event_t *ev, buf_t *out);

/* The consumer's path: event_decode, event_check_key against the record
 * key and event_to_bulk_item in one, with no copy of the texts between
 * them. Appends the item to out and sets *id; on failure out keeps its
 * length and the result is that of the step that failed (EVENT_EINVAL with
 * err, which is required, filled; or EVENT_ENOMEM). */
int event_decode_bulk_item(const char *data, size_t len, const char *key, size_t keylen,
                           int64_t *id, buf_t *out, event_error_t *err);

/* Frees the texts of an event from event_decode and zeroes it (not the
 * struct itself). Safe on a zeroed event. */
void event_free(event_t *ev);

/* Writes the record key of an article id into buf; returns its length. */
size_t event_key(int64_t id, char buf[EVENT_KEY_LEN]);

/* Writes the current UTC time as RFC 3339 with milliseconds, for ts. */
void event_now(char ts[EVENT_TS_LEN]);

#endif

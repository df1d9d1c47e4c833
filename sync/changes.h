/* changes.h - a source change as the sync daemon carries it on: the event
 * of schema/article-event.schema.json (for Kafka) and the REST bulk item
 * (for the REST core). Source rows are whatever the source application
 * stored, so they are normalised here: a NULL content is "", timestamps are
 * turned into RFC 3339 when their form is known ("YYYY-MM-DD HH:MM:SS" as
 * SQLite's CURRENT_TIMESTAMP writes it) and dropped otherwise. A row that
 * still breaks the format (no title, a title too long...) is refused with
 * the event's reason, to be dead-lettered. */
#ifndef SYNC_CHANGES_H
#define SYNC_CHANGES_H

#include "buf.h"
#include "event.h"
#include "source.h"

/* Scratch space for the normalised timestamps of one event. */
typedef struct changes_scratch {
    char created_at[EVENT_MAX_TIME_BYTES + 1];
    char updated_at[EVENT_MAX_TIME_BYTES + 1];
} changes_scratch_t;

/* Fills ev from ch; the texts point into ch and scratch (do not event_free
 * it). ts is the time the change was read. Returns 0, or EVENT_EINVAL with
 * err saying why the row cannot travel. */
int changes_to_event(const source_change_t *ch, source_kind_t kind, const char *ts,
                     changes_scratch_t *scratch, event_t *ev, event_error_t *err);

/* Writes an RFC 3339 form of a source timestamp into out, or returns -1
 * when the text is not one we can read (the timestamp is then left out). */
int changes_rfc3339(const char *text, char out[EVENT_MAX_TIME_BYTES + 1]);

#endif

/* trace.h - W3C Trace Context (traceparent) for the one trace id that ties
 * a request together across the programs: the GraphQL gateway and the sync
 * daemon make one when they have none and pass it on, the REST core logs
 * it. Form: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>". */
#ifndef TRACE_H
#define TRACE_H

#include <stdbool.h>

#define TRACE_PARENT_SIZE 56 /* 55 characters and NUL */
#define TRACE_ID_SIZE 33     /* 32 hex digits and NUL */

/* Whether s is a traceparent we pass on as it is (version 00 form, lower
 * case hex). NULL is not. */
bool trace_parent_valid(const char *s);

/* Writes a new traceparent with random trace and parent ids (sampled). */
void trace_parent_new(char out[TRACE_PARENT_SIZE]);

/* Writes the trace id of a valid traceparent into out and returns true;
 * out is "" and the result false otherwise. */
bool trace_id_of(const char *traceparent, char out[TRACE_ID_SIZE]);

#endif

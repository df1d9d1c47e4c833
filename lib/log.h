/* log.h - the logger every program shares: one line per event on stderr,
 * either readable text or one JSON object per line (LOG_FORMAT=json), each
 * line written with a single write(2) so lines of different threads never
 * interleave. Configured once in main (a process-wide singleton). */
#ifndef LOG_H
#define LOG_H

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* format: "text", "json", or NULL for text on a terminal and json
 * otherwise. level: "debug", "info", "warn", "error" or NULL for info.
 * Returns 0, or -1 when a name is not known. */
int log_init(const char *program, const char *format, const char *level);
int log_enabled(log_level_t level);
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg with the trace id of the work it speaks of (NULL: none), so that
 * one id can be followed through the logs of every program. */
void log_traced(log_level_t level, const char *trace_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line for a served HTTP request. trace_id may be NULL. */
void log_request(const char *method, const char *route, const char *path, int status,
                 double seconds, const char *trace_id);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif

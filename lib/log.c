/* log.c - text or JSON-lines logging to stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* The logger is a true singleton: one stderr per process. Set once in main
 * before threads start, read-only afterwards. */
static struct {
    const char *program;
    bool json;
    log_level_t level;
} logger = {"articles", false, LOG_INFO};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_init(const char *program, const char *format, const char *level)
{
    logger.program = program;
    if (!format || !*format)
        logger.json = !isatty(STDERR_FILENO);
    else if (strcmp(format, "json") == 0)
        logger.json = true;
    else if (strcmp(format, "text") == 0)
        logger.json = false;
    else
        return -1;
    if (!level || !*level) {
        logger.level = LOG_INFO;
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (strcmp(level, level_names[i]) == 0) {
            logger.level = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(log_level_t level) { return level >= logger.level; }

static void put_time(buf_t *b)
{
    struct timespec ts;
    struct tm tm;
    char tmp[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000);
}

/* Starts a line with time, level and program, in either format. */
static void begin_line(buf_t *b, log_level_t level)
{
    if (logger.json) {
        buf_puts(b, "{\"time\":\"");
        put_time(b);
        buf_printf(b, "\",\"level\":\"%s\",\"program\":", level_names[level]);
        buf_put_json_string(b, logger.program, strlen(logger.program));
    } else {
        put_time(b);
        buf_printf(b, " %-5s %s: ", level_names[level], logger.program);
    }
}

static void end_line(buf_t *b)
{
    buf_puts(b, logger.json ? "}\n" : "\n");
    if (!b->failed) {
        ssize_t ignored = write(STDERR_FILENO, b->data, b->len);
        (void)ignored; /* nowhere left to report a failing stderr */
    }
    buf_free(b);
}

static void vlog(log_level_t level, const char *trace_id, const char *fmt, va_list ap)
{
    buf_t msg = {0}, line = {0};
    buf_vprintf(&msg, fmt, ap);
    begin_line(&line, level);
    if (logger.json) {
        buf_puts(&line, ",\"message\":");
        buf_put_json_string(&line, msg.data ? msg.data : "", msg.len);
        if (trace_id) {
            buf_puts(&line, ",\"trace_id\":");
            buf_put_json_string(&line, trace_id, strlen(trace_id));
        }
    } else {
        buf_append(&line, msg.data, msg.len);
        if (trace_id)
            buf_printf(&line, " trace_id=%s", trace_id);
    }
    buf_free(&msg);
    end_line(&line);
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, fmt, ap);
    va_end(ap);
}

void log_traced(log_level_t level, const char *trace_id, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, trace_id, fmt, ap);
    va_end(ap);
}

void log_request(const char *method, const char *route, const char *path, int status,
                 double seconds, const char *trace_id)
{
    log_level_t level = status >= 500 ? LOG_ERROR : LOG_INFO;
    if (!log_enabled(level))
        return;
    buf_t line = {0};
    begin_line(&line, level);
    if (logger.json) {
        buf_puts(&line, ",\"message\":\"request\",\"method\":");
        buf_put_json_string(&line, method, strlen(method));
        buf_puts(&line, ",\"route\":");
        buf_put_json_string(&line, route, strlen(route));
        buf_puts(&line, ",\"path\":");
        buf_put_json_string(&line, path, strlen(path));
        buf_printf(&line, ",\"status\":%d,\"duration_seconds\":%.6f", status, seconds);
        if (trace_id) {
            buf_puts(&line, ",\"trace_id\":");
            buf_put_json_string(&line, trace_id, strlen(trace_id));
        }
    } else {
        /* The path comes from the client: quote it so it cannot forge lines. */
        buf_printf(&line, "%s ", method);
        buf_put_json_string(&line, path, strlen(path));
        buf_printf(&line, " %d %.3fms route=%s", status, seconds * 1e3, route);
        if (trace_id)
            buf_printf(&line, " trace_id=%s", trace_id);
    }
    end_line(&line);
}

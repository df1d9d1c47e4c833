/* buf.h - a growable byte buffer, the one way the code base builds text
 * (responses, JSON, metrics exposition) without fixed-size arrays.
 *
 * A buf_t is plain data: zero-initialise it ({0}) and it is an empty buffer.
 * The bytes are always NUL-terminated once anything was appended, so
 * b.data can be handed to C string functions. The buffer owns b.data;
 * buf_free() releases it, buf_detach() hands it to the caller. */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; further appends are no-ops */
} buf_t;

/* All appenders return 0, or -1 when memory ran out (b->failed is then set
 * and stays set, so a caller may check once at the end). */
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *data, size_t len);
int buf_puts(buf_t *b, const char *s);
int buf_putc(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
int buf_put_i64(buf_t *b, int64_t v);
/* Appends s (len bytes) as a JSON string literal, quotes included. Bytes
 * that are not valid UTF-8 are replaced by U+FFFD so the output is always
 * valid JSON. */
int buf_put_json_string(buf_t *b, const char *s, size_t len);
void buf_reset(buf_t *b);
void buf_free(buf_t *b);
/* Returns the data (caller frees) and leaves b empty. */
char *buf_detach(buf_t *b);

#endif

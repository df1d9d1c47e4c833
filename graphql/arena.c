/* arena.c - region allocator: bump allocation from malloc'd chunks; see arena.h. */
#include "arena.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN alignof(max_align_t)

struct arena_chunk {
    arena_chunk_t *prev;
    size_t size; /* bytes taken from malloc, this header included */
};

/* The usable space starts after the header, rounded up so that it is aligned like malloc's. */
#define HEADER ((sizeof(arena_chunk_t) + ALIGN - 1) & ~(ALIGN - 1))

static char *chunk_data(arena_chunk_t *c)
{
    return (char *)c + HEADER;
}

void arena_init(arena_t *a, size_t first_chunk, size_t limit)
{
    *a = (arena_t){.chunk_size = first_chunk, .limit = limit};
}

/* Each thread keeps the last chunk of up to ARENA_SPARE_MAX bytes it freed for
 * its next arena: a request's first chunk then costs no malloc, and no
 * consolidation of malloc's free lists, which a request of that size
 * triggers. The key's destructor frees it when the thread ends. */
#define ARENA_SPARE_MAX (64 * 1024)
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, free) == 0;
}

static arena_chunk_t *spare_take(size_t size)
{
    pthread_once(&spare_once, spare_init);
    arena_chunk_t *c = spare_ok ? pthread_getspecific(spare_key) : NULL;
    if (!c || c->size != size)
        return NULL;
    pthread_setspecific(spare_key, NULL);
    return c;
}

/* Keeps c as the thread's spare, or frees it (or the spare it replaces). */
static void spare_put(arena_chunk_t *c)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok || c->size > ARENA_SPARE_MAX) {
        free(c);
        return;
    }
    free(pthread_getspecific(spare_key));
    if (pthread_setspecific(spare_key, c) != 0)
        free(c);
}

/* Takes size bytes (header included) from malloc, within the limit. */
static arena_chunk_t *chunk_new(arena_t *a, size_t size)
{
    if (a->limit && (a->allocated > a->limit || size > a->limit - a->allocated))
        return NULL;
    arena_chunk_t *c = spare_take(size);
    if (!c)
        c = malloc(size);
    if (!c)
        return NULL;
    c->size = size;
    a->allocated += size;
    return c;
}

static void *alloc_dedicated(arena_t *a, size_t need, size_t size)
{
    arena_chunk_t *c = chunk_new(a, need);
    if (!c)
        return NULL;
    if (a->chunks) {
        c->prev = a->chunks->prev;
        a->chunks->prev = c;
    } else {
        c->prev = NULL;
        a->chunks = c;
        a->next = a->end = chunk_data(c) + size;
    }
    return chunk_data(c);
}

/* A request too large for the current chunk. Small ones start a new chunk, doubled in size
 * until the request is at most a quarter of it; requests too big for that even at
 * ARENA_MAX_CHUNK get a chunk of their own, linked behind the newest one so that its free
 * space stays in use. */
static void *alloc_slow(arena_t *a, size_t size, size_t align)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    size_t need = HEADER + size + align;
    size_t chunk = a->chunk_size ? a->chunk_size : ARENA_DEFAULT_CHUNK;
    while (need > chunk / 4 && chunk < ARENA_MAX_CHUNK)
        chunk *= 2;
    if (need > chunk / 4)
        return alloc_dedicated(a, need, size);
    if (a->limit && a->allocated < a->limit && chunk > a->limit - a->allocated)
        chunk = need > a->limit - a->allocated ? need : a->limit - a->allocated;
    arena_chunk_t *c = chunk_new(a, chunk);
    if (!c)
        return NULL;
    c->prev = a->chunks;
    a->chunks = c;
    a->next = chunk_data(c) + size;
    a->end = (char *)c + chunk;
    a->chunk_size = chunk < ARENA_MAX_CHUNK / 2 ? chunk * 2 : ARENA_MAX_CHUNK;
    return chunk_data(c);
}

static void *alloc(arena_t *a, size_t size, size_t align)
{
    if (a->next) {
        size_t pad = (align - (uintptr_t)a->next % align) % align;
        if (pad <= (size_t)(a->end - a->next) && size <= (size_t)(a->end - a->next) - pad) {
            char *p = a->next + pad;
            a->next = p + size;
            return p;
        }
    }
    return alloc_slow(a, size, align);
}

void *arena_alloc(arena_t *a, size_t size)
{
    return alloc(a, size ? size : 1, ALIGN);
}

void *arena_calloc(arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = alloc(a, n + 1, 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_vprintf(arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = alloc(a, (size_t)n + 1, 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

/* The oldest chunk, the one of the arena's first size, becomes the spare. */
static void free_chain(arena_chunk_t *c)
{
    while (c) {
        arena_chunk_t *prev = c->prev;
        if (prev)
            free(c);
        else
            spare_put(c);
        c = prev;
    }
}

void arena_reset(arena_t *a)
{
    arena_chunk_t *keep = a->chunks;
    if (!keep)
        return;
    free_chain(keep->prev);
    keep->prev = NULL;
    a->allocated = keep->size;
    a->next = chunk_data(keep);
    a->end = (char *)keep + keep->size;
}

void arena_free(arena_t *a)
{
    free_chain(a->chunks);
    a->chunks = NULL;
    a->next = a->end = NULL;
    a->allocated = 0;
}

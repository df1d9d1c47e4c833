/* arena.h - region allocator of the GraphQL gateway: one arena per request holds every token
 * value, AST node, string and error message of a document, and arena_free() releases them all
 * at once, so the parser never pairs a malloc with a free.
 *
 * An arena_t is plain data: zero-initialise it ({0}) and it is an empty arena with the default
 * chunk size and no limit. Memory comes from malloc in chunks; small requests are bumped out of
 * the newest chunk, requests larger than a quarter of a chunk get a chunk of their own. Chunk
 * sizes double from the first size up to ARENA_MAX_CHUNK, so n bytes cost O(log n) mallocs.
 * An arena is not thread-safe: one request, one thread. */
#ifndef ARENA_H
#define ARENA_H

#include <stdarg.h>
#include <stddef.h>

#define ARENA_DEFAULT_CHUNK 4096
#define ARENA_MAX_CHUNK (256 * 1024)

typedef struct arena_chunk arena_chunk_t;

typedef struct arena {
    arena_chunk_t *chunks; /* newest ordinary chunk first */
    char *next;            /* free space of the newest chunk: [next, end) */
    char *end;
    size_t chunk_size; /* size of the next ordinary chunk; 0 means ARENA_DEFAULT_CHUNK */
    size_t allocated;  /* bytes taken from malloc, chunk headers included */
    size_t limit;      /* 0: none; otherwise allocated never grows beyond it */
} arena_t;

/* Sets up an empty arena. first_chunk: size of the first chunk (0: ARENA_DEFAULT_CHUNK);
 * limit: most bytes the arena may take from malloc (0: no limit), so that one request cannot
 * exhaust the process. Nothing is allocated until the first arena_alloc. */
void arena_init(arena_t *a, size_t first_chunk, size_t limit);

/* size bytes aligned for any type (like malloc), or NULL when memory or the limit ran out.
 * The memory belongs to the arena and lives until arena_reset or arena_free. */
void *arena_alloc(arena_t *a, size_t size);
/* Like arena_alloc for n * size bytes, zero-filled; NULL also when n * size overflows. */
void *arena_calloc(arena_t *a, size_t n, size_t size);
/* Copies n bytes of s and adds a NUL (s may hold NULs; the copy is n + 1 bytes, unaligned). */
char *arena_strndup(arena_t *a, const char *s, size_t n);
/* printf into the arena; NULL when memory ran out. */
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena_t *a, const char *fmt, va_list ap);

/* Forgets every allocation but keeps the newest chunk for the next request, so a worker that
 * reuses its arena stops calling malloc once it has seen its usual request size. */
void arena_reset(arena_t *a);
/* Releases everything; the arena is then empty and may be used again. The thread keeps its
 * oldest chunk (up to 64 KiB) for its next arena of the same first size, so a worker's
 * requests stop calling malloc for their first chunk. */
void arena_free(arena_t *a);

#endif

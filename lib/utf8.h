/* utf8.h - strict UTF-8 checks (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF. Used to refuse invalid text at the edge and to
 * count characters for length limits. */
#ifndef UTF8_H
#define UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length in bytes of the valid sequence at s (at most n bytes available),
 * or 0 when the bytes there are not valid UTF-8. */
size_t utf8_sequence_length(const char *s, size_t n);
/* True when all n bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8 text. */
size_t utf8_count(const char *s, size_t n);

#endif

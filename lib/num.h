/* num.h - strict parsing of decimal integers from untrusted text (query
 * parameters, path segments, flags): digits only, no sign, no spaces, no
 * overflow. strtoll accepts all of those, which is why this exists. */
#ifndef NUM_H
#define NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..len) as a decimal integer with an optional leading '-' (only
 * when min < 0) and stores it in *out when it lies in [min, max].
 * Returns 0, or -1 for anything else. */
int num_parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

#endif

/* fuzz_json.c - libFuzzer target: json_parse() on any bytes must either
 * return a tree or a well-formed error, never crash, leak or overflow. */
#include <stdint.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    cJSON *v = json_parse((const char *)data, size, &err);
    if (v) {
        cJSON_Delete(v);
        return 0;
    }
    /* An error always says something and never overruns its buffers. */
    if (!memchr(err.message, '\0', sizeof err.message) || !err.message[0])
        __builtin_trap();
    if (!memchr(err.pointer, '\0', sizeof err.pointer))
        __builtin_trap();
    if (err.offset > size)
        __builtin_trap();
    return 0;
}

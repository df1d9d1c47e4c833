/* lexer.c - GraphQL lexer: tokens, string escapes, block string dedent, graphql-js columns and
 * messages; see lexer.h. Strings are scanned twice: once to validate them and learn their
 * decoded size (errors then come in source order), once to write the value into an arena
 * block of exactly that size. */
#include "lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define NO_LINE UINT32_MAX

static const char *const kind_desc[] = {
    [GQL_TOKEN_EOF] = "<EOF>",       [GQL_TOKEN_BANG] = "\"!\"",
    [GQL_TOKEN_DOLLAR] = "\"$\"",    [GQL_TOKEN_AMP] = "\"&\"",
    [GQL_TOKEN_PAREN_L] = "\"(\"",   [GQL_TOKEN_PAREN_R] = "\")\"",
    [GQL_TOKEN_SPREAD] = "\"...\"",  [GQL_TOKEN_COLON] = "\":\"",
    [GQL_TOKEN_EQUALS] = "\"=\"",    [GQL_TOKEN_AT] = "\"@\"",
    [GQL_TOKEN_BRACKET_L] = "\"[\"", [GQL_TOKEN_BRACKET_R] = "\"]\"",
    [GQL_TOKEN_BRACE_L] = "\"{\"",   [GQL_TOKEN_PIPE] = "\"|\"",
    [GQL_TOKEN_BRACE_R] = "\"}\"",   [GQL_TOKEN_NAME] = "Name",
    [GQL_TOKEN_INT] = "Int",         [GQL_TOKEN_FLOAT] = "Float",
    [GQL_TOKEN_STRING] = "String",   [GQL_TOKEN_BLOCK_STRING] = "BlockString",
    [GQL_TOKEN_COMMENT] = "Comment",
};

const char *gql_token_kind_desc(gql_token_kind_t kind)
{
    return (unsigned)kind < sizeof kind_desc / sizeof kind_desc[0] ? kind_desc[kind] : "?";
}

int gql_error_set(gql_error_t *err, arena_t *arena, int code, uint32_t line, uint32_t column,
                  size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(arena, fmt, ap);
    va_end(ap);
    *err = (gql_error_t){code, line, column, offset, msg};
    if (!msg) {
        err->code = GQL_ENOMEM;
        err->message = "Out of memory.";
    }
    return err->code;
}

int gql_lexer_init(gql_lexer_t *lx, const char *src, size_t len, arena_t *arena, gql_error_t *err)
{
    *lx = (gql_lexer_t){.src = src ? src : "", .line = 1, .arena = arena};
    if (!src)
        len = 0; /* nothing to read, whatever the length says */
    if (len > GQL_LEXER_MAX_SOURCE)
        return gql_error_set(err, arena, GQL_ELIMIT, 0, 0, 0,
                             "Syntax Error: Document is larger than %lu bytes.",
                             (unsigned long)GQL_LEXER_MAX_SOURCE);
    lx->len = (uint32_t)len;
    return 0;
}

/* ---- characters ---- */

static int at(const gql_lexer_t *lx, uint32_t pos)
{
    return pos < lx->len ? (unsigned char)lx->src[pos] : -1;
}

static bool is_digit(int c)
{
    return (unsigned)(c - '0') < 10;
}

static bool is_name_start(int c)
{
    return (unsigned)((c | 0x20) - 'a') < 26 || c == '_';
}

static bool is_name_continue(int c)
{
    return is_name_start(c) || is_digit(c);
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if ((unsigned)((c | 0x20) - 'a') < 6)
        return (c | 0x20) - 'a' + 10;
    return -1;
}

static bool is_scalar_value(uint32_t cp)
{
    return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
}

/* Code point of a valid UTF-8 sequence of n bytes. */
static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
    static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = s[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3F);
    return cp;
}

static size_t utf8_encoded_length(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *utf8_encode(uint32_t cp, char *out)
{
    size_t n = utf8_encoded_length(cp);
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--) {
        out[i] = (char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    out[0] = (char)(lead[n] | cp);
    return out + n;
}

/* What a character of n UTF-8 bytes adds to line_adjust: its bytes minus its UTF-16 code
 * units (four-byte sequences are surrogate pairs in UTF-16, two units). */
static uint32_t utf16_excess(size_t n)
{
    return (uint32_t)(n == 4 ? 2 : n - 1);
}

/* ---- positions and errors ---- */

static uint32_t column_of(const gql_lexer_t *lx, uint32_t off)
{
    return off - lx->line_start - lx->line_adjust + 1;
}

static void new_line(gql_lexer_t *lx, uint32_t start)
{
    lx->line++;
    lx->line_start = start;
    lx->line_adjust = 0;
}

static int fail(gql_lexer_t *lx, uint32_t off, gql_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(gql_lexer_t *lx, uint32_t off, gql_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *what = arena_vprintf(lx->arena, fmt, ap);
    va_end(ap);
    if (!what)
        return gql_error_set(err, lx->arena, GQL_ENOMEM, 0, 0, off, "Out of memory.");
    return gql_error_set(err, lx->arena, GQL_ESYNTAX, lx->line, column_of(lx, off), off,
                         "Syntax Error: %s", what);
}

static int fail_utf8(gql_lexer_t *lx, uint32_t off, gql_error_t *err)
{
    return fail(lx, off, err, "Invalid UTF-8 sequence (byte 0x%02X).", (unsigned)at(lx, off));
}

/* What graphql-js's printCodePointAt says of the character at off: <EOF>, "c" for printable
 * ASCII ('"' for the quote itself), U+XXXX otherwise. The character must be valid UTF-8. */
static const char *describe_char(const gql_lexer_t *lx, uint32_t off, char buf[16])
{
    int c = at(lx, off);
    if (c < 0)
        return "<EOF>";
    if (c == '"')
        return "'\"'";
    if (c >= 0x20 && c <= 0x7E) {
        snprintf(buf, 16, "\"%c\"", c);
        return buf;
    }
    const unsigned char *s = (const unsigned char *)lx->src + off;
    size_t n = c < 0x80 ? 1 : utf8_sequence_length((const char *)s, lx->len - off);
    snprintf(buf, 16, "U+%04X", (unsigned)utf8_decode(s, n));
    return buf;
}

/* "<what>: <character>." about the character at off, or the UTF-8 error when that character
 * is not valid UTF-8. */
static int fail_char(gql_lexer_t *lx, uint32_t off, gql_error_t *err, const char *what)
{
    int c = at(lx, off);
    if (c >= 0x80 && !utf8_sequence_length(lx->src + off, lx->len - off))
        return fail_utf8(lx, off, err);
    char buf[16];
    return fail(lx, off, err, "%s: %s.", what, describe_char(lx, off, buf));
}

/* Moves the line bookkeeping from off (where it is right) over the valid text up to end, so
 * that an error found there by looking ahead gets its line and column. */
static void advance_position(gql_lexer_t *lx, uint32_t off, uint32_t end)
{
    while (off < end) {
        unsigned char c = (unsigned char)lx->src[off];
        if (c == '\n' || c == '\r') {
            off += c == '\r' && at(lx, off + 1) == '\n' ? 2 : 1;
            new_line(lx, off);
        } else if (c >= 0x80) {
            size_t n = utf8_sequence_length(lx->src + off, lx->len - off);
            lx->line_adjust += utf16_excess(n);
            off += (uint32_t)n;
        } else {
            off++;
        }
    }
}

/* "<what>: "<text>"." where text is what graphql-js's body.slice(off, off + units) shows:
 * up to `units` UTF-16 code units from off, cut at the end of the source. */
static int fail_slice(gql_lexer_t *lx, uint32_t off, uint32_t units, gql_error_t *err,
                      const char *what)
{
    uint32_t end = off;
    while (units > 0 && end < lx->len) {
        size_t n = 1;
        if ((unsigned char)lx->src[end] >= 0x80) {
            n = utf8_sequence_length(lx->src + end, lx->len - end);
            if (!n) {
                /* Reported where the byte is, past what the slice went over. */
                advance_position(lx, off, end);
                return fail_utf8(lx, end, err);
            }
        } else if (lx->src[end] == '\0') {
            break;
        }
        uint32_t u = n == 4 ? 2 : 1;
        if (u > units)
            break;
        units -= u;
        end += (uint32_t)n;
    }
    return fail(lx, off, err, "%s: \"%.*s\".", what, (int)(end - off), lx->src + off);
}

/* ---- tokens ---- */

static void begin(const gql_lexer_t *lx, gql_token_t *tok, gql_token_kind_t kind, uint32_t start)
{
    tok->kind = kind;
    tok->start = start;
    tok->line = lx->line;
    tok->column = column_of(lx, start);
    tok->value = NULL;
    tok->len = 0;
}

static int finish(gql_lexer_t *lx, gql_token_t *tok, uint32_t end)
{
    tok->end = end;
    lx->pos = end;
    return 0;
}

static int punct(gql_lexer_t *lx, gql_token_t *tok, gql_token_kind_t kind, uint32_t start,
                 uint32_t n)
{
    begin(lx, tok, kind, start);
    return finish(lx, tok, start + n);
}

/* Token whose value is its own text (names, numbers, comments). */
static int raw(gql_lexer_t *lx, gql_token_t *tok, uint32_t from, uint32_t end)
{
    tok->value = lx->src + from;
    tok->len = end - from;
    return finish(lx, tok, end);
}

static int lex_name(gql_lexer_t *lx, uint32_t start, gql_token_t *tok)
{
    uint32_t p = start + 1;
    while (p < lx->len && is_name_continue((unsigned char)lx->src[p]))
        p++;
    begin(lx, tok, GQL_TOKEN_NAME, start);
    return raw(lx, tok, start, p);
}

/* A non-ASCII character inside a string or comment: valid UTF-8 or an error. */
static int skip_utf8(gql_lexer_t *lx, uint32_t *p, gql_error_t *err)
{
    size_t n = utf8_sequence_length(lx->src + *p, lx->len - *p);
    if (!n)
        return fail_utf8(lx, *p, err);
    lx->line_adjust += utf16_excess(n);
    *p += (uint32_t)n;
    return 0;
}

static int lex_comment(gql_lexer_t *lx, uint32_t start, gql_token_t *tok, gql_error_t *err)
{
    begin(lx, tok, GQL_TOKEN_COMMENT, start);
    uint32_t p = start + 1;
    while (p < lx->len) {
        unsigned char c = (unsigned char)lx->src[p];
        if (c == '\n' || c == '\r')
            break;
        if (c >= 0x80) {
            if (skip_utf8(lx, &p, err) < 0)
                return err->code;
        } else if (c == '\0') {
            return fail_char(lx, p, err, "Unexpected character");
        } else {
            p++;
        }
    }
    return raw(lx, tok, start + 1, p);
}

static int read_digits(gql_lexer_t *lx, uint32_t *p, gql_error_t *err)
{
    if (!is_digit(at(lx, *p)))
        return fail_char(lx, *p, err, "Invalid number, expected digit but got");
    while (is_digit(at(lx, *p)))
        ++*p;
    return 0;
}

/* IntValue and FloatValue, with the checks graphql-js makes: no leading zero, digits after
 * '.' and the exponent, and no name start or '.' right after the number ("0xF", "1.2.3"). */
static int lex_number(gql_lexer_t *lx, uint32_t start, gql_token_t *tok, gql_error_t *err)
{
    uint32_t p = start;
    bool is_float = false;
    if (at(lx, p) == '-')
        p++;
    if (at(lx, p) == '0') {
        p++;
        if (is_digit(at(lx, p)))
            return fail_char(lx, p, err, "Invalid number, unexpected digit after 0");
    } else if (read_digits(lx, &p, err) < 0) {
        return err->code;
    }
    if (at(lx, p) == '.') {
        is_float = true;
        p++;
        if (read_digits(lx, &p, err) < 0)
            return err->code;
    }
    if (at(lx, p) == 'e' || at(lx, p) == 'E') {
        is_float = true;
        p++;
        if (at(lx, p) == '+' || at(lx, p) == '-')
            p++;
        if (read_digits(lx, &p, err) < 0)
            return err->code;
    }
    if (at(lx, p) == '.' || is_name_start(at(lx, p)))
        return fail_char(lx, p, err, "Invalid number, expected digit but got");
    begin(lx, tok, is_float ? GQL_TOKEN_FLOAT : GQL_TOKEN_INT, start);
    return raw(lx, tok, start, p);
}

static int32_t read_hex4(const gql_lexer_t *lx, uint32_t p)
{
    int32_t v = 0;
    for (uint32_t i = 0; i < 4; i++) {
        int d = hex_value(at(lx, p + i));
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* \uXXXX, or a surrogate pair written as two of them, which stands for one code point. */
static int read_unicode_fixed(gql_lexer_t *lx, uint32_t p, uint32_t *cp, uint32_t *size,
                              gql_error_t *err)
{
    int32_t code = read_hex4(lx, p + 2);
    if (code >= 0 && is_scalar_value((uint32_t)code)) {
        *cp = (uint32_t)code;
        *size = 6;
        return 0;
    }
    if (code >= 0xD800 && code <= 0xDBFF && at(lx, p + 6) == '\\' && at(lx, p + 7) == 'u') {
        int32_t low = read_hex4(lx, p + 8);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            *cp = 0x10000 + ((uint32_t)(code - 0xD800) << 10) + (uint32_t)(low - 0xDC00);
            *size = 12;
            return 0;
        }
    }
    return fail_slice(lx, p, 6, err, "Invalid Unicode escape sequence");
}

/* \u{X...}: one to eight hex digits naming a Unicode scalar value. The loop stops where
 * graphql-js's does (it works on 32-bit signed integers), so the messages quote the same
 * text. */
static int read_unicode_braced(gql_lexer_t *lx, uint32_t p, uint32_t *cp, uint32_t *size,
                               gql_error_t *err)
{
    uint32_t point = 0;
    uint32_t n = 3;
    while (n < 12) {
        int c = at(lx, p + n++);
        if (c == '}') {
            if (n < 5 || !is_scalar_value(point))
                break;
            *cp = point;
            *size = n;
            return 0;
        }
        int d = hex_value(c);
        if (d < 0)
            break;
        point = point << 4 | (uint32_t)d;
        if (point & 0x80000000u)
            break;
    }
    return fail_slice(lx, p, n, err, "Invalid Unicode escape sequence");
}

/* The escape sequence at p (a backslash): its code point and its length in the source. */
static int read_escape(gql_lexer_t *lx, uint32_t p, uint32_t *cp, uint32_t *size, gql_error_t *err)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    int c = at(lx, p + 1);
    if (c == 'u')
        return at(lx, p + 2) == '{' ? read_unicode_braced(lx, p, cp, size, err)
                                    : read_unicode_fixed(lx, p, cp, size, err);
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    if (!hit)
        return fail_slice(lx, p, 2, err, "Invalid character escape sequence");
    *cp = (unsigned char)to[hit - from];
    *size = 2;
    return 0;
}

/* Second pass over a validated string body [from, to): copies it with escapes decoded. */
static void decode_string(gql_lexer_t *lx, uint32_t from, uint32_t to, char *out)
{
    gql_error_t unused;
    uint32_t q = from;
    while (q < to) {
        const char *bs = memchr(lx->src + q, '\\', to - q);
        uint32_t run_end = bs ? (uint32_t)(bs - lx->src) : to;
        memcpy(out, lx->src + q, run_end - q);
        out += run_end - q;
        q = run_end;
        if (q < to) {
            uint32_t cp = 0, size = 2;
            read_escape(lx, q, &cp, &size, &unused);
            out = utf8_encode(cp, out);
            q += size;
        }
    }
    *out = '\0';
}

static int lex_string(gql_lexer_t *lx, uint32_t start, gql_token_t *tok, gql_error_t *err)
{
    begin(lx, tok, GQL_TOKEN_STRING, start);
    uint32_t p = start + 1;
    size_t size = 0;
    bool escaped = false;
    while (p < lx->len) {
        unsigned char c = (unsigned char)lx->src[p];
        if (c == '"') {
            char *value = arena_alloc(lx->arena, size + 1);
            if (!value)
                return gql_error_set(err, lx->arena, GQL_ENOMEM, 0, 0, p, "Out of memory.");
            if (escaped) {
                decode_string(lx, start + 1, p, value);
            } else {
                memcpy(value, lx->src + start + 1, size);
                value[size] = '\0';
            }
            tok->value = value;
            tok->len = (uint32_t)size;
            return finish(lx, tok, p + 1);
        }
        if (c == '\\') {
            uint32_t cp, n;
            if (read_escape(lx, p, &cp, &n, err) < 0)
                return err->code;
            size += utf8_encoded_length(cp);
            p += n;
            escaped = true;
        } else if (c == '\n' || c == '\r') {
            break;
        } else if (c >= 0x80) {
            uint32_t q = p;
            if (skip_utf8(lx, &p, err) < 0)
                return err->code;
            size += p - q;
        } else if (c == '\0') {
            return fail_char(lx, p, err, "Invalid character within String");
        } else {
            p++;
            size++;
        }
    }
    return fail(lx, p, err, "Unterminated string.");
}

/* What the first pass over a block string learns for the specification's BlockStringValue:
 * the common indentation of the lines after the first, and the first and last lines that are
 * not blank (only those and what lies between survive). */
typedef struct block_info {
    uint32_t common;
    uint32_t first; /* NO_LINE when every line is blank */
    uint32_t last;
} block_info_t;

static void block_line_end(block_info_t *bi, uint32_t line, uint32_t indent, bool blank)
{
    if (blank)
        return;
    if (bi->first == NO_LINE)
        bi->first = line;
    bi->last = line;
    if (line > 0 && indent < bi->common)
        bi->common = indent;
}

static bool escaped_triple_quote(const char *s, uint32_t i, uint32_t end)
{
    return i + 3 < end && s[i] == '\\' && s[i + 1] == '"' && s[i + 2] == '"' && s[i + 3] == '"';
}

/* Copies [from, to) turning \""" into """. */
static char *copy_block_line(const char *s, uint32_t from, uint32_t to, char *out)
{
    while (from < to) {
        if (escaped_triple_quote(s, from, to)) {
            memcpy(out, "\"\"\"", 3);
            out += 3;
            from += 4;
        } else {
            *out++ = s[from++];
        }
    }
    return out;
}

/* Second pass: the lines first..last of the raw body [from, to), the common indentation
 * removed from all but the first line, joined by "\n". */
static uint32_t dedent_block(const char *s, uint32_t from, uint32_t to, const block_info_t *bi,
                             char *out)
{
    char *o = out;
    uint32_t q = from;
    for (uint32_t line = 0; bi->first != NO_LINE && line <= bi->last; line++) {
        uint32_t e = q;
        while (e < to && s[e] != '\n' && s[e] != '\r')
            e++;
        if (line >= bi->first) {
            if (line > bi->first)
                *o++ = '\n';
            uint32_t b = q;
            for (uint32_t k = 0; line > 0 && k < bi->common && b < e; k++, b++)
                if (s[b] != ' ' && s[b] != '\t')
                    break;
            o = copy_block_line(s, b, e, o);
        }
        q = e + (e + 1 < to && s[e] == '\r' && s[e + 1] == '\n' ? 2 : 1);
    }
    *o = '\0';
    return (uint32_t)(o - out);
}

static int lex_block_string(gql_lexer_t *lx, uint32_t start, gql_token_t *tok, gql_error_t *err)
{
    begin(lx, tok, GQL_TOKEN_BLOCK_STRING, start);
    block_info_t bi = {.common = UINT32_MAX, .first = NO_LINE, .last = 0};
    uint32_t p = start + 3, line = 0, indent = 0;
    bool blank = true;
    while (p < lx->len) {
        unsigned char c = (unsigned char)lx->src[p];
        if (c == '"' && at(lx, p + 1) == '"' && at(lx, p + 2) == '"') {
            block_line_end(&bi, line, indent, blank);
            char *value = arena_alloc(lx->arena, p - start - 3 + 1);
            if (!value)
                return gql_error_set(err, lx->arena, GQL_ENOMEM, 0, 0, p, "Out of memory.");
            tok->len = dedent_block(lx->src, start + 3, p, &bi, value);
            tok->value = value;
            return finish(lx, tok, p + 3);
        }
        if (escaped_triple_quote(lx->src, p, lx->len)) {
            blank = false;
            p += 4;
        } else if (c == '\n' || c == '\r') {
            block_line_end(&bi, line, indent, blank);
            p += c == '\r' && at(lx, p + 1) == '\n' ? 2 : 1;
            new_line(lx, p);
            line++;
            indent = 0;
            blank = true;
        } else if (c == ' ' || c == '\t') {
            indent += blank;
            p++;
        } else if (c >= 0x80) {
            blank = false;
            if (skip_utf8(lx, &p, err) < 0)
                return err->code;
        } else if (c == '\0') {
            return fail_char(lx, p, err, "Invalid character within String");
        } else {
            blank = false;
            p++;
        }
    }
    return fail(lx, p, err, "Unterminated string.");
}

static int lex_unexpected(gql_lexer_t *lx, uint32_t p, gql_error_t *err)
{
    if (lx->src[p] == '\'')
        return fail(lx, p, err,
                    "Unexpected single quote character ('), did you mean to use a double "
                    "quote (\")?");
    return fail_char(lx, p, err, "Unexpected character");
}

static bool is_bom(const gql_lexer_t *lx, uint32_t p)
{
    return at(lx, p) == 0xEF && at(lx, p + 1) == 0xBB && at(lx, p + 2) == 0xBF;
}

/* The token starting at p, which is not an ignored character. */
static int lex_token(gql_lexer_t *lx, uint32_t p, gql_token_t *tok, gql_error_t *err)
{
    static const gql_token_kind_t single[128] = {
        ['!'] = GQL_TOKEN_BANG,      ['$'] = GQL_TOKEN_DOLLAR,  ['&'] = GQL_TOKEN_AMP,
        ['('] = GQL_TOKEN_PAREN_L,   [')'] = GQL_TOKEN_PAREN_R, [':'] = GQL_TOKEN_COLON,
        ['='] = GQL_TOKEN_EQUALS,    ['@'] = GQL_TOKEN_AT,      ['['] = GQL_TOKEN_BRACKET_L,
        [']'] = GQL_TOKEN_BRACKET_R, ['{'] = GQL_TOKEN_BRACE_L, ['|'] = GQL_TOKEN_PIPE,
        ['}'] = GQL_TOKEN_BRACE_R,
    };
    int c = at(lx, p);
    if (c < 128 && single[c] != GQL_TOKEN_EOF)
        return punct(lx, tok, single[c], p, 1);
    if (c == '.' && at(lx, p + 1) == '.' && at(lx, p + 2) == '.')
        return punct(lx, tok, GQL_TOKEN_SPREAD, p, 3);
    if (c == '"')
        return at(lx, p + 1) == '"' && at(lx, p + 2) == '"' ? lex_block_string(lx, p, tok, err)
                                                            : lex_string(lx, p, tok, err);
    if (is_digit(c) || c == '-')
        return lex_number(lx, p, tok, err);
    if (is_name_start(c))
        return lex_name(lx, p, tok);
    return lex_unexpected(lx, p, err);
}

int gql_lexer_next(gql_lexer_t *lx, gql_token_t *tok, gql_error_t *err)
{
    uint32_t p = lx->pos;
    while (p < lx->len) {
        switch (lx->src[p]) {
        case ' ':
        case '\t':
        case ',':
            p++;
            continue;
        case '\n':
            new_line(lx, ++p);
            continue;
        case '\r':
            p += at(lx, p + 1) == '\n' ? 2 : 1;
            new_line(lx, p);
            continue;
        case '#':
            if (lex_comment(lx, p, tok, err) < 0)
                return err->code;
            if (lx->keep_comments)
                return 0;
            p = lx->pos;
            continue;
        default:
            if (is_bom(lx, p)) {
                p += 3;
                lx->line_adjust += 2;
                continue;
            }
            return lex_token(lx, p, tok, err);
        }
    }
    begin(lx, tok, GQL_TOKEN_EOF, lx->len);
    return finish(lx, tok, lx->len);
}

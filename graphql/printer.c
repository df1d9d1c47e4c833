/* printer.c - GraphQL text from the AST in graphql-js's print() format; see printer.h.
 *
 * graphql-js builds each node's text from its children's and indents a block by putting two
 * spaces after every newline inside it. Here the text goes straight into one buffer and every
 * newline written at nesting level n is followed by 2n spaces, which gives the same bytes
 * (also inside block strings) in linear time. Where graphql-js measures a child's text first
 * (80-column argument lines, multi-line argument definitions), the arguments are printed once
 * into a scratch buffer at level 0 and measured there. Allocation failures are recorded in the
 * buffer (buf_t.failed) and checked once at the end. */
#include "printer.h"

#include <string.h>

typedef struct printer {
    buf_t *out;
    unsigned level;
} printer_t;

#define MAX_LINE_LENGTH 80

static void print_node(printer_t *pr, const gql_node_t *n);

/* ---- text ---- */

/* Writes s, indenting after each newline. */
static void emit(printer_t *pr, const char *s, size_t n)
{
    const char *end = s + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t run = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        buf_append(pr->out, s, run);
        s += run;
        if (nl && buf_reserve(pr->out, 2 * (size_t)pr->level) == 0) {
            memset(pr->out->data + pr->out->len, ' ', 2 * (size_t)pr->level);
            pr->out->len += 2 * (size_t)pr->level;
            pr->out->data[pr->out->len] = '\0';
        }
    }
}

static void emits(printer_t *pr, const char *s)
{
    emit(pr, s, strlen(s));
}

static void print_name(printer_t *pr, const gql_name_t *name)
{
    if (name->value)
        buf_append(pr->out, name->value, name->len);
}

/* Length in UTF-16 code units, the unit of JavaScript's string length. */
static size_t utf16_length(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        units += (c & 0xC0) != 0x80;
        units += c >= 0xF0; /* four-byte sequences are surrogate pairs */
    }
    return units;
}

/* graphql-js's printString: JSON-like escapes for controls, C1 controls, '"' and '\'. */
static void print_quoted(printer_t *pr, const char *s, size_t n)
{
    static const char short_escape[32] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    buf_t *out = pr->out;
    buf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned code = c;
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            code = (unsigned char)s[i + 1]; /* U+0080..U+009F, encoded C2 80..C2 9F */
        bool escape = c < 0x20 || c == '"' || c == '\\' || c == 0x7F || code != c;
        if (!escape)
            continue;
        buf_append(out, s + run, i - run);
        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c < 0x20 && short_escape[c])
            buf_printf(out, "\\%c", short_escape[c]);
        else
            buf_printf(out, "\\u%04X", code);
        i += code != c;
        run = i + 1;
    }
    buf_append(out, s + run, n - run);
    buf_putc(out, '"');
}

static bool is_white(char c)
{
    return c == ' ' || c == '\t';
}

/* value with every """ turned into \""" (non-overlapping, left to right). */
static void escape_triple_quotes(buf_t *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i + 2 < n; i++) {
        if (s[i] == '"' && s[i + 1] == '"' && s[i + 2] == '"') {
            buf_append(b, s + run, i - run);
            buf_append(b, "\\\"\"\"", 4);
            i += 2;
            run = i + 1;
        }
    }
    buf_append(b, s + run, n - run);
}

/* Whether every line after the first is empty or starts with white space (lines split at
 * \r\n, \n or \r). */
static bool later_lines_indented(const char *s, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && s[i] != '\r')
            continue;
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            i++;
        any = true;
        if (i + 1 < n && s[i + 1] != '\n' && s[i + 1] != '\r' && !is_white(s[i + 1]))
            return false;
    }
    return any;
}

/* graphql-js's printBlockString, with its rules for when the value gets lines of its own. */
static void print_block_string(printer_t *pr, const char *s, size_t n)
{
    buf_t esc = {0};
    escape_triple_quotes(&esc, s, n);
    if (esc.failed) {
        pr->out->failed = 1;
        return;
    }
    bool single_line = !memchr(s, '\n', n) && !memchr(s, '\r', n);
    bool force_leading = !single_line && later_lines_indented(s, n);
    bool trailing_triple = esc.len >= 4 && memcmp(esc.data + esc.len - 4, "\\\"\"\"", 4) == 0;
    bool trailing_quote = n > 0 && s[n - 1] == '"' && !trailing_triple;
    bool trailing_slash = n > 0 && s[n - 1] == '\\';
    bool force_trailing = trailing_quote || trailing_slash;
    bool multiple = !single_line || utf16_length(s, n) > 70 || force_trailing || force_leading ||
                    trailing_triple;
    bool skip_leading = single_line && n > 0 && is_white(s[0]);
    emits(pr, "\"\"\"");
    if ((multiple && !skip_leading) || force_leading)
        emits(pr, "\n");
    emit(pr, esc.data ? esc.data : "", esc.len);
    if (multiple || force_trailing)
        emits(pr, "\n");
    emits(pr, "\"\"\"");
    buf_free(&esc);
}

static void print_string(printer_t *pr, const gql_string_value_t *v)
{
    if (v->block)
        print_block_string(pr, v->value, v->len);
    else
        print_quoted(pr, v->value, v->len);
}

/* ---- lists ---- */

static void print_joined(printer_t *pr, const gql_node_list_t *list, const char *sep)
{
    for (uint32_t i = 0; i < list->count; i++) {
        if (i)
            emits(pr, sep);
        print_node(pr, list->items[i]);
    }
}

/* before + items joined by sep, or nothing when the list is empty (graphql-js's wrap). */
static void print_wrapped(printer_t *pr, const char *before, const gql_node_list_t *list,
                          const char *sep, const char *after)
{
    if (!list->count)
        return;
    emits(pr, before);
    print_joined(pr, list, sep);
    emits(pr, after);
}

static void print_directives(printer_t *pr, const gql_node_list_t *directives)
{
    print_wrapped(pr, " ", directives, " ", "");
}

/* open + one item per line, indented + "}", or nothing for an empty list (graphql-js's
 * block(); open is " {" where its join puts a space before the block). */
static void print_block(printer_t *pr, const char *open, const gql_node_list_t *list)
{
    if (!list->count)
        return;
    emits(pr, open);
    pr->level++;
    for (uint32_t i = 0; i < list->count; i++) {
        emits(pr, "\n");
        print_node(pr, list->items[i]);
    }
    pr->level--;
    emits(pr, "\n}");
}

/* The arguments printed on one line, into a scratch buffer at level 0. */
static void print_args_line(const gql_node_list_t *args, buf_t *line)
{
    printer_t scratch = {line, 0};
    print_joined(&scratch, args, ", ");
}

/* "(" + arguments + ")", or one argument per line when `multiline`. */
static void print_args(printer_t *pr, const gql_node_list_t *args, const buf_t *line,
                       bool multiline)
{
    if (!multiline) {
        emits(pr, "(");
        emit(pr, line->data ? line->data : "", line->len);
        emits(pr, ")");
        return;
    }
    emits(pr, "(");
    pr->level++;
    for (uint32_t i = 0; i < args->count; i++) {
        emits(pr, "\n");
        print_node(pr, args->items[i]);
    }
    pr->level--;
    emits(pr, "\n)");
}

/* Arguments of a field: on one line unless the line would pass 80 characters. */
static void print_field_args(printer_t *pr, const gql_field_t *f)
{
    if (!f->arguments.count)
        return;
    buf_t line = {0};
    print_args_line(&f->arguments, &line);
    size_t length =
        utf16_length(f->name.value, f->name.len) + 2 + utf16_length(line.data, line.len);
    if (f->alias.value)
        length += utf16_length(f->alias.value, f->alias.len) + 2;
    print_args(pr, &f->arguments, &line, length > MAX_LINE_LENGTH);
    pr->out->failed |= line.failed;
    buf_free(&line);
}

/* Argument definitions: one per line as soon as one of them spans lines (a description). */
static void print_argument_definitions(printer_t *pr, const gql_node_list_t *args)
{
    if (!args->count)
        return;
    buf_t line = {0};
    print_args_line(args, &line);
    print_args(pr, args, &line, line.len && memchr(line.data, '\n', line.len));
    pr->out->failed |= line.failed;
    buf_free(&line);
}

static void print_description(printer_t *pr, const gql_string_value_t *description)
{
    if (!description)
        return;
    print_string(pr, description);
    emits(pr, "\n");
}

/* ---- executable definitions ---- */

static const char *const operation_names[] = {"query", "mutation", "subscription"};

static void print_operation(printer_t *pr, const gql_operation_definition_t *o)
{
    /* An anonymous query with nothing but a selection set prints as the shorthand. */
    bool shorthand = o->operation == GQL_OPERATION_QUERY && !o->name.value &&
                     !o->variable_definitions.count && !o->directives.count;
    if (!shorthand) {
        emits(pr, operation_names[o->operation]);
        if (o->name.value || o->variable_definitions.count)
            emits(pr, " ");
        print_name(pr, &o->name);
        print_wrapped(pr, "(", &o->variable_definitions, ", ", ")");
        print_directives(pr, &o->directives);
        emits(pr, " ");
    }
    print_node(pr, &o->selection_set->base);
}

/* ": Type = default @directives", the tail of variable and input value definitions. */
static void print_type_default(printer_t *pr, const gql_node_t *type, const gql_node_t *def,
                               const gql_node_list_t *directives)
{
    emits(pr, ": ");
    print_node(pr, type);
    if (def) {
        emits(pr, " = ");
        print_node(pr, def);
    }
    print_directives(pr, directives);
}

static void print_variable_definition(printer_t *pr, const gql_variable_definition_t *d)
{
    print_node(pr, &d->variable->base);
    print_type_default(pr, d->type, d->default_value, &d->directives);
}

static void print_field(printer_t *pr, const gql_field_t *f)
{
    if (f->alias.value) {
        print_name(pr, &f->alias);
        emits(pr, ": ");
    }
    print_name(pr, &f->name);
    print_field_args(pr, f);
    print_directives(pr, &f->directives);
    if (f->selection_set) {
        emits(pr, " ");
        print_block(pr, "{", &f->selection_set->selections);
    }
}

static void print_inline_fragment(printer_t *pr, const gql_inline_fragment_t *f)
{
    emits(pr, "...");
    if (f->type_condition) {
        emits(pr, " on ");
        print_node(pr, &f->type_condition->base);
    }
    print_directives(pr, &f->directives);
    emits(pr, " ");
    print_block(pr, "{", &f->selection_set->selections);
}

static void print_fragment_definition(printer_t *pr, const gql_fragment_definition_t *f)
{
    emits(pr, "fragment ");
    print_name(pr, &f->name);
    emits(pr, " on ");
    print_node(pr, &f->type_condition->base);
    print_directives(pr, &f->directives);
    emits(pr, " ");
    print_block(pr, "{", &f->selection_set->selections);
}

static bool print_executable(printer_t *pr, const gql_node_t *n)
{
    switch (n->kind) {
    case GQL_KIND_DOCUMENT:
        print_joined(pr, &((const gql_document_t *)n)->definitions, "\n\n");
        return true;
    case GQL_KIND_OPERATION_DEFINITION:
        print_operation(pr, (const gql_operation_definition_t *)n);
        return true;
    case GQL_KIND_VARIABLE_DEFINITION:
        print_variable_definition(pr, (const gql_variable_definition_t *)n);
        return true;
    case GQL_KIND_SELECTION_SET:
        print_block(pr, "{", &((const gql_selection_set_t *)n)->selections);
        return true;
    case GQL_KIND_FIELD:
        print_field(pr, (const gql_field_t *)n);
        return true;
    case GQL_KIND_FRAGMENT_SPREAD: {
        const gql_fragment_spread_t *s = (const gql_fragment_spread_t *)n;
        emits(pr, "...");
        print_name(pr, &s->name);
        print_directives(pr, &s->directives);
        return true;
    }
    case GQL_KIND_INLINE_FRAGMENT:
        print_inline_fragment(pr, (const gql_inline_fragment_t *)n);
        return true;
    case GQL_KIND_FRAGMENT_DEFINITION:
        print_fragment_definition(pr, (const gql_fragment_definition_t *)n);
        return true;
    default:
        return false;
    }
}

/* ---- values, types, directives ---- */

static bool print_value(printer_t *pr, const gql_node_t *n)
{
    switch (n->kind) {
    case GQL_KIND_NAME:
        print_name(pr, (const gql_name_t *)n);
        return true;
    case GQL_KIND_VARIABLE:
        emits(pr, "$");
        print_name(pr, &((const gql_variable_t *)n)->name);
        return true;
    case GQL_KIND_INT_VALUE:
    case GQL_KIND_FLOAT_VALUE:
    case GQL_KIND_ENUM_VALUE: {
        const gql_text_value_t *v = (const gql_text_value_t *)n;
        buf_append(pr->out, v->value, v->len);
        return true;
    }
    case GQL_KIND_STRING_VALUE:
        print_string(pr, (const gql_string_value_t *)n);
        return true;
    case GQL_KIND_BOOLEAN_VALUE:
        emits(pr, ((const gql_boolean_value_t *)n)->value ? "true" : "false");
        return true;
    case GQL_KIND_NULL_VALUE:
        emits(pr, "null");
        return true;
    case GQL_KIND_LIST_VALUE:
        emits(pr, "[");
        print_joined(pr, &((const gql_list_value_t *)n)->values, ", ");
        emits(pr, "]");
        return true;
    case GQL_KIND_OBJECT_VALUE:
        emits(pr, "{");
        print_joined(pr, &((const gql_object_value_t *)n)->fields, ", ");
        emits(pr, "}");
        return true;
    case GQL_KIND_ARGUMENT:
    case GQL_KIND_OBJECT_FIELD: {
        const gql_argument_t *a = (const gql_argument_t *)n;
        print_name(pr, &a->name);
        emits(pr, ": ");
        print_node(pr, a->value);
        return true;
    }
    default:
        return false;
    }
}

static bool print_type_or_directive(printer_t *pr, const gql_node_t *n)
{
    switch (n->kind) {
    case GQL_KIND_DIRECTIVE: {
        const gql_directive_t *d = (const gql_directive_t *)n;
        emits(pr, "@");
        print_name(pr, &d->name);
        print_wrapped(pr, "(", &d->arguments, ", ", ")");
        return true;
    }
    case GQL_KIND_NAMED_TYPE:
        print_name(pr, &((const gql_named_type_t *)n)->name);
        return true;
    case GQL_KIND_LIST_TYPE:
        emits(pr, "[");
        print_node(pr, ((const gql_list_type_t *)n)->type);
        emits(pr, "]");
        return true;
    case GQL_KIND_NON_NULL_TYPE:
        print_node(pr, ((const gql_non_null_type_t *)n)->type);
        emits(pr, "!");
        return true;
    default:
        return false;
    }
}

/* ---- type system ---- */

static void print_schema(printer_t *pr, const gql_schema_definition_t *s)
{
    bool ext = s->base.kind == GQL_KIND_SCHEMA_EXTENSION;
    print_description(pr, s->description);
    emits(pr, ext ? "extend schema" : "schema");
    print_directives(pr, &s->directives);
    print_block(pr, " {", &s->operation_types);
}

static const char *type_keyword(gql_kind_t kind)
{
    switch (kind) {
    case GQL_KIND_SCALAR_TYPE_DEFINITION:
        return "scalar ";
    case GQL_KIND_OBJECT_TYPE_DEFINITION:
        return "type ";
    case GQL_KIND_INTERFACE_TYPE_DEFINITION:
        return "interface ";
    case GQL_KIND_UNION_TYPE_DEFINITION:
        return "union ";
    case GQL_KIND_ENUM_TYPE_DEFINITION:
        return "enum ";
    case GQL_KIND_INPUT_OBJECT_TYPE_DEFINITION:
        return "input ";
    case GQL_KIND_SCALAR_TYPE_EXTENSION:
        return "extend scalar ";
    case GQL_KIND_OBJECT_TYPE_EXTENSION:
        return "extend type ";
    case GQL_KIND_INTERFACE_TYPE_EXTENSION:
        return "extend interface ";
    case GQL_KIND_UNION_TYPE_EXTENSION:
        return "extend union ";
    case GQL_KIND_ENUM_TYPE_EXTENSION:
        return "extend enum ";
    case GQL_KIND_INPUT_OBJECT_TYPE_EXTENSION:
        return "extend input ";
    default:
        return NULL;
    }
}

/* All twelve type definitions and extensions: the lists a kind does not have are empty. */
static void print_type_definition(printer_t *pr, const gql_type_definition_t *t)
{
    print_description(pr, t->description);
    emits(pr, type_keyword(t->base.kind));
    print_name(pr, &t->name);
    print_wrapped(pr, " implements ", &t->interfaces, " & ", "");
    print_directives(pr, &t->directives);
    print_wrapped(pr, " = ", &t->types, " | ", "");
    print_block(pr, " {", &t->fields);
    print_block(pr, " {", &t->values);
}

static void print_field_definition(printer_t *pr, const gql_field_definition_t *f)
{
    print_description(pr, f->description);
    print_name(pr, &f->name);
    print_argument_definitions(pr, &f->arguments);
    emits(pr, ": ");
    print_node(pr, f->type);
    print_directives(pr, &f->directives);
}

static void print_input_value_definition(printer_t *pr, const gql_input_value_definition_t *d)
{
    print_description(pr, d->description);
    print_name(pr, &d->name);
    print_type_default(pr, d->type, d->default_value, &d->directives);
}

static void print_directive_definition(printer_t *pr, const gql_directive_definition_t *d)
{
    print_description(pr, d->description);
    emits(pr, "directive @");
    print_name(pr, &d->name);
    print_argument_definitions(pr, &d->arguments);
    if (d->repeatable)
        emits(pr, " repeatable");
    emits(pr, " on ");
    print_joined(pr, &d->locations, " | ");
}

static bool print_type_system(printer_t *pr, const gql_node_t *n)
{
    switch (n->kind) {
    case GQL_KIND_SCHEMA_DEFINITION:
    case GQL_KIND_SCHEMA_EXTENSION:
        print_schema(pr, (const gql_schema_definition_t *)n);
        return true;
    case GQL_KIND_OPERATION_TYPE_DEFINITION: {
        const gql_operation_type_definition_t *d = (const gql_operation_type_definition_t *)n;
        emits(pr, operation_names[d->operation]);
        emits(pr, ": ");
        print_node(pr, &d->type->base);
        return true;
    }
    case GQL_KIND_FIELD_DEFINITION:
        print_field_definition(pr, (const gql_field_definition_t *)n);
        return true;
    case GQL_KIND_INPUT_VALUE_DEFINITION:
        print_input_value_definition(pr, (const gql_input_value_definition_t *)n);
        return true;
    case GQL_KIND_ENUM_VALUE_DEFINITION: {
        const gql_enum_value_definition_t *d = (const gql_enum_value_definition_t *)n;
        print_description(pr, d->description);
        print_name(pr, &d->name);
        print_directives(pr, &d->directives);
        return true;
    }
    case GQL_KIND_DIRECTIVE_DEFINITION:
        print_directive_definition(pr, (const gql_directive_definition_t *)n);
        return true;
    default:
        if (!type_keyword(n->kind))
            return false;
        print_type_definition(pr, (const gql_type_definition_t *)n);
        return true;
    }
}

static void print_node(printer_t *pr, const gql_node_t *n)
{
    if (!n || pr->out->failed)
        return;
    if (!print_executable(pr, n) && !print_value(pr, n) && !print_type_or_directive(pr, n))
        print_type_system(pr, n);
}

int gql_print(const gql_node_t *node, buf_t *out)
{
    printer_t pr = {out, 0};
    print_node(&pr, node);
    return out->failed ? -1 : 0;
}

/* validate_int.h - what the files of the validator share (validate.c, validate_util.c,
 * validate_overlap.c): the context of one validation, name maps and error reporting. Not a
 * public interface; see validate.h. */
#ifndef GQL_VALIDATE_INT_H
#define GQL_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "buf.h"
#include "schema.h"
#include "validate.h"

/* Open-addressing map from a byte string to a pointer, in the arena (never shrinks). */
typedef struct vmap_entry {
    const char *key;
    uint32_t len;
    void *value;
} vmap_entry_t;

typedef struct vmap {
    vmap_entry_t *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} vmap_t;

/* The slot for key, or NULL when absent. */
vmap_entry_t *vmap_get(const vmap_t *m, const char *key, size_t len);
/* The slot for key, added with value NULL when absent; NULL when memory ran out. */
vmap_entry_t *vmap_put(vmap_t *m, arena_t *a, const char *key, size_t len);

/* Map from a 64-bit key to a 64-bit value (0 is a free slot: keys must not be 0). */
typedef struct vmap64 {
    uint64_t *keys;
    uint64_t *values;
    size_t cap;
    size_t count;
} vmap64_t;

uint64_t *vmap64_get(const vmap64_t *m, uint64_t key);
uint64_t *vmap64_put(vmap64_t *m, arena_t *a, uint64_t key); /* value 0 when new */

/* Growable pointer array in the arena. */
typedef struct vvec {
    void **items;
    size_t count;
    size_t cap;
} vvec_t;

int vvec_push(vvec_t *v, arena_t *a, void *item);

/* A variable used in an operation or fragment, with the type its place expects. */
typedef struct vusage {
    gql_variable_t *node;
    gql_type_t *type;                /* NULL: unknown */
    const gql_node_t *default_value; /* the place's default value, NULL: none */
} vusage_t;

typedef struct vctx {
    const gql_schema_t *schema;
    const gql_document_t *doc;
    arena_t *arena;
    gql_validate_options_t opt;
    gql_validation_result_t *out;
    size_t errcap;
    bool stop; /* error limit reached or memory ran out: unwind */
    int rc;    /* GQL_ENOMEM once memory ran out */

    vmap_t fragments;     /* name -> first gql_fragment_definition_t of that name */
    vmap_t spreads_cache; /* selection set -> vvec_t of spreads (getFragmentSpreads) */
    vmap_t usages_cache;  /* operation or fragment -> vvec_t of vusage_t */
    void *overlap;        /* validate_overlap.c's state */
} vctx_t;

/* Reports an error at n locations (line, column pairs taken from nodes; NULL nodes are
 * skipped). The message is printf-formatted into the arena. Sets c->stop when the error
 * limit is reached, after adding graphql-js's abort error. */
void verr(vctx_t *c, const gql_node_t *const *nodes, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* One location. */
#define VERR1(c, node, ...)                                                                        \
    do {                                                                                           \
        const gql_node_t *verr_n_[1] = {(const gql_node_t *)(node)};                               \
        verr((c), verr_n_, 1, __VA_ARGS__);                                                        \
    } while (0)
#define VERR2(c, a, b, ...)                                                                        \
    do {                                                                                           \
        const gql_node_t *verr_n_[2] = {(const gql_node_t *)(a), (const gql_node_t *)(b)};         \
        verr((c), verr_n_, 2, __VA_ARGS__);                                                        \
    } while (0)
void vnomem(vctx_t *c);

/* The type as graphql-js's inspect() writes it, in the arena ("[Int!]!"). */
const char *vtype_str(vctx_t *c, const gql_type_t *t);
/* The node as graphql-js's print() writes it, in the arena. */
const char *vprint(vctx_t *c, const gql_node_t *n);
/* graphql-js's didYouMean(suggestionList(input, options)): "" or " Did you mean ...?";
 * sub is the optional phrase after "Did you mean" ("to use an inline fragment on"). */
const char *vsuggest(vctx_t *c, const char *sub, const char *input, const char **options, size_t n);
/* didYouMean over an already ordered list (no distance filter). */
const char *vdid_you_mean(vctx_t *c, const char *sub, const char **names, size_t n);

/* The fragment definition called name, or NULL. */
gql_fragment_definition_t *vfragment(vctx_t *c, const gql_name_t *name);
/* graphql-js's getFragmentSpreads: spreads under a selection set, not entering fragments, in
 * its stack order; cached. NULL when memory ran out. */
vvec_t *vspreads(vctx_t *c, gql_selection_set_t *set);
/* graphql-js's getRecursivelyReferencedFragments, in its order; fills out. */
int vreferenced_fragments(vctx_t *c, gql_operation_definition_t *op, vvec_t *out);

/* The field definition a field named name has on parent (meta-fields included), or NULL. */
const gql_field_def_t *vfield_def(vctx_t *c, const gql_type_t *parent, const gql_name_t *name);
/* typeFromAST, or NULL. */
gql_type_t *vtype_from_ast(vctx_t *c, const gql_node_t *type);

/* Lists variable usages of an operation or fragment definition with their expected types
 * (graphql-js's getVariableUsages); cached. Implemented by validate.c's walk. */
vvec_t *vvariable_usages(vctx_t *c, gql_node_t *def);

/* OverlappingFieldsCanBeMerged on one selection set (validate_overlap.c). */
void voverlap_selection_set(vctx_t *c, gql_type_t *parent, gql_selection_set_t *set);

#endif

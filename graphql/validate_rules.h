/* validate_rules.h - between the validator's walk (validate.c) and its rules
 * (validate_rules.c, validate_values.c): the walk's state, graphql-js's TypeInfo, and the
 * hooks the walk calls at each node, each running the rules of that node in specifiedRules
 * order. Not a public interface. */
#ifndef GQL_VALIDATE_RULES_H
#define GQL_VALIDATE_RULES_H

#include "validate_int.h"

/* graphql-js's TypeInfo: the tops of its stacks. The walk saves and restores it around each
 * node, which is what the stacks do. */
typedef struct tinfo {
    gql_type_t *parent_type;          /* getParentType */
    gql_type_t *type;                 /* getType */
    const gql_field_def_t *field_def; /* getFieldDef */
    gql_type_t *input_type;           /* getInputType */
    gql_type_t *parent_input_type;    /* getParentInputType */
    const gql_node_t *default_value;  /* getDefaultValue, NULL: undefined */
    const gql_input_value_t *argument;
    const gql_directive_def_t *directive;
} tinfo_t;

typedef struct walk {
    vctx_t *c;
    tinfo_t ti;
    bool rules; /* false: only collect variable usages into usages */
    vvec_t *usages;
    const gql_node_t *values_skip; /* ValuesOfCorrectType skips this value's children */
    size_t depth;                  /* fields entered */

    /* document-wide rule state */
    size_t nops;         /* LoneAnonymousOperation */
    vmap_t op_names;     /* UniqueOperationNames */
    vmap_t frag_names;   /* UniqueFragmentNames */
    vmap_t frag_visited; /* NoFragmentCycles */
    size_t aliases;      /* gateway limit */
    /* per-operation rule state */
    vmap_t var_defs; /* NoUndefinedVariables, VariablesInAllowedPosition: name -> definition */
    vvec_t var_list; /* NoUnusedVariables: definitions in order */
} walk_t;

void walk_operation(walk_t *w, gql_operation_definition_t *op);
void walk_fragment(walk_t *w, gql_fragment_definition_t *f);
void record_usage(walk_t *w, gql_variable_t *v);
bool vis_leaf(const gql_type_t *t);

/* validate_rules.c */
void rules_document_enter(walk_t *w);
void rules_document_leave(walk_t *w);
void rules_operation_enter(walk_t *w, gql_operation_definition_t *op);
void rules_operation_leave(walk_t *w, gql_operation_definition_t *op);
void rules_variable_definition(walk_t *w, gql_variable_definition_t *vd);
void rules_fragment_definition(walk_t *w, gql_fragment_definition_t *f);
void rules_field_enter(walk_t *w, gql_field_t *f);
void rule_required_field_args(walk_t *w, gql_field_t *f);
void rules_inline_fragment(walk_t *w, gql_inline_fragment_t *f);
void rules_fragment_spread(walk_t *w, gql_fragment_spread_t *sp);
void rules_directive_enter(walk_t *w, gql_directive_t *d, uint32_t location);
void rules_directive_leave(walk_t *w, gql_directive_t *d);
void rule_known_argument(walk_t *w, gql_argument_t *arg);
void rule_known_type_name(walk_t *w, gql_named_type_t *t);

/* validate_values.c: ValuesOfCorrectType and UniqueInputFieldNames */
void rule_values_list(walk_t *w, gql_list_value_t *v);
void rule_values_object(walk_t *w, gql_object_value_t *v);
void rule_values_object_field(walk_t *w, gql_object_field_t *f);
void rule_values_scalar(walk_t *w, gql_node_t *v);
void rule_unique_input_field(walk_t *w, gql_object_field_t *f, vmap_t *seen);

#endif

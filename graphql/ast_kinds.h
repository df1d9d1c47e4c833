/* ast_kinds.h - the one list of GraphQL AST node kinds, as an X-macro: ast.h expands it into
 * the gql_kind_t enum and the typed callbacks of gql_visitor_t, ast.c into the names table and
 * the visitor's dispatch. Adding a kind here is the first step; the compiler then points at
 * every switch that must learn it.
 *
 * X(KIND, lower, "Name", struct type)
 *   KIND    enum constant GQL_KIND_<KIND>
 *   lower   suffix of the visitor callbacks enter_<lower> / leave_<lower>
 *   "Name"  graphql-js's Kind string
 *   type    the node struct (kinds of one shape share one, e.g. definitions and extensions) */
#ifndef GQL_AST_KINDS_H
#define GQL_AST_KINDS_H

#define GQL_AST_KINDS(X)                                                                           \
    X(NAME, name, "Name", gql_name_t)                                                              \
    X(DOCUMENT, document, "Document", gql_document_t)                                              \
    X(OPERATION_DEFINITION, operation_definition, "OperationDefinition",                           \
      gql_operation_definition_t)                                                                  \
    X(VARIABLE_DEFINITION, variable_definition, "VariableDefinition", gql_variable_definition_t)   \
    X(SELECTION_SET, selection_set, "SelectionSet", gql_selection_set_t)                           \
    X(FIELD, field, "Field", gql_field_t)                                                          \
    X(ARGUMENT, argument, "Argument", gql_argument_t)                                              \
    X(FRAGMENT_SPREAD, fragment_spread, "FragmentSpread", gql_fragment_spread_t)                   \
    X(INLINE_FRAGMENT, inline_fragment, "InlineFragment", gql_inline_fragment_t)                   \
    X(FRAGMENT_DEFINITION, fragment_definition, "FragmentDefinition", gql_fragment_definition_t)   \
    X(VARIABLE, variable, "Variable", gql_variable_t)                                              \
    X(INT_VALUE, int_value, "IntValue", gql_int_value_t)                                           \
    X(FLOAT_VALUE, float_value, "FloatValue", gql_float_value_t)                                   \
    X(STRING_VALUE, string_value, "StringValue", gql_string_value_t)                               \
    X(BOOLEAN_VALUE, boolean_value, "BooleanValue", gql_boolean_value_t)                           \
    X(NULL_VALUE, null_value, "NullValue", gql_null_value_t)                                       \
    X(ENUM_VALUE, enum_value, "EnumValue", gql_enum_value_t)                                       \
    X(LIST_VALUE, list_value, "ListValue", gql_list_value_t)                                       \
    X(OBJECT_VALUE, object_value, "ObjectValue", gql_object_value_t)                               \
    X(OBJECT_FIELD, object_field, "ObjectField", gql_object_field_t)                               \
    X(DIRECTIVE, directive, "Directive", gql_directive_t)                                          \
    X(NAMED_TYPE, named_type, "NamedType", gql_named_type_t)                                       \
    X(LIST_TYPE, list_type, "ListType", gql_list_type_t)                                           \
    X(NON_NULL_TYPE, non_null_type, "NonNullType", gql_non_null_type_t)                            \
    X(SCHEMA_DEFINITION, schema_definition, "SchemaDefinition", gql_schema_definition_t)           \
    X(OPERATION_TYPE_DEFINITION, operation_type_definition, "OperationTypeDefinition",             \
      gql_operation_type_definition_t)                                                             \
    X(SCALAR_TYPE_DEFINITION, scalar_type_definition, "ScalarTypeDefinition",                      \
      gql_type_definition_t)                                                                       \
    X(OBJECT_TYPE_DEFINITION, object_type_definition, "ObjectTypeDefinition",                      \
      gql_type_definition_t)                                                                       \
    X(FIELD_DEFINITION, field_definition, "FieldDefinition", gql_field_definition_t)               \
    X(INPUT_VALUE_DEFINITION, input_value_definition, "InputValueDefinition",                      \
      gql_input_value_definition_t)                                                                \
    X(INTERFACE_TYPE_DEFINITION, interface_type_definition, "InterfaceTypeDefinition",             \
      gql_type_definition_t)                                                                       \
    X(UNION_TYPE_DEFINITION, union_type_definition, "UnionTypeDefinition", gql_type_definition_t)  \
    X(ENUM_TYPE_DEFINITION, enum_type_definition, "EnumTypeDefinition", gql_type_definition_t)     \
    X(ENUM_VALUE_DEFINITION, enum_value_definition, "EnumValueDefinition",                         \
      gql_enum_value_definition_t)                                                                 \
    X(INPUT_OBJECT_TYPE_DEFINITION, input_object_type_definition, "InputObjectTypeDefinition",     \
      gql_type_definition_t)                                                                       \
    X(DIRECTIVE_DEFINITION, directive_definition, "DirectiveDefinition",                           \
      gql_directive_definition_t)                                                                  \
    X(SCHEMA_EXTENSION, schema_extension, "SchemaExtension", gql_schema_definition_t)              \
    X(SCALAR_TYPE_EXTENSION, scalar_type_extension, "ScalarTypeExtension", gql_type_definition_t)  \
    X(OBJECT_TYPE_EXTENSION, object_type_extension, "ObjectTypeExtension", gql_type_definition_t)  \
    X(INTERFACE_TYPE_EXTENSION, interface_type_extension, "InterfaceTypeExtension",                \
      gql_type_definition_t)                                                                       \
    X(UNION_TYPE_EXTENSION, union_type_extension, "UnionTypeExtension", gql_type_definition_t)     \
    X(ENUM_TYPE_EXTENSION, enum_type_extension, "EnumTypeExtension", gql_type_definition_t)        \
    X(INPUT_OBJECT_TYPE_EXTENSION, input_object_type_extension, "InputObjectTypeExtension",        \
      gql_type_definition_t)

#endif

//! Node-kind and field tables: tree-sitter numeric ids mapped once to enums, so that the emitters
//! dispatch on a table lookup instead of comparing kind strings on every node.

use std::sync::OnceLock;

use crate::language::Language;

macro_rules! node_kinds {
    ($name:ident { $($variant:ident = $($kind:literal)|+,)* }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name {
            /// A kind this table does not name: emitted generically (children in order).
            Unhandled,
            $($variant,)*
        }

        impl $name {
            pub(crate) const NAMES: &'static [(&'static str, $name)] = &[$($(($kind, $name::$variant),)+)*];
        }
    };
}

macro_rules! field_names {
    ($name:ident { $($field:ident = $text:literal,)* }) => {
        /// Field ids of one grammar; `u16::MAX` when the grammar lacks the field.
        pub(crate) struct $name {
            $(pub $field: u16,)*
        }

        impl $name {
            fn resolve(language: &tree_sitter::Language) -> Self {
                $name {
                    $($field: language.field_id_for_name($text).map_or(u16::MAX, |id| id.get()),)*
                }
            }
        }
    };
}

pub(crate) struct Grammar<K: 'static, F> {
    kinds: Vec<K>,
    pub fields: F,
}

impl<K: Copy, F> Grammar<K, F> {
    fn build(language: &tree_sitter::Language, names: &[(&str, K)], unhandled: K, fields: F) -> Self {
        let mut kinds = vec![unhandled; language.node_kind_count() + 1];
        for (id, slot) in kinds.iter_mut().enumerate() {
            let id = id as u16;
            if !language.node_kind_is_named(id) {
                continue;
            }
            if let Some(name) = language.node_kind_for_id(id) {
                if let Some((_, kind)) = names.iter().find(|(n, _)| *n == name) {
                    *slot = *kind;
                }
            }
        }
        Grammar { kinds, fields }
    }

    #[inline]
    pub fn kind(&self, node: tree_sitter::Node<'_>) -> K {
        self.kinds.get(node.kind_id() as usize).copied().unwrap_or(self.kinds[0])
    }
}

node_kinds!(PyKind {
    Module = "module",
    Block = "block",
    ExpressionStatement = "expression_statement",
    Assignment = "assignment",
    AugmentedAssignment = "augmented_assignment",
    If = "if_statement",
    Elif = "elif_clause",
    Else = "else_clause",
    For = "for_statement",
    While = "while_statement",
    Try = "try_statement",
    Except = "except_clause",
    Finally = "finally_clause",
    With = "with_statement",
    WithClause = "with_clause",
    WithItem = "with_item",
    Match = "match_statement",
    CaseClause = "case_clause",
    FunctionDefinition = "function_definition",
    ClassDefinition = "class_definition",
    DecoratedDefinition = "decorated_definition",
    Decorator = "decorator",
    Return = "return_statement",
    Raise = "raise_statement",
    Assert = "assert_statement",
    Delete = "delete_statement",
    Global = "global_statement",
    Nonlocal = "nonlocal_statement",
    Pass = "pass_statement",
    Break = "break_statement",
    Continue = "continue_statement",
    Import = "import_statement",
    ImportFrom = "import_from_statement",
    FutureImport = "future_import_statement",
    Print = "print_statement",
    Chevron = "chevron",
    Exec = "exec_statement",
    TypeAlias = "type_alias_statement",
    Identifier = "identifier",
    Attribute = "attribute",
    Call = "call",
    ArgumentList = "argument_list",
    KeywordArgument = "keyword_argument",
    Subscript = "subscript",
    Slice = "slice",
    BinaryOperator = "binary_operator",
    BooleanOperator = "boolean_operator",
    Comparison = "comparison_operator",
    Not = "not_operator",
    Unary = "unary_operator",
    Conditional = "conditional_expression",
    NamedExpression = "named_expression",
    Lambda = "lambda",
    Await = "await",
    Yield = "yield",
    List = "list",
    Tuple = "tuple",
    Set = "set",
    Dictionary = "dictionary",
    Pair = "pair",
    DictionarySplat = "dictionary_splat",
    ListSplat = "list_splat",
    ParenthesizedListSplat = "parenthesized_list_splat",
    ListComprehension = "list_comprehension",
    SetComprehension = "set_comprehension",
    DictionaryComprehension = "dictionary_comprehension",
    GeneratorExpression = "generator_expression",
    ForInClause = "for_in_clause",
    IfClause = "if_clause",
    Parenthesized = "parenthesized_expression",
    ExpressionList = "expression_list",
    String = "string",
    StringStart = "string_start",
    StringContent = "string_content",
    StringEnd = "string_end",
    StringEscape = "escape_sequence" | "escape_interpolation",
    Interpolation = "interpolation",
    FormatPart = "format_specifier" | "format_expression" | "type_conversion",
    ConcatenatedString = "concatenated_string",
    Integer = "integer",
    Float = "float",
    True = "true",
    False = "false",
    None = "none",
    Ellipsis = "ellipsis",
    PatternList = "pattern_list",
    TuplePattern = "tuple_pattern",
    ListPattern = "list_pattern",
    ListSplatPattern = "list_splat_pattern",
    DictionarySplatPattern = "dictionary_splat_pattern",
    AsPattern = "as_pattern",
    AsPatternTarget = "as_pattern_target",
    CasePattern = "case_pattern",
    ClassPattern = "class_pattern",
    DictPattern = "dict_pattern",
    KeywordPattern = "keyword_pattern",
    SplatPattern = "splat_pattern",
    UnionPattern = "union_pattern",
    ComplexPattern = "complex_pattern",
    DottedName = "dotted_name",
    Parameters = "parameters" | "lambda_parameters",
    DefaultParameter = "default_parameter",
    TypedParameter = "typed_parameter",
    TypedDefaultParameter = "typed_default_parameter",
    ParameterSeparator = "keyword_separator" | "positional_separator",
    Type = "type",
    TypeExpression = "generic_type" | "union_type" | "constrained_type" | "member_type" | "splat_type",
    TypeParameter = "type_parameter",
    AliasedImport = "aliased_import",
    RelativeImport = "relative_import",
    ImportPrefix = "import_prefix",
    WildcardImport = "wildcard_import",
    Comment = "comment" | "line_continuation",
});

field_names!(PyFields {
    alias = "alias",
    alternative = "alternative",
    argument = "argument",
    arguments = "arguments",
    attribute = "attribute",
    body = "body",
    cause = "cause",
    condition = "condition",
    consequence = "consequence",
    definition = "definition",
    expression = "expression",
    format_specifier = "format_specifier",
    function = "function",
    guard = "guard",
    key = "key",
    left = "left",
    module_name = "module_name",
    name = "name",
    object = "object",
    operator = "operator",
    parameters = "parameters",
    return_type = "return_type",
    right = "right",
    subject = "subject",
    superclasses = "superclasses",
    type_ = "type",
    value = "value",
});

node_kinds!(JsKind {
    Program = "program",
    HashBang = "hash_bang_line",
    ExpressionStatement = "expression_statement",
    VariableDeclaration = "variable_declaration" | "lexical_declaration" | "using_declaration",
    VariableDeclarator = "variable_declarator",
    FunctionDeclaration = "function_declaration" | "generator_function_declaration",
    ClassDeclaration = "class_declaration" | "abstract_class_declaration",
    ClassBody = "class_body",
    ClassHeritage = "class_heritage",
    ClassStaticBlock = "class_static_block",
    MethodDefinition = "method_definition",
    FieldDefinition = "field_definition" | "public_field_definition",
    If = "if_statement",
    Else = "else_clause",
    For = "for_statement",
    ForIn = "for_in_statement",
    While = "while_statement",
    DoWhile = "do_statement",
    Try = "try_statement",
    Catch = "catch_clause",
    Finally = "finally_clause",
    Switch = "switch_statement",
    SwitchBody = "switch_body",
    SwitchCase = "switch_case",
    SwitchDefault = "switch_default",
    Return = "return_statement",
    Throw = "throw_statement",
    Break = "break_statement",
    Continue = "continue_statement",
    Debugger = "debugger_statement",
    Labeled = "labeled_statement",
    Empty = "empty_statement",
    Block = "statement_block",
    With = "with_statement",
    Import = "import_statement",
    ImportClause = "import_clause",
    NamedImports = "named_imports",
    ImportSpecifier = "import_specifier",
    NamespaceImport = "namespace_import",
    ImportAttribute = "import_attribute",
    ImportRequire = "import_require_clause",
    Export = "export_statement",
    ExportClause = "export_clause",
    ExportSpecifier = "export_specifier",
    NamespaceExport = "namespace_export",
    Identifier = "identifier",
    ShorthandProperty = "shorthand_property_identifier",
    ShorthandPropertyPattern = "shorthand_property_identifier_pattern",
    PropertyIdentifier = "property_identifier" | "private_property_identifier" | "statement_identifier",
    Member = "member_expression",
    Subscript = "subscript_expression",
    Call = "call_expression",
    New = "new_expression",
    Arguments = "arguments",
    ImportKeyword = "import",
    Assignment = "assignment_expression",
    AugmentedAssignment = "augmented_assignment_expression",
    Binary = "binary_expression",
    Unary = "unary_expression",
    Update = "update_expression",
    Ternary = "ternary_expression",
    Sequence = "sequence_expression",
    Parenthesized = "parenthesized_expression",
    Await = "await_expression",
    Yield = "yield_expression",
    Array = "array",
    Object = "object",
    Pair = "pair",
    ComputedPropertyName = "computed_property_name",
    Spread = "spread_element",
    Function = "function_expression" | "function" | "generator_function",
    Arrow = "arrow_function",
    Class = "class",
    FormalParameters = "formal_parameters",
    String = "string",
    StringPart = "string_fragment" | "escape_sequence" | "html_character_reference",
    Template = "template_string",
    TemplateSubstitution = "template_substitution",
    Number = "number",
    Regex = "regex",
    RegexPart = "regex_pattern" | "regex_flags",
    True = "true",
    False = "false",
    Null = "null",
    Undefined = "undefined",
    This = "this",
    Super = "super",
    MetaProperty = "meta_property",
    OptionalChain = "optional_chain",
    Decorator = "decorator",
    ObjectPattern = "object_pattern",
    ArrayPattern = "array_pattern",
    AssignmentPattern = "assignment_pattern",
    ObjectAssignmentPattern = "object_assignment_pattern",
    PairPattern = "pair_pattern",
    RestPattern = "rest_pattern",
    JsxElement = "jsx_element" | "jsx_self_closing_element",
    JsxOpening = "jsx_opening_element",
    JsxClosing = "jsx_closing_element",
    JsxAttribute = "jsx_attribute",
    JsxExpression = "jsx_expression",
    JsxText = "jsx_text",
    JsxName = "jsx_namespace_name",
    Comment = "comment" | "html_comment",
    // TypeScript: expressions that wrap a value, and parameters with modifiers.
    TypeWrapper = "as_expression" | "satisfies_expression" | "non_null_expression" | "type_assertion"
        | "instantiation_expression",
    Parameter = "required_parameter" | "optional_parameter",
    Enum = "enum_declaration",
    EnumBody = "enum_body",
    EnumAssignment = "enum_assignment",
    Namespace = "internal_module" | "module",
    // TypeScript declarations and annotations: types only, nothing runs.
    TypeOnly = "type_annotation" | "opting_type_annotation" | "omitting_type_annotation" | "asserts_annotation"
        | "type_alias_declaration" | "interface_declaration" | "ambient_declaration" | "type_parameters"
        | "type_arguments" | "abstract_method_signature" | "method_signature" | "function_signature"
        | "index_signature" | "property_signature" | "call_signature" | "construct_signature"
        | "accessibility_modifier" | "override_modifier" | "implements_clause" | "extends_clause"
        | "predefined_type" | "type_identifier" | "nested_type_identifier" | "generic_type" | "object_type"
        | "array_type" | "tuple_type" | "union_type" | "intersection_type" | "function_type"
        | "constructor_type" | "conditional_type" | "lookup_type" | "literal_type" | "index_type_query"
        | "type_query" | "readonly_type" | "infer_type" | "template_literal_type" | "mapped_type_clause"
        | "parenthesized_type" | "existential_type" | "flow_maybe_type" | "type_predicate"
        | "type_predicate_annotation" | "asserts" | "this_type" | "optional_type" | "rest_type"
        | "template_type" | "type_parameter" | "constraint" | "default_type" | "adding_type_annotation"
        | "extends_type_clause" | "optional_tuple_parameter" | "rest_pattern_type" | "nested_identifier"
        | "import_alias" | "enum_member" | "interface_body",
});

field_names!(JsFields {
    alias = "alias",
    alternative = "alternative",
    argument = "argument",
    arguments = "arguments",
    body = "body",
    condition = "condition",
    consequence = "consequence",
    constructor = "constructor",
    declaration = "declaration",
    finalizer = "finalizer",
    decorator = "decorator",
    function = "function",
    handler = "handler",
    increment = "increment",
    index = "index",
    initializer = "initializer",
    key = "key",
    left = "left",
    name = "name",
    object = "object",
    open_tag = "open_tag",
    operator = "operator",
    parameter = "parameter",
    parameters = "parameters",
    pattern = "pattern",
    property = "property",
    right = "right",
    source = "source",
    value = "value",
});

pub(crate) type PyGrammar = Grammar<PyKind, PyFields>;
pub(crate) type JsGrammar = Grammar<JsKind, JsFields>;

pub(crate) fn python() -> &'static PyGrammar {
    static GRAMMAR: OnceLock<PyGrammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let language = Language::Python.grammar();
        let fields = PyFields::resolve(&language);
        Grammar::build(&language, PyKind::NAMES, PyKind::Unhandled, fields)
    })
}

/// JavaScript, TypeScript and TSX share one emitter but have their own ids.
pub(crate) fn javascript(language: Language) -> &'static JsGrammar {
    static GRAMMARS: [OnceLock<JsGrammar>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match language {
        Language::JavaScript => 0,
        Language::TypeScript => 1,
        Language::Tsx => 2,
        Language::Python => unreachable!("python has its own grammar table"),
    };
    GRAMMARS[slot].get_or_init(|| {
        let grammar = language.grammar();
        let fields = JsFields::resolve(&grammar);
        Grammar::build(&grammar, JsKind::NAMES, JsKind::Unhandled, fields)
    })
}

/// Visible named kinds of a grammar that a table leaves unhandled (for the coverage test).
#[cfg(test)]
pub(crate) fn unhandled_kinds<K: Copy + PartialEq>(language: Language, names: &[(&str, K)]) -> Vec<String> {
    let grammar = language.grammar();
    let mut missing = Vec::new();
    for id in 0..grammar.node_kind_count() as u16 {
        if !grammar.node_kind_is_named(id) || !grammar.node_kind_is_visible(id) || grammar.node_kind_is_supertype(id) {
            continue;
        }
        let name = grammar.node_kind_for_id(id).unwrap_or("");
        if name != "ERROR" && !names.iter().any(|(n, _)| *n == name) && !missing.contains(&name.to_string()) {
            missing.push(name.to_string());
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every construct of every grammar is handled on purpose: nothing is dropped by accident.
    #[test]
    fn every_named_kind_is_handled() {
        assert_eq!(unhandled_kinds(Language::Python, PyKind::NAMES), Vec::<String>::new());
        assert_eq!(unhandled_kinds(Language::JavaScript, JsKind::NAMES), Vec::<String>::new());
    }

    #[test]
    fn typescript_kinds_are_handled() {
        for language in [Language::TypeScript, Language::Tsx] {
            assert_eq!(unhandled_kinds(language, JsKind::NAMES), Vec::<String>::new(), "{language:?}");
        }
    }
}

//! The malwicode instruction set, shared by every language so that what the model learns from
//! Python transfers to JavaScript. CPython-flavoured where CPython has a fitting opcode.

macro_rules! opcodes {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op {
            $($variant,)*
        }

        impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Op::$variant => $name,)*
                }
            }

            pub fn from_name(name: &str) -> Option<Op> {
                match name {
                    $($name => Some(Op::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

opcodes! {
    // Names and values
    LoadName => "LOAD_NAME",
    StoreName => "STORE_NAME",
    DeleteName => "DELETE_NAME",
    LoadAttr => "LOAD_ATTR",
    StoreAttr => "STORE_ATTR",
    DeleteAttr => "DELETE_ATTR",
    LoadConst => "LOAD_CONST",
    LoadRegex => "LOAD_REGEX",
    BinarySubscr => "BINARY_SUBSCR",
    StoreSubscr => "STORE_SUBSCR",
    DeleteSubscr => "DELETE_SUBSCR",
    BuildSlice => "BUILD_SLICE",
    StoreAnnotation => "STORE_ANNOTATION",
    // Building values
    BuildList => "BUILD_LIST",
    BuildTuple => "BUILD_TUPLE",
    BuildSet => "BUILD_SET",
    BuildMap => "BUILD_MAP",
    BuildString => "BUILD_STRING",
    FormatValue => "FORMAT_VALUE",
    ListExtend => "LIST_EXTEND",
    DictMerge => "DICT_MERGE",
    ListAppend => "LIST_APPEND",
    SetAdd => "SET_ADD",
    MapAdd => "MAP_ADD",
    UnpackSequence => "UNPACK_SEQUENCE",
    UnpackEx => "UNPACK_EX",
    UnpackMapping => "UNPACK_MAPPING",
    Copy => "COPY",
    PopTop => "POP_TOP",
    Nop => "NOP",
    // Operators: the argument is the operator itself
    BinaryOp => "BINARY_OP",
    CompareOp => "COMPARE_OP",
    UnaryOp => "UNARY_OP",
    // Calls and definitions
    KwNames => "KW_NAMES",
    Call => "CALL",
    CallFunctionEx => "CALL_FUNCTION_EX",
    CallNew => "CALL_NEW",
    MakeFunction => "MAKE_FUNCTION",
    LoadBuildClass => "LOAD_BUILD_CLASS",
    ReturnValue => "RETURN_VALUE",
    YieldValue => "YIELD_VALUE",
    YieldFrom => "YIELD_FROM",
    GetAwaitable => "GET_AWAITABLE",
    // Control flow
    PopJumpIfFalse => "POP_JUMP_IF_FALSE",
    PopJumpIfTrue => "POP_JUMP_IF_TRUE",
    JumpIfFalseOrPop => "JUMP_IF_FALSE_OR_POP",
    JumpIfTrueOrPop => "JUMP_IF_TRUE_OR_POP",
    JumpIfNotNoneOrPop => "JUMP_IF_NOT_NONE_OR_POP",
    JumpForward => "JUMP_FORWARD",
    JumpBackward => "JUMP_BACKWARD",
    GetIter => "GET_ITER",
    GetAiter => "GET_AITER",
    GetKeys => "GET_KEYS",
    ForIter => "FOR_ITER",
    EndFor => "END_FOR",
    BreakLoop => "BREAK_LOOP",
    ContinueLoop => "CONTINUE_LOOP",
    // Exceptions and context managers
    SetupFinally => "SETUP_FINALLY",
    PopBlock => "POP_BLOCK",
    PushExcInfo => "PUSH_EXC_INFO",
    CheckExcMatch => "CHECK_EXC_MATCH",
    PopExcept => "POP_EXCEPT",
    BeginFinally => "BEGIN_FINALLY",
    EndFinally => "END_FINALLY",
    RaiseVarargs => "RAISE_VARARGS",
    LoadAssertionError => "LOAD_ASSERTION_ERROR",
    BeforeWith => "BEFORE_WITH",
    BeforeAsyncWith => "BEFORE_ASYNC_WITH",
    EndWith => "END_WITH",
    // Structural pattern matching
    MatchClass => "MATCH_CLASS",
    MatchSequence => "MATCH_SEQUENCE",
    MatchMapping => "MATCH_MAPPING",
    // Modules
    ImportName => "IMPORT_NAME",
    ImportFrom => "IMPORT_FROM",
    ImportStar => "IMPORT_STAR",
    ExportName => "EXPORT_NAME",
    ExportStar => "EXPORT_STAR",
    // Scope declarations and odd statements
    Global => "GLOBAL",
    Nonlocal => "NONLOCAL",
    Debugger => "DEBUGGER",
    // A subtree nested deeper than `max_nesting`: what follows are its leaves, in order.
    DeepNesting => "DEEP_NESTING",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &op in Op::ALL {
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert!(seen.insert(op.name()));
        }
    }
}

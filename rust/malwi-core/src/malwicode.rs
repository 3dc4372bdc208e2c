//! malwicode, typed: the instructions every object is compiled into.
//!
//! An object's [`Malwicode`] is a list of instructions, each an [`Op`] with its [`Arg`]s:
//! names from the source, behaviour categories, string classes, counts, operators. Emission
//! builds it; the data-flow analysis, activities and featurization read it as it is; the token
//! string (`LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT ...`) is rendered from it only at the edge
//! (hashing, Python, the dumps, the training data) and never split again inside the core.
//!
//! This module depends on nothing else in the crate: it defines the token kinds themselves
//! (opcodes, string classes, size buckets) and how each is written.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

macro_rules! opcodes {
    ($($variant:ident => $name:literal,)*) => {
        /// The malwicode instruction set, shared by every language so that what the model
        /// learns from Python transfers to JavaScript. CPython-flavoured where CPython has a
        /// fitting opcode.
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

macro_rules! string_classes {
    ($($variant:ident => $token:literal,)*) => {
        /// The classes a string constant is put in, in the order in which they are tried
        /// (see `strings::classify`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum StringClass {
            $(#[serde(rename = $token)] $variant,)*
        }

        impl StringClass {
            pub const ALL: &'static [StringClass] = &[$(StringClass::$variant,)*];

            pub fn token(self) -> &'static str {
                match self {
                    $(StringClass::$variant => $token,)*
                }
            }

            pub fn from_token(token: &str) -> Option<StringClass> {
                match token {
                    $($token => Some(StringClass::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

string_classes! {
    SensitiveFilePath => "STRING_SENSITIVE_FILE_PATH",
    Localhost => "STRING_LOCALHOST",
    Ip => "STRING_IP",
    InsecureUrl => "STRING_INSECURE_URL",
    Url => "STRING_URL",
    Email => "STRING_EMAIL",
    ContainsUrl => "STRING_CONTAINS_URL",
    Version => "STRING_VERSION",
    Encoding => "STRING_ENCODING",
    FilePath => "STRING_FILE_PATH",
    Bash => "STRING_BASH",
    Sql => "STRING_SQL",
    Code => "STRING_CODE",
    Hex => "STRING_HEX",
    Base64 => "STRING_BASE64",
    Plain => "STRING",
}

/// How long a classified string is: S up to 100 characters, M 101..=1000, L more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeBucket {
    Small,
    Medium,
    Large,
}

impl SizeBucket {
    pub const TOKENS: [&'static str; 3] = ["STRING_SIZE_S", "STRING_SIZE_M", "STRING_SIZE_L"];

    /// Short strings (see `short_string_max`) stay verbatim and never get a bucket.
    pub fn of(chars: usize) -> SizeBucket {
        match chars {
            0..=100 => SizeBucket::Small,
            101..=1000 => SizeBucket::Medium,
            _ => SizeBucket::Large,
        }
    }

    pub fn token(self) -> &'static str {
        Self::TOKENS[self as usize]
    }

    pub fn from_token(token: &str) -> Option<SizeBucket> {
        Self::TOKENS
            .iter()
            .position(|t| *t == token)
            .map(|i| [SizeBucket::Small, SizeBucket::Medium, SizeBucket::Large][i])
    }
}

/// A piece of an object's own text: a name, verbatim string or number as written in malwicode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

/// One argument of an instruction; each is one token when rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A name from the source: identifier, attribute, module, keyword argument. Written so that
    /// it never reads as a token of the emitter's own (a variable called `CALL` is `_CALL`).
    Name(Span),
    /// The behaviour category an API resolved to (`PROCESS_MANAGEMENT`).
    Category(Span),
    /// A string constant by its class. `noted`: its value is kept in [`Malwicode::strings`] at
    /// that index, for the details of data flows (the file read, the URL sent to).
    Str { class: StringClass, noted: Option<u32> },
    /// The size bucket that follows a long string's class.
    Bucket(SizeBucket),
    /// A short string constant as it is: quoted and escaped, see [`write_verbatim`].
    Verbatim(Span),
    /// A number constant, normalised (`0x10` → `16`).
    Number(Span),
    /// How many: arguments of a call, items of a display, names unpacked (see [`Malwicode::count_of`]).
    Count(Span),
    /// A word of the emitter's own: an operator (`+`, `==`, `not`), `None`, `True`, `<lambda>`.
    Word(Span),
}

/// An instruction as it is read: its opcode and arguments.
#[derive(Clone, Copy, Debug)]
pub struct Instr<'c> {
    pub op: Op,
    pub args: &'c [Arg],
}

/// Where an instruction's arguments end in [`Malwicode::args`].
#[derive(Clone, Copy, Debug)]
struct Stored {
    op: Op,
    args_end: u32,
}

/// One object's malwicode.
#[derive(Clone, Debug, Default)]
pub struct Malwicode {
    /// Tokens before the first instruction: what the analyses found in the object when the
    /// featurizer asks for it (`PROTECTOR_PYARMOR`, `FLOW_ENVIRONMENT_TO_NETWORK`).
    markers: Vec<&'static str>,
    instrs: Vec<Stored>,
    args: Vec<Arg>,
    /// The text of names, verbatim strings, numbers and counts.
    text: String,
    /// `(instruction index, line)` where statements start, for the data-flow analysis.
    statements: Vec<(u32, u32)>,
    /// String values that name files or URLs, for the details of data flows.
    strings: Vec<Box<str>>,
}

impl Malwicode {
    pub fn new() -> Malwicode {
        Malwicode::default()
    }

    /// Room for the instructions of `source_bytes` of source (a guess; regrowing costs more).
    pub fn with_capacity(source_bytes: usize) -> Malwicode {
        let instructions = (source_bytes / 8).min(16 * 1024);
        Malwicode {
            instrs: Vec::with_capacity(instructions),
            args: Vec::with_capacity(instructions),
            text: String::with_capacity((source_bytes / 4).min(16 * 1024)),
            ..Malwicode::default()
        }
    }

    // ---------------------------------------------------------------------------------------
    // Building

    /// Starts an instruction; the arguments pushed next are its own.
    pub fn op(&mut self, op: Op) {
        self.instrs.push(Stored { op, args_end: self.args.len() as u32 });
    }

    fn push(&mut self, arg: Arg) {
        self.args.push(arg);
        if let Some(last) = self.instrs.last_mut() {
            last.args_end = self.args.len() as u32;
        }
    }

    fn span(&mut self, write: impl FnOnce(&mut String)) -> Span {
        let start = self.text.len();
        write(&mut self.text);
        Span { start: start as u32, len: (self.text.len() - start) as u32 }
    }

    /// A name, already escaped by the emitter (no whitespace, not a reserved token).
    pub fn name(&mut self, name: &str) {
        let span = self.span(|text| text.push_str(name));
        self.push(Arg::Name(span));
    }

    pub fn category(&mut self, category: &str) {
        let span = self.span(|text| text.push_str(category));
        self.push(Arg::Category(span));
    }

    pub fn word(&mut self, word: &str) {
        let span = self.span(|text| text.push_str(word));
        self.push(Arg::Word(span));
    }

    pub fn count(&mut self, value: usize) {
        let span = self.span(|text| {
            let _ = write!(text, "{value}");
        });
        self.push(Arg::Count(span));
    }

    /// A number constant, already normalised.
    pub fn number(&mut self, number: &str) {
        let span = self.span(|text| text.push_str(number));
        self.push(Arg::Number(span));
    }

    /// A short string constant, written as one quoted token.
    pub fn verbatim(&mut self, value: &str) {
        let span = self.span(|text| write_verbatim(text, value));
        self.push(Arg::Verbatim(span));
    }

    /// A classified string constant, its value kept for flow details when `value` is given.
    pub fn string(&mut self, class: StringClass, bucket: Option<SizeBucket>, value: Option<Box<str>>) {
        let noted = value.map(|value| {
            self.strings.push(value);
            (self.strings.len() - 1) as u32
        });
        self.push(Arg::Str { class, noted });
        if let Some(bucket) = bucket {
            self.push(Arg::Bucket(bucket));
        }
    }

    /// A statement starts with the next instruction.
    pub fn statement(&mut self, line: u32) {
        let at = self.instrs.len() as u32;
        match self.statements.last_mut() {
            Some(last) if last.0 == at => last.1 = line,
            _ => self.statements.push((at, line)),
        }
    }

    /// Puts marker tokens before the instructions (the first given comes first).
    pub fn prepend_markers(&mut self, markers: &[&'static str]) {
        self.markers.splice(0..0, markers.iter().copied());
    }

    // ---------------------------------------------------------------------------------------
    // Reading

    pub fn markers(&self) -> &[&'static str] {
        &self.markers
    }

    pub fn instruction_count(&self) -> usize {
        self.instrs.len()
    }

    pub fn instructions(&self) -> impl Iterator<Item = Instr<'_>> + '_ {
        let mut start = 0usize;
        self.instrs.iter().map(move |stored| {
            let end = stored.args_end as usize;
            let args = &self.args[start..end];
            start = end;
            Instr { op: stored.op, args }
        })
    }

    /// `(instruction index, line)` of each statement start.
    pub fn statements(&self) -> &[(u32, u32)] {
        &self.statements
    }

    /// The value behind an [`Arg::Str`]'s `noted` index.
    pub fn noted(&self, index: u32) -> Option<&str> {
        self.strings.get(index as usize).map(|s| &**s)
    }

    /// How many string values were kept for flow details.
    pub fn noted_count(&self) -> usize {
        self.strings.len()
    }

    /// An argument as its token.
    pub fn arg_text<'a>(&'a self, arg: &'a Arg) -> &'a str {
        match arg {
            Arg::Name(span)
            | Arg::Category(span)
            | Arg::Verbatim(span)
            | Arg::Number(span)
            | Arg::Word(span)
            | Arg::Count(span) => &self.text[span.start as usize..(span.start + span.len) as usize],
            Arg::Str { class, .. } => class.token(),
            Arg::Bucket(bucket) => bucket.token(),
        }
    }

    /// The value of an [`Arg::Count`] (0 for any other argument).
    pub fn count_of(&self, arg: &Arg) -> usize {
        match arg {
            Arg::Count(_) => self.arg_text(arg).parse().unwrap_or(usize::MAX),
            _ => 0,
        }
    }

    /// The behaviour categories the code resolved names to, in order, with repeats.
    pub fn categories(&self) -> impl Iterator<Item = &str> + '_ {
        self.args.iter().filter(|arg| matches!(arg, Arg::Category(_))).map(|arg| self.arg_text(arg))
    }

    /// Writes the token string into `out`: what [`Malwicode::render`] returns, without the
    /// allocation (the dumps write megabytes of it).
    pub fn write_tokens(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for (i, token) in self.tokens().enumerate() {
            if i > 0 {
                out.write_all(b" ")?;
            }
            out.write_all(token.as_bytes())?;
        }
        Ok(())
    }

    /// Every token in order: markers, then each opcode followed by its arguments.
    pub fn tokens(&self) -> impl Iterator<Item = &str> + '_ {
        self.markers.iter().copied().chain(self.instructions().flat_map(move |instr| {
            std::iter::once(instr.op.name()).chain(instr.args.iter().map(|arg| self.arg_text(arg)))
        }))
    }

    pub fn token_count(&self) -> usize {
        self.markers.len() + self.instrs.len() + self.args.len()
    }

    pub fn is_empty(&self) -> bool {
        self.token_count() == 0
    }

    /// The token string: tokens joined by single spaces. No token contains whitespace, so it
    /// splits back into the same tokens.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 12 * self.instrs.len() + 16 * self.args.len());
        for (i, token) in self.tokens().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(token);
        }
        out
    }

    /// The instructions one per line (`LOAD_ATTR PROCESS_MANAGEMENT`), markers left out: how
    /// people read malwicode (the snapshot tests, `cargo run --example dump`).
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for instr in self.instructions() {
            out.push_str(instr.op.name());
            for arg in instr.args {
                out.push(' ');
                out.push_str(self.arg_text(arg));
            }
            out.push('\n');
        }
        out
    }

    /// Hex SHA-256 of the token string, computed without rendering it.
    pub fn hash(&self) -> String {
        let mut digest = Sha256::new();
        for (i, token) in self.tokens().enumerate() {
            if i > 0 {
                digest.update(b" ");
            }
            digest.update(token.as_bytes());
        }
        hex::encode(digest.finalize())
    }

    /// Reads a token string back into typed instructions: opcodes start instructions; string
    /// classes, size buckets, quoted strings and counts are recognised by their form;
    /// `is_category` says which of the other tokens are behaviour categories; the rest are names
    /// (or numbers after opcodes that take a constant). Tokens before the first opcode become
    /// markers when they are `reserved`, else they are dropped. For tests and tools that hold
    /// rendered malwicode; the compiler never goes this way.
    pub fn parse(
        text: &str,
        is_category: impl Fn(&str) -> bool,
        reserved: impl Fn(&str) -> Option<&'static str>,
    ) -> Malwicode {
        let mut code = Malwicode::new();
        let mut current: Option<Op> = None;
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            if let Some(op) = Op::from_name(token) {
                code.op(op);
                current = Some(op);
                continue;
            }
            let Some(op) = current else {
                if let Some(marker) = reserved(token) {
                    code.markers.push(marker);
                }
                continue;
            };
            if let Some(class) = StringClass::from_token(token) {
                code.push(Arg::Str { class, noted: None });
            } else if let Some(bucket) = SizeBucket::from_token(token) {
                code.push(Arg::Bucket(bucket));
            } else if token.starts_with('\'') {
                let span = code.span(|t| t.push_str(token));
                code.push(Arg::Verbatim(span));
            } else if is_category(token) {
                code.category(token);
            } else if op.takes_count() && token.parse::<u32>().is_ok() {
                let span = code.span(|t| t.push_str(token));
                code.push(Arg::Count(span));
            } else if op == Op::LoadConst && token.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                code.number(token);
            } else {
                code.name(token);
            }
        }
        code
    }
}

impl Op {
    /// Whether the opcode's argument is a count (`CALL 2`, `BUILD_LIST 3`).
    pub fn takes_count(self) -> bool {
        matches!(
            self,
            Op::Call
                | Op::CallNew
                | Op::CallFunctionEx
                | Op::BuildList
                | Op::BuildTuple
                | Op::BuildSet
                | Op::BuildMap
                | Op::BuildString
                | Op::BuildSlice
                | Op::UnpackSequence
                | Op::UnpackEx
                | Op::MatchClass
                | Op::RaiseVarargs
                | Op::Copy
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Verbatim strings

/// Writes a short string as one whitespace-free token: `'...'`, with `\` `'` whitespace and
/// control characters escaped, so a token string can always be split on spaces.
pub fn write_verbatim(out: &mut String, value: &str) {
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_whitespace() || c.is_control() => {
                if (c as u32) < 0x100 {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                } else {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// The text inside a verbatim token's quotes read back: undoes the escapes `write_verbatim`
/// writes (short strings such as `'Login\x20Data'` are matched by what they say).
pub fn read_verbatim(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some('u') => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.extend(u32::from_str_radix(&code, 16).ok().and_then(char::from_u32));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
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
        for &class in StringClass::ALL {
            assert_eq!(StringClass::from_token(class.token()), Some(class));
            assert!(seen.insert(class.token()));
        }
        for token in SizeBucket::TOKENS {
            assert_eq!(SizeBucket::from_token(token).map(SizeBucket::token), Some(token));
            assert!(seen.insert(token));
        }
    }

    fn sample() -> Malwicode {
        let mut code = Malwicode::new();
        code.statement(3);
        code.op(Op::LoadName);
        code.name("os");
        code.op(Op::LoadAttr);
        code.category("PROCESS_MANAGEMENT");
        code.op(Op::LoadConst);
        code.string(StringClass::Url, Some(SizeBucket::Medium), Some("https://example.com/x".into()));
        code.op(Op::LoadConst);
        code.verbatim("a b");
        code.op(Op::KwNames);
        code.name("shell");
        code.name("env");
        code.op(Op::Call);
        code.count(3);
        code.statement(4);
        code.op(Op::BinaryOp);
        code.word("+");
        code.op(Op::LoadConst);
        code.number("16");
        code.op(Op::PopTop);
        code
    }

    #[test]
    fn renders_each_argument_as_one_token_and_hashes_the_rendering() {
        let mut code = sample();
        code.prepend_markers(&["FLOW_ENVIRONMENT_TO_NETWORK"]);
        code.prepend_markers(&["PROTECTOR_PYARMOR"]);
        let text = code.render();
        assert_eq!(
            text,
            "PROTECTOR_PYARMOR FLOW_ENVIRONMENT_TO_NETWORK LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT LOAD_CONST \
             STRING_URL STRING_SIZE_M LOAD_CONST 'a\\x20b' KW_NAMES shell env CALL 3 BINARY_OP + LOAD_CONST 16 POP_TOP"
        );
        assert_eq!(code.token_count(), text.split(' ').count());
        assert_eq!(code.tokens().collect::<Vec<_>>(), text.split(' ').collect::<Vec<_>>());
        assert_eq!(code.hash(), hex::encode(Sha256::digest(text.as_bytes())));
        let mut written = Vec::new();
        code.write_tokens(&mut written).unwrap();
        assert_eq!(written, text.as_bytes());
        assert_eq!(std::mem::size_of::<Arg>(), 12, "an argument is a tag and a span");
        assert_eq!(code.categories().collect::<Vec<_>>(), ["PROCESS_MANAGEMENT"]);
        assert_eq!(code.statements(), &[(0, 3), (6, 4)]);
        let call = code.instructions().nth(5).unwrap();
        assert_eq!(call.op, Op::Call);
        assert!(matches!(call.args, [Arg::Count(_)]));
        assert_eq!(code.count_of(&call.args[0]), 3);
        let url = code.instructions().nth(2).unwrap().args[0];
        assert!(matches!(url, Arg::Str { class: StringClass::Url, noted: Some(0) }));
        assert_eq!(code.noted(0), Some("https://example.com/x"));
        assert!(Malwicode::new().is_empty() && Malwicode::new().render().is_empty());
    }

    #[test]
    fn parsing_a_rendering_gives_the_same_tokens() {
        let code = sample();
        let parsed = Malwicode::parse(&code.render(), |t| t == "PROCESS_MANAGEMENT", |_| None);
        assert_eq!(parsed.render(), code.render());
        // Words (operators) read back as names: the same token, another kind.
        let kinds = |c: &Malwicode| {
            c.instructions()
                .flat_map(|i| i.args.iter().copied())
                .filter(|a| !matches!(a, Arg::Word(_) | Arg::Name(_)))
                .map(|a| std::mem::discriminant(&a))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&parsed), kinds(&code));
    }

    #[test]
    fn verbatim_tokens_have_no_whitespace() {
        let mut out = String::new();
        write_verbatim(&mut out, "a b\t'c'\\\u{3000}\u{0}");
        assert_eq!(out, "'a\\x20b\\t\\'c\\'\\\\\\u{3000}\\x00'");
        assert!(!out.chars().any(char::is_whitespace));
    }

    proptest::proptest! {
        #[test]
        fn read_verbatim_undoes_write_verbatim(value in "\\PC{0,24}|[ \t\r\n\\\\'\u{0}-\u{1f}\u{85}\u{a0}\u{2028}\u{3000}a]{0,12}") {
            let mut written = String::new();
            write_verbatim(&mut written, &value);
            proptest::prop_assert_eq!(read_verbatim(&written[1..written.len() - 1]), value);
        }
    }
}

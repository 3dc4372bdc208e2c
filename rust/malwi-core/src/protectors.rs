//! Obfuscators and protectors recognised in source text.
//!
//! [`detect`] reads a file's text once, with a small lexer that knows strings, comments, numbers
//! and identifiers of Python and JavaScript (regular expression and template literals included),
//! and collects signals of known obfuscators as it goes: PyArmor runtime calls and headers, the
//! `lambda`/`__import__` one-liners of pyobfuscate and BlankOBF, Hyperion's `IlIlIl` names,
//! javascript-obfuscator's `_0x` names and string-array rotation, JSFuck, invisible and
//! bidirectional Unicode in code, lookalike letters in identifiers and large high-entropy literals.
//! There is no regular expression and no parse tree: it runs on every scanned file and costs a
//! small fraction of reading it. Most files never reach the lexer: a prefilter of vectorised
//! searches (marker strings, suspicious code points, long space-free stretches) first decides
//! whether anything could fire, and a property test holds it to the lexer's verdict.
//!
//! Every signal is [`Evidence`] with a weight; a protector's confidence is
//! `1 - Π(1 - weight)` over its evidence and a file counts as protected when the best protector
//! reaches [`PROTECTED_AT`]. Signals that ordinary code can show (one `__import__`, `_` as a
//! throwaway name, a zero-width space inside an Arabic string, a big base64 literal) weigh little
//! or need density before they count.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use memchr::{memchr, memchr3, memmem};
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::language::Language;

/// The obfuscators and protectors [`detect`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protector {
    Pyarmor,
    Pyobfuscate,
    Hyperion,
    Blankobf,
    JavascriptObfuscator,
    Jsfuck,
    InvisibleUnicode,
    ConfusableUnicode,
    HighEntropy,
    Custom,
}

impl Protector {
    pub const ALL: &'static [Protector] = &[
        Protector::Pyarmor,
        Protector::Pyobfuscate,
        Protector::Hyperion,
        Protector::Blankobf,
        Protector::JavascriptObfuscator,
        Protector::Jsfuck,
        Protector::InvisibleUnicode,
        Protector::ConfusableUnicode,
        Protector::HighEntropy,
        Protector::Custom,
    ];

    /// The snake_case name, the same as serde writes.
    pub fn name(self) -> &'static str {
        match self {
            Protector::Pyarmor => "pyarmor",
            Protector::Pyobfuscate => "pyobfuscate",
            Protector::Hyperion => "hyperion",
            Protector::Blankobf => "blankobf",
            Protector::JavascriptObfuscator => "javascript_obfuscator",
            Protector::Jsfuck => "jsfuck",
            Protector::InvisibleUnicode => "invisible_unicode",
            Protector::ConfusableUnicode => "confusable_unicode",
            Protector::HighEntropy => "high_entropy",
            Protector::Custom => "custom",
        }
    }
}

/// One signal found in a file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub protector: Protector,
    /// 1-based line of the first (or strongest) occurrence.
    pub line: u32,
    /// Short human text, e.g. `"412 _0x identifiers"`.
    pub signal: String,
    /// 0..1; a protector's confidence is `1 - Π(1 - weight)` over its evidence.
    pub weight: f32,
}

/// What [`detect`] found in one file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    /// The most likely protector, when `confidence >= PROTECTED_AT`.
    pub protector: Option<Protector>,
    /// The best protector's confidence, 0..1.
    pub confidence: f32,
    /// Strongest first, at most [`MAX_EVIDENCE`] entries, one per signal kind and protector.
    pub evidence: Vec<Evidence>,
}

/// Confidence from which a file counts as protected.
pub const PROTECTED_AT: f32 = 0.5;

/// Most evidence entries kept per file.
pub const MAX_EVIDENCE: usize = 16;

impl Detection {
    pub fn is_protected(&self) -> bool {
        self.protector.is_some() && self.confidence >= PROTECTED_AT
    }
}

/// Looks for obfuscators and protectors in a file's text. Linear in the text; never panics.
pub fn detect(text: &str, language: Language) -> Detection {
    if !worth_lexing(text, language) {
        return Detection::default();
    }
    lex_and_judge(text, language)
}

/// The full scan, without the prefilter.
fn lex_and_judge(text: &str, language: Language) -> Detection {
    let mut scanner = Scanner::new(text, language);
    scanner.run();
    scanner.finish()
}

/// Markers without which no Python signal can fire (case-sensitive).
#[rustfmt::skip]
const PYTHON_MARKERS: &[&str] = &[
    "pyarmor", "PYARMOR", "__armor_", "pytransform", "'PY0", "'PY1", "'PY2", "'PY3", "'PY4",
    "'PY5", "'PY6", "'PY7", "'PY8", "'PY9", "\"PY0", "\"PY1", "\"PY2", "\"PY3", "\"PY4", "\"PY5", "\"PY6", "\"PY7",
    "\"PY8", "\"PY9", "\\x50\\x59", "___", "globals()['", "globals()[\"", "__obfuscator__",
];

/// Markers without which no JavaScript signal can fire (case-sensitive).
const JS_MARKERS: &[&str] = &["_0x", "![]", "+[]"];

/// Words of banner comments, looked for in the lowercased first lines.
const BANNER_WORDS: &[&str] = &["obfuscat", "pyarmor", "blankobf", "blank-c", "hyperion", "jsfuck"];

/// The prefilter: whether anything in the text could give evidence. Most files are decided here
/// by a few vectorised searches; the rest go through the lexer. It must never say no where the
/// lexer would find something (a property test holds the two together).
fn worth_lexing(text: &str, language: Language) -> bool {
    trigger(text, language).is_some()
}

/// What makes [`worth_lexing`] say yes (for the corpus report).
fn trigger(text: &str, language: Language) -> Option<&'static str> {
    static MARKERS: OnceLock<[Markers; 3]> = OnceLock::new();
    let [python_markers, js_markers, banner_words] =
        MARKERS.get_or_init(|| [Markers::new(PYTHON_MARKERS), Markers::new(JS_MARKERS), Markers::new(BANNER_WORDS)]);
    let b = text.as_bytes();
    let python = language == Language::Python;
    let (markers, patterns) = if python { (python_markers, PYTHON_MARKERS) } else { (js_markers, JS_MARKERS) };
    if let Some(pattern) = markers.find(b) {
        return Some(patterns[pattern]);
    }
    if python && import_chain(b) {
        return Some("__import__ chain");
    }
    let head_end = memchr::memchr_iter(b'\n', b).nth(BANNER_LINES as usize).unwrap_or(b.len());
    if banner_words.find(&b[..head_end].to_ascii_lowercase()).is_some() {
        return Some("banner word");
    }
    if !b.is_ascii() && suspicious_unicode(text) {
        return Some("unicode");
    }
    if python && lookalike_name_run(b) {
        return Some("I/l/O name");
    }
    if b.len() >= BLOB_MIN && few_spaces_window(b) {
        return Some("few spaces");
    }
    None
}

/// A set of fixed strings: Teddy (vectorised, several GB/s) where the CPU has it, else an
/// Aho-Corasick automaton.
enum Markers {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Markers {
    fn new(patterns: &[&str]) -> Markers {
        match aho_corasick::packed::Config::new().builder().extend(patterns).build() {
            Some(searcher) => Markers::Packed(searcher),
            None => Markers::Automaton(AhoCorasick::new(patterns).expect("protector markers compile")),
        }
    }

    /// The index of a pattern found in `haystack`.
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match self {
            Markers::Packed(searcher) => searcher.find(haystack).map(|m| m.pattern().as_usize()),
            Markers::Automaton(automaton) => automaton.find(haystack).map(|m| m.pattern().as_usize()),
        }
    }
}

/// Whether a line holds `__import__` with one of the words that every `__import__` signal needs
/// on the same physical line (the lexer judges `__import__` chains line by line).
fn import_chain(b: &[u8]) -> bool {
    const COMPANIONS: &[&[u8]] = &[b"lambda", b"marshal", b"builtins", b"bytes", b"getattr"];
    static FINDER: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    let finder = FINDER.get_or_init(|| memmem::Finder::new(b"__import__"));
    let mut checked_to = 0;
    for p in finder.find_iter(b) {
        if p < checked_to {
            continue;
        }
        let start = memchr::memrchr(b'\n', &b[..p]).map_or(0, |k| k + 1);
        let end = memchr(b'\n', &b[p..]).map_or(b.len(), |k| p + k);
        let line = &b[start..end];
        if COMPANIONS.iter().any(|word| memmem::find(line, word).is_some()) {
            return true;
        }
        checked_to = end;
    }
    false
}

/// Whether some stretch of the text could hold a blob: a literal of at least `BLOB_MIN` bytes with
/// at most 1% spaces. Such a literal covers a window of 63 aligned 64-byte chunks holding at
/// most 82 spaces (a longer literal has several disjoint windows sharing its spaces), which code
/// never has: the chunks' spaces are counted with vector instructions and summed in a ring.
fn few_spaces_window(b: &[u8]) -> bool {
    const CHUNK: usize = 64;
    const WINDOW: usize = 63;
    const MAX_SPACES: u32 = 82;
    let mut ring = [0u32; WINDOW];
    let mut sum = 0u32;
    for (k, chunk) in b.chunks_exact(CHUNK).enumerate() {
        let spaces = chunk.iter().fold(0u8, |n, &c| n + (c == b' ') as u8) as u32;
        let slot = k % WINDOW;
        sum = sum + spaces - ring[slot];
        ring[slot] = spaces;
        if k + 1 >= WINDOW && sum <= MAX_SPACES {
            return true;
        }
    }
    false
}

/// Whether a non-ASCII character that can carry a signal occurs (a BOM at the start aside).
fn suspicious_unicode(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    while i < b.len() {
        while i + 16 <= b.len() && b[i..i + 16].is_ascii() {
            i += 16;
        }
        while i < b.len() && b[i] < 0x80 {
            i += 1;
        }
        let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) else { return false };
        if is_invisible(ch) || is_bidi(ch) || ch == '\u{FEFF}' || confusable(ch).is_some() {
            return true;
        }
        i += ch.len_utf8();
    }
    false
}

/// Whether a run of at least six of `I l 1 O 0` holding a capital `I` or `O` occurs.
fn lookalike_name_run(b: &[u8]) -> bool {
    let mut from = 0;
    while let Some(k) = memchr::memchr2(b'I', b'O', &b[from..]) {
        let p = from + k;
        let mut end = p + 1;
        while end < b.len() && is_lookalike_byte(b[end]) {
            end += 1;
        }
        let mut start = p;
        while start > 0 && is_lookalike_byte(b[start - 1]) {
            start -= 1;
        }
        if end - start >= 6 {
            return true;
        }
        from = end;
    }
    false
}

fn is_lookalike_byte(c: u8) -> bool {
    matches!(c, b'I' | b'l' | b'1' | b'O' | b'0')
}

/// Literals from this many bytes are measured for entropy.
const BLOB_MIN: usize = 4096;
/// Bits per character above which a long literal counts as a high-entropy blob.
const BLOB_ENTROPY: f64 = 5.5;
/// A run of JSFuck characters from this length is JSFuck.
const JSFUCK_RUN: u32 = 200;
/// Banners are looked for in comments of the first lines only.
const BANNER_LINES: u32 = 30;
/// Distinct suspicious names remembered per kind (enough for the thresholds and the report).
const DISTINCT_CAP: usize = 256;

/// Kinds of signal; with the protector, the key under which evidence is merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sig {
    Banner,
    PyarmorCall,
    PyarmorRuntime,
    PytransformImport,
    ArmorHooks,
    PyarmorHeader,
    LambdaDecoder,
    ReversedPayload,
    ExecMarshal,
    ImportBuiltins,
    BytesDecodedImport,
    UnderscoreNames,
    GetattrImport,
    GlobalsDispatch,
    LookalikeNames,
    BuiltinsStarImport,
    HexNames,
    StringArray,
    RotationLoop,
    HexLiterals,
    JsfuckRun,
    JsfuckPrefix,
    InvisibleIdentifier,
    BidiCode,
    BomInside,
    InvisibleString,
    BidiString,
    BidiComment,
    MixedScript,
    LookalikeIdentifier,
    EntropyBlob,
    BlobDominant,
    ExecBlob,
    ObfuscatorMarker,
}

struct Found {
    protector: Protector,
    sig: Sig,
    line: u32,
    weight: f32,
    signal: String,
}

/// Byte classes of the code state.
const OTHER: u8 = 0;
const WS: u8 = 1;
const NL: u8 = 2;
const IDENT: u8 = 3;
const DIGIT: u8 = 4;
const QUOTE: u8 = 5;
const BACKTICK: u8 = 6;
const HASH: u8 = 7;
const SLASH: u8 = 8;
const JSF: u8 = 9;
const NONASCII: u8 = 10;
const LBRACE: u8 = 11;
const RBRACE: u8 = 12;

const CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b' ' | b'\t' | b'\r' | 0x0B | 0x0C => WS,
            b'\n' => NL,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'$' => IDENT,
            b'0'..=b'9' => DIGIT,
            b'\'' | b'"' => QUOTE,
            b'`' => BACKTICK,
            b'#' => HASH,
            b'/' => SLASH,
            b'[' | b']' | b'(' | b')' | b'!' | b'+' => JSF,
            b'{' => LBRACE,
            b'}' => RBRACE,
            0x80..=0xFF => NONASCII,
            _ => OTHER,
        };
        i += 1;
    }
    table
};

const IDENT_CONT: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'$');
        i += 1;
    }
    table
};

/// Per physical line, what a Python `__import__` chain is made of.
#[derive(Default)]
struct LineFlags {
    imports: u32,
    lambda: bool,
    exec: bool,
    decoder: bool,
    decoder_module: bool,
    loads: bool,
    marshal: bool,
    builtins: bool,
    getattr: bool,
    reversed: bool,
    bytes_list: bool,
}

/// The largest literal of the file, for the exec-of-a-blob signal.
#[derive(Default)]
struct Literal {
    len: usize,
    line: u32,
    newlines: u32,
    encoded: bool,
}

/// Suspicious names of one kind: occurrences, first line, distinct names (capped).
struct Names<'a> {
    count: u32,
    line: u32,
    distinct: FxHashSet<&'a str>,
}

impl<'a> Names<'a> {
    fn new() -> Self {
        Names { count: 0, line: 0, distinct: FxHashSet::default() }
    }

    fn add(&mut self, name: &'a str, line: u32) {
        if self.count == 0 {
            self.line = line;
        }
        self.count += 1;
        if self.distinct.len() < DISTINCT_CAP {
            self.distinct.insert(name);
        }
    }

    fn example(&self) -> &'a str {
        self.distinct.iter().copied().min_by_key(|name| (name.len(), *name)).unwrap_or("")
    }
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    python: bool,
    line: u32,
    found: Vec<Found>,
    /// JavaScript: whether the last token ends an operand (then `/` divides).
    prev_operand: bool,
    idents: u32,
    // Python.
    flags: LineFlags,
    exec_calls: u32,
    lambda_decoder: Option<(u32, bool)>,
    underscore: Names<'a>,
    lookalike: Names<'a>,
    getattr_import: (u32, u32),
    globals_dispatch: (u32, u32),
    builtins_star: Option<u32>,
    pending_obfuscator: Option<u32>,
    // JavaScript.
    hex_names: Names<'a>,
    string_array: Option<u32>,
    while_bang: Option<u32>,
    parse_int: u32,
    push: bool,
    shift: bool,
    numbers: u32,
    hex_literals: (u32, u32),
    jsf_run: u32,
    jsf_line: u32,
    jsf_start: usize,
    jsf_end: usize,
    depth: u32,
    templates: Vec<u32>,
    // Literals.
    blob_bytes: usize,
    biggest: Literal,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, language: Language) -> Self {
        Scanner {
            text,
            b: text.as_bytes(),
            python: language == Language::Python,
            line: 1,
            found: Vec::new(),
            prev_operand: false,
            idents: 0,
            flags: LineFlags::default(),
            exec_calls: 0,
            lambda_decoder: None,
            underscore: Names::new(),
            lookalike: Names::new(),
            getattr_import: (0, 0),
            globals_dispatch: (0, 0),
            builtins_star: None,
            pending_obfuscator: None,
            hex_names: Names::new(),
            string_array: None,
            while_bang: None,
            parse_int: 0,
            push: false,
            shift: false,
            numbers: 0,
            hex_literals: (0, 0),
            jsf_run: 0,
            jsf_line: 0,
            jsf_start: 0,
            jsf_end: 0,
            depth: 0,
            templates: Vec::new(),
            blob_bytes: 0,
            biggest: Literal::default(),
        }
    }

    fn record(&mut self, protector: Protector, sig: Sig, line: u32, weight: f32, signal: impl FnOnce() -> String) {
        if let Some(found) = self.found.iter_mut().find(|f| f.protector == protector && f.sig == sig) {
            if weight > found.weight {
                *found = Found { protector, sig, line, weight, signal: signal() };
            }
            return;
        }
        self.found.push(Found { protector, sig, line, weight, signal: signal() });
    }

    // ----- the lexer -----

    fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        if b.starts_with("\u{FEFF}".as_bytes()) {
            i = 3;
        }
        if b[i..].starts_with(b"#!") {
            i = memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
        }
        while i < n {
            let c = b[i];
            match CLASS[c as usize] {
                WS => {
                    i += 1;
                    while i < n && b[i] == b' ' {
                        i += 1;
                    }
                }
                NL => {
                    self.end_line();
                    i += 1;
                }
                IDENT => {
                    self.break_jsf();
                    i = self.ident(i);
                }
                DIGIT => {
                    self.break_jsf();
                    i = self.number(i);
                }
                QUOTE => {
                    self.break_jsf();
                    i = self.string(i, false);
                }
                BACKTICK if !self.python => {
                    self.break_jsf();
                    i = self.template(i + 1);
                }
                HASH if self.python => {
                    self.break_jsf();
                    i = self.line_comment(i + 1);
                }
                SLASH if !self.python => {
                    self.break_jsf();
                    i = match b.get(i + 1) {
                        Some(b'/') => self.line_comment(i + 2),
                        Some(b'*') => self.block_comment(i),
                        _ if !self.prev_operand => self.regex(i + 1),
                        _ => {
                            self.prev_operand = false;
                            i + 1
                        }
                    };
                }
                JSF => {
                    self.jsf_char(i);
                    i += 1;
                }
                LBRACE => {
                    self.break_jsf();
                    self.depth += 1;
                    self.prev_operand = false;
                    i += 1;
                }
                RBRACE => {
                    self.break_jsf();
                    self.depth = self.depth.saturating_sub(1);
                    if !self.python && self.templates.last() == Some(&self.depth) {
                        self.templates.pop();
                        i = self.template(i + 1);
                    } else {
                        self.prev_operand = true;
                        i += 1;
                    }
                }
                NONASCII => i = self.non_ascii(i),
                _ => {
                    self.break_jsf();
                    self.prev_operand = false;
                    i += 1;
                }
            }
        }
        self.break_jsf();
        self.flush_line();
    }

    /// A newline in code: Python's per-line flags are judged and reset.
    fn end_line(&mut self) {
        self.flush_line();
        self.line += 1;
    }

    fn skip_spaces(&self, mut j: usize) -> usize {
        while j < self.b.len() && matches!(self.b[j], b' ' | b'\t') {
            j += 1;
        }
        j
    }

    fn at(&self, j: usize, pattern: &[u8]) -> bool {
        self.b.get(j..).is_some_and(|rest| rest.starts_with(pattern))
    }

    fn char_at(&self, i: usize) -> Option<char> {
        if self.text.is_char_boundary(i) {
            self.text[i..].chars().next()
        } else {
            None
        }
    }

    fn ident(&mut self, start: usize) -> usize {
        let b = self.b;
        let n = b.len();
        let mut j = start;
        let mut non_ascii = false;
        loop {
            while j < n && IDENT_CONT[b[j] as usize] {
                j += 1;
            }
            if j < n && b[j] >= 0x80 {
                match self.char_at(j) {
                    Some(ch) if !is_bidi(ch) && !is_space_like(ch) => {
                        non_ascii = true;
                        j += ch.len_utf8();
                        continue;
                    }
                    _ => {}
                }
            }
            break;
        }
        if j == start {
            // Not a character boundary (cannot happen for valid text); step over the byte.
            return start + 1;
        }
        let name = &self.text[start..j];
        if self.python && j < n && matches!(b[j], b'\'' | b'"') && is_string_prefix(name) {
            return self.string(j, name.bytes().any(|c| c == b'b' || c == b'B'));
        }
        self.idents += 1;
        if non_ascii {
            self.unicode_ident(name);
        }
        if self.python {
            self.python_ident(name, j);
        } else {
            self.js_ident(name, start, j);
        }
        j
    }

    fn python_ident(&mut self, name: &'a str, end: usize) {
        let line = self.line;
        let bytes = name.as_bytes();
        if bytes[0] == b'_' {
            if bytes.len() >= 2 && bytes.iter().all(|&c| c == b'_') {
                self.underscore.add(name, line);
                return;
            }
            match name {
                "__import__" => self.flags.imports += 1,
                "__pyarmor__" => self.record(Protector::Pyarmor, Sig::PyarmorCall, line, 0.9, || {
                    "pyarmor runtime call __pyarmor__".to_string()
                }),
                "__armor_enter__" | "__armor_exit__" | "__armor_wrap__" => {
                    self.record(Protector::Pyarmor, Sig::ArmorHooks, line, 0.9, || format!("pyarmor hook {name}"))
                }
                "__obfuscator__" => self.pending_obfuscator = Some(line),
                _ => {}
            }
            return;
        }
        if bytes.len() >= 6
            && matches!(bytes[0], b'I' | b'l' | b'O')
            && bytes.iter().all(|&c| is_lookalike_byte(c))
            && bytes.iter().any(|&c| c != bytes[0])
            && bytes.iter().any(|&c| c == b'I' || c == b'O')
        {
            self.lookalike.add(name, line);
            return;
        }
        match name {
            "lambda" => self.flags.lambda = true,
            "exec" | "eval" => {
                self.flags.exec = true;
                self.exec_calls += 1;
            }
            "decompress" | "b64decode" | "b32decode" | "b16decode" | "b85decode" | "a85decode" | "unhexlify"
            | "decodebytes" | "urlsafe_b64decode" => self.flags.decoder = true,
            "loads" => self.flags.loads = true,
            "marshal" => self.flags.marshal = true,
            "builtins" => self.flags.builtins = true,
            "bytes" => {
                let j = self.skip_spaces(end);
                if self.at(j, b"([") {
                    self.flags.bytes_list = true;
                }
            }
            "getattr" => {
                let j = self.skip_spaces(end);
                if self.at(j, b"(") && self.at(self.skip_spaces(j + 1), b"__import__") {
                    self.flags.getattr = true;
                    if self.getattr_import.0 == 0 {
                        self.getattr_import.1 = line;
                    }
                    self.getattr_import.0 += 1;
                }
            }
            "globals" if self.at(end, b"()[") && matches!(self.b.get(end + 3), Some(b'\'' | b'"')) => {
                if self.globals_dispatch.0 == 0 {
                    self.globals_dispatch.1 = line;
                }
                self.globals_dispatch.0 += 1;
            }
            "from" => self.import_from(end),
            _ if name.starts_with("pyarmor_runtime") => {
                self.record(Protector::Pyarmor, Sig::PyarmorRuntime, line, 0.9, || format!("pyarmor runtime {name}"))
            }
            _ => {}
        }
    }

    /// `from pytransform import ...`, `from builtins import *`.
    fn import_from(&mut self, end: usize) {
        let j = self.skip_spaces(end);
        let module_end = j + self.b[j..].iter().take_while(|&&c| IDENT_CONT[c as usize] || c == b'.').count();
        let module = &self.b[j..module_end];
        if module != b"pytransform" && module != b"builtins" {
            return;
        }
        let k = self.skip_spaces(module_end);
        if !self.at(k, b"import") {
            return;
        }
        if module == b"pytransform" {
            self.record(Protector::Pyarmor, Sig::PytransformImport, self.line, 0.9, || {
                "pyarmor loader: from pytransform import".to_string()
            });
        } else if self.at(self.skip_spaces(k + 6), b"*") {
            self.builtins_star.get_or_insert(self.line);
        }
    }

    fn js_ident(&mut self, name: &'a str, start: usize, end: usize) {
        let line = self.line;
        let bytes = name.as_bytes();
        if bytes[0] == b'_' && is_hex_name(bytes) {
            self.hex_names.add(name, line);
            if self.string_array.is_none() {
                let j = self.skip_spaces(end);
                if self.at(j, b"=")
                    && !self.at(j, b"==")
                    && !self.at(j, b"=>")
                    && self.at(self.skip_spaces(j + 1), b"[")
                {
                    self.string_array = Some(line);
                }
            }
            self.prev_operand = true;
            return;
        }
        match name {
            "while" => {
                let j = self.skip_spaces(end);
                if self.at(j, b"(") && self.at(self.skip_spaces(j + 1), b"!![]") {
                    self.while_bang.get_or_insert(line);
                }
            }
            "parseInt" => self.parse_int += 1,
            "push" if start > 0 && self.b[start - 1] == b'.' => self.push = true,
            "shift" if start > 0 && self.b[start - 1] == b'.' => self.shift = true,
            "eval" | "Function" => self.exec_calls += 1,
            _ => {}
        }
        self.prev_operand = !matches!(
            name,
            "return"
                | "typeof"
                | "instanceof"
                | "in"
                | "of"
                | "new"
                | "delete"
                | "void"
                | "throw"
                | "case"
                | "do"
                | "else"
                | "yield"
                | "await"
                | "extends"
        );
    }

    fn number(&mut self, start: usize) -> usize {
        let b = self.b;
        let hex = b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X'));
        let mut j = start + 1;
        while j < b.len() && (IDENT_CONT[b[j] as usize] || b[j] == b'.') {
            j += 1;
        }
        self.numbers += 1;
        if hex && j > start + 2 {
            if self.hex_literals.0 == 0 {
                self.hex_literals.1 = self.line;
            }
            self.hex_literals.0 += 1;
        }
        self.prev_operand = true;
        j
    }

    fn jsf_char(&mut self, i: usize) {
        if self.jsf_run == 0 {
            self.jsf_line = self.line;
            self.jsf_start = i;
        }
        self.jsf_run += 1;
        self.jsf_end = i + 1;
        match self.b[i] {
            b'[' => {
                if self.python {
                    if self.at(i, b"[::-1]") {
                        self.flags.reversed = true;
                    }
                } else if self.at(i, b"[][(![]+[])") {
                    let line = self.line;
                    self.record(Protector::Jsfuck, Sig::JsfuckPrefix, line, 0.7, || {
                        "JSFuck expression [][(![]+[])".to_string()
                    });
                }
                self.prev_operand = false;
            }
            b']' | b')' => self.prev_operand = true,
            _ => self.prev_operand = false,
        }
    }

    #[inline]
    fn break_jsf(&mut self) {
        if self.jsf_run != 0 {
            self.end_jsf();
        }
    }

    /// The end of a run of `[]()!+`: JSFuck when long and made of its atoms (`![]`, `+[]`).
    fn end_jsf(&mut self) {
        let run = std::mem::take(&mut self.jsf_run);
        if run < JSFUCK_RUN || self.python {
            return;
        }
        let bytes = &self.b[self.jsf_start..self.jsf_end];
        if memmem::find(bytes, b"![]").is_none() && memmem::find(bytes, b"+[]").is_none() {
            return;
        }
        let line = self.jsf_line;
        self.record(Protector::Jsfuck, Sig::JsfuckRun, line, 0.95, || format!("{run} characters made only of []()!+"));
    }

    /// A quoted string at `q` (single or, in Python, triple quoted).
    fn string(&mut self, q: usize, is_bytes: bool) -> usize {
        let b = self.b;
        let n = b.len();
        let quote = b[q];
        let start_line = self.line;
        let triple = self.python && self.at(q, &[quote, quote, quote]);
        let content_start = if triple { q + 3 } else { q + 1 };
        let mut j = content_start;
        let (end, after) = loop {
            let Some(k) = memchr3(quote, b'\\', b'\n', &b[j.min(n)..]) else { break (n, n) };
            let p = j + k;
            match b[p] {
                b'\n' if triple => {
                    self.end_line();
                    j = p + 1;
                }
                b'\n' => break (p, p),
                b'\\' => {
                    j = p + 2;
                    if b.get(p + 1) == Some(&b'\n') {
                        self.end_line();
                    } else if b.get(p + 1) == Some(&b'\r') && b.get(p + 2) == Some(&b'\n') {
                        self.end_line();
                        j = p + 3;
                    }
                }
                _ if !triple => break (p, p + 1),
                _ if self.at(p, &[quote, quote, quote]) => break (p, p + 3),
                _ => j = p + 1,
            }
        };
        self.literal(content_start, end.min(n), start_line, is_bytes);
        self.prev_operand = true;
        after.min(n)
    }

    /// A JavaScript template literal from after its backtick (or after the `}` of a `${`).
    fn template(&mut self, start: usize) -> usize {
        let b = self.b;
        let n = b.len();
        let start_line = self.line;
        let mut j = start;
        loop {
            let Some(k) = memchr3(b'`', b'\\', b'$', &b[j.min(n)..]) else {
                self.count_lines(j.min(n), n);
                self.literal(start, n, start_line, false);
                return n;
            };
            let p = j + k;
            match b[p] {
                b'\\' => {
                    self.count_lines(j, (p + 2).min(n));
                    j = p + 2;
                }
                b'$' if b.get(p + 1) == Some(&b'{') => {
                    self.count_lines(j, p);
                    self.literal(start, p, start_line, false);
                    self.templates.push(self.depth);
                    self.depth += 1;
                    self.prev_operand = false;
                    return p + 2;
                }
                b'$' => {
                    self.count_lines(j, p + 1);
                    j = p + 1;
                }
                _ => {
                    self.count_lines(j, p);
                    self.literal(start, p, start_line, false);
                    self.prev_operand = true;
                    return p + 1;
                }
            }
        }
    }

    fn count_lines(&mut self, from: usize, to: usize) {
        if from < to {
            self.line += memchr::memchr_iter(b'\n', &self.b[from..to]).count() as u32;
        }
    }

    fn regex(&mut self, start: usize) -> usize {
        let b = self.b;
        let mut j = start;
        let mut class = false;
        while j < b.len() {
            match b[j] {
                b'\n' => break,
                b'\\' if b.get(j + 1) == Some(&b'\n') => break,
                b'\\' => j += 2,
                b'[' => {
                    class = true;
                    j += 1;
                }
                b']' => {
                    class = false;
                    j += 1;
                }
                b'/' if !class => {
                    j += 1;
                    while j < b.len() && IDENT_CONT[b[j] as usize] {
                        j += 1;
                    }
                    break;
                }
                _ => j += 1,
            }
        }
        self.prev_operand = true;
        j.min(b.len())
    }

    /// A line comment whose text starts at `body`; ends before the newline.
    fn line_comment(&mut self, body: usize) -> usize {
        let n = self.b.len();
        let end = memchr(b'\n', &self.b[body.min(n)..]).map_or(n, |k| body + k);
        self.comment(body.min(end), end, self.line);
        end
    }

    fn block_comment(&mut self, start: usize) -> usize {
        let n = self.b.len();
        let body = start + 2;
        let line = self.line;
        let (end, after) = match memmem::find(&self.b[body.min(n)..], b"*/") {
            Some(k) => (body + k, body + k + 2),
            None => (n, n),
        };
        let end = end.max(body.min(n));
        self.comment(body.min(n), end, line);
        self.count_lines(body.min(n), end);
        after
    }

    fn comment(&mut self, start: usize, end: usize, line: u32) {
        let text = &self.text[start..end];
        if line <= BANNER_LINES {
            // Only the part of the comment on the first lines counts (as for the prefilter).
            let lines_left = (BANNER_LINES - line) as usize;
            let head = memchr::memchr_iter(b'\n', text.as_bytes()).nth(lines_left).map_or(text, |k| &text[..k]);
            self.banner(head, line, false);
        }
        if !text.is_ascii() {
            self.unicode_text(text, line, true);
        }
    }

    /// Code position holding a non-ASCII character.
    fn non_ascii(&mut self, i: usize) -> usize {
        let Some(ch) = self.char_at(i) else { return i + 1 };
        let line = self.line;
        if ch == '\u{FEFF}' {
            self.record(Protector::InvisibleUnicode, Sig::BomInside, line, 0.2, || {
                "byte order mark U+FEFF inside the file".to_string()
            });
            return i + 3;
        }
        if is_space_like(ch) {
            return i + ch.len_utf8();
        }
        self.break_jsf();
        if is_bidi(ch) {
            self.record(Protector::InvisibleUnicode, Sig::BidiCode, line, 0.9, || {
                format!("bidirectional control {} in code", code_point(ch))
            });
            return i + ch.len_utf8();
        }
        self.ident(i)
    }

    // ----- judging tokens -----

    /// A Python line containing `__import__`: which obfuscator's chain is it?
    fn flush_line(&mut self) {
        if !self.python || self.flags.imports == 0 {
            self.flags = LineFlags::default();
            return;
        }
        let f = std::mem::take(&mut self.flags);
        let line = self.line;
        let decodes = f.decoder_module && (f.decoder || f.loads);
        if f.lambda && decodes {
            match self.lambda_decoder {
                Some((_, true)) => {}
                Some((_, false)) if !f.exec => {}
                _ => self.lambda_decoder = Some((line, f.exec)),
            }
            if f.reversed {
                self.record(Protector::Pyobfuscate, Sig::ReversedPayload, line, 0.4, || {
                    "payload reversed with [::-1] before decoding".to_string()
                });
            }
        }
        if f.exec && f.marshal && f.loads {
            self.record(Protector::Blankobf, Sig::ExecMarshal, line, 0.6, || {
                "exec of __import__('marshal').loads(...)".to_string()
            });
        }
        if f.builtins && (f.exec || f.getattr) {
            self.record(Protector::Blankobf, Sig::ImportBuiltins, line, 0.5, || {
                "exec/getattr through __import__('builtins')".to_string()
            });
        }
        if f.bytes_list {
            self.record(Protector::Blankobf, Sig::BytesDecodedImport, line, 0.5, || {
                "module names hidden as bytes([...]) next to __import__".to_string()
            });
        }
    }

    /// Identifiers with non-ASCII characters: invisible characters and lookalike letters.
    fn unicode_ident(&mut self, name: &str) {
        let line = self.line;
        let mut invisible = None;
        let mut visible = 0u32;
        let mut other_letters = 0u32;
        for ch in name.chars() {
            if is_invisible(ch) {
                invisible.get_or_insert(ch);
            } else {
                visible += 1;
                if !ch.is_ascii() && confusable(ch).is_none() && ch.is_alphabetic() {
                    other_letters += 1;
                }
            }
        }
        if let Some(ch) = invisible {
            // ZWNJ/ZWJ are legitimate inside Persian and Indic words.
            let joiner_in_word = matches!(ch, '\u{200C}' | '\u{200D}') && other_letters > 0;
            if !joiner_in_word {
                let shown = escape(name);
                self.record(Protector::InvisibleUnicode, Sig::InvisibleIdentifier, line, 0.9, || {
                    if visible == 0 {
                        format!("identifier made only of invisible {} `{shown}`", code_point(ch))
                    } else {
                        format!("invisible character {} in identifier `{shown}`", code_point(ch))
                    }
                });
            }
        }
        self.confusable_ident(name, line);
    }

    fn confusable_ident(&mut self, name: &str, line: u32) {
        // Words are split at `_` and digits: `ρ_max` is a Greek letter next to a word, not a mix.
        let mut mixed: Option<Script> = None;
        let mut all_lookalike = true;
        let mut lookalikes = 0u32;
        let mut cyrillic = false;
        for word in name.split(|c: char| c == '_' || c.is_ascii_digit()) {
            let (mut ascii, mut alike, mut other) = (0u32, 0u32, 0u32);
            let mut script: Option<Script> = None;
            for ch in word.chars() {
                if ch.is_ascii_alphabetic() {
                    ascii += 1;
                } else if let Some((_, found)) = confusable(ch) {
                    alike += 1;
                    script = script.max(Some(found));
                } else if !is_invisible(ch) {
                    other += 1;
                }
            }
            lookalikes += alike;
            cyrillic |= script == Some(Script::Cyrillic);
            if ascii > 0 || other > 0 {
                all_lookalike = false;
            }
            if alike > 0 && ascii > 0 && other == 0 {
                mixed = mixed.max(script);
            }
        }
        if lookalikes == 0 {
            return;
        }
        let skeleton: String = name.chars().map(|ch| confusable(ch).map_or(ch, |(ascii, _)| ascii)).collect();
        let sensitive = SENSITIVE_NAMES.contains(&skeleton.as_str());
        let shown = escape(name);
        if let Some(script) = mixed {
            let weight = match script {
                _ if sensitive => 0.85,
                Script::Cyrillic => 0.85,
                Script::Greek => 0.7,
                // `dρ`, `αmax`: Greek letters of mathematics next to Latin ones are ordinary.
                Script::GreekMath => return,
            };
            self.record(Protector::ConfusableUnicode, Sig::MixedScript, line, weight, || {
                format!("identifier `{shown}` mixes Latin with {} lookalikes of `{skeleton}`", script.name())
            });
        } else if all_lookalike && lookalikes >= 2 {
            let weight = if sensitive {
                0.9
            } else if cyrillic && lookalikes >= 3 {
                0.45
            } else {
                return;
            };
            self.record(Protector::ConfusableUnicode, Sig::LookalikeIdentifier, line, weight, || {
                format!("identifier `{shown}` is spelled in lookalike letters of `{skeleton}`")
            });
        }
    }

    /// A string literal's content (`start..end`), which began on `line`.
    fn literal(&mut self, start: usize, end: usize, line: u32, is_bytes: bool) {
        let content = &self.text[start..end];
        let len = end - start;
        if len <= 8 {
            if self.python {
                match content {
                    "zlib" | "base64" | "lzma" | "bz2" | "gzip" | "binascii" | "codecs" => {
                        self.flags.decoder_module = true
                    }
                    "marshal" => {
                        self.flags.decoder_module = true;
                        self.flags.marshal = true;
                    }
                    "builtins" => self.flags.builtins = true,
                    _ => {}
                }
            } else {
                match content {
                    "push" => self.push = true,
                    "shift" => self.shift = true,
                    _ => {}
                }
            }
        }
        if self.python && is_bytes && is_pyarmor_header(content.as_bytes()) {
            let head: String = content.chars().take(8).collect();
            self.record(Protector::Pyarmor, Sig::PyarmorHeader, line, 0.9, || {
                format!("pyarmor header b'{head}' in a bytes literal")
            });
        }
        if self.pending_obfuscator.take_if(|marker| *marker == line).is_some() {
            self.banner(content, line, true);
        }
        if !content.is_ascii() {
            self.unicode_text(content, line, false);
        }
        if len >= BLOB_MIN {
            self.blob(start, end, line);
        }
    }

    /// A long literal: high entropy, and whether it could be the payload of an exec.
    fn blob(&mut self, start: usize, end: usize, line: u32) {
        let bytes = &self.b[start..end];
        let head = &bytes[..bytes.len().min(64)];
        let trimmed = head.trim_ascii_start();
        if trimmed.len() >= 5 && trimmed[..5].eq_ignore_ascii_case(b"data:") {
            return;
        }
        let before = &self.b[start.saturating_sub(24)..start];
        if memmem::find(before, b"mappings").is_some() {
            return;
        }
        let mut histogram = [0u32; 256];
        for &c in bytes {
            histogram[c as usize] += 1;
        }
        let newlines = histogram[b'\n' as usize];
        let spaces = histogram[b' ' as usize] + histogram[b'\t' as usize];
        let counted = bytes.len() as u32 - newlines - spaces - histogram[b'\r' as usize];
        let encoded_chars: u32 = histogram
            .iter()
            .enumerate()
            .filter(|(c, _)| {
                let c = *c as u8;
                c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-' | b'\\')
            })
            .map(|(_, count)| *count)
            .sum();
        // Text with spaces is prose or code, not an encoded blob.
        if spaces as usize * 100 > bytes.len() {
            return;
        }
        let encoded = encoded_chars as u64 * 100 >= counted as u64 * 95;
        if bytes.len() > self.biggest.len {
            self.biggest = Literal { len: bytes.len(), line, newlines, encoded };
        }
        if counted == 0 {
            return;
        }
        let total = counted as f64;
        let entropy: f64 = histogram
            .iter()
            .enumerate()
            .filter(|&(c, &count)| count > 0 && !matches!(c as u8, b'\n' | b' ' | b'\t' | b'\r'))
            .map(|(_, &count)| {
                let p = count as f64 / total;
                -p * p.log2()
            })
            .sum();
        if entropy > BLOB_ENTROPY {
            self.blob_bytes += bytes.len();
            let size = bytes.len();
            self.record(Protector::HighEntropy, Sig::EntropyBlob, line, 0.3, || {
                format!("high-entropy literal of {} ({entropy:.2} bits/char)", human_size(size))
            });
        }
    }

    /// Invisible and bidirectional characters inside a string literal or a comment.
    fn unicode_text(&mut self, text: &str, first_line: u32, in_comment: bool) {
        // Most non-ASCII text (accents, dashes, CJK, Cyrillic) has no hidden character at all.
        if !has_hidden_char(text.as_bytes()) {
            return;
        }
        let mut line = first_line;
        let mut letters = 0u32;
        let mut invisible: Option<(char, u32)> = None;
        let mut bidi: Option<(char, u32)> = None;
        for ch in text.chars() {
            if ch == '\n' {
                line += 1;
            } else if ch.is_ascii() {
            } else if is_bidi(ch) {
                bidi.get_or_insert((ch, line));
            } else if is_invisible(ch) || ch == '\u{FEFF}' {
                invisible.get_or_insert((ch, line));
            } else if letters < 2 && ch.is_alphabetic() {
                letters += 1;
            }
        }
        // Marks between words of right-to-left or Indic text are ordinary typography.
        let prose = letters >= 2;
        if in_comment {
            if let Some((ch, line)) = bidi.filter(|_| !prose) {
                self.record(Protector::InvisibleUnicode, Sig::BidiComment, line, 0.3, || {
                    format!("bidirectional control {} in a comment", code_point(ch))
                });
            }
            return;
        }
        if let Some((ch, line)) = bidi {
            let weight = if prose { 0.05 } else { 0.45 };
            self.record(Protector::InvisibleUnicode, Sig::BidiString, line, weight, || {
                format!("bidirectional control {} in a string literal", code_point(ch))
            });
        }
        if let Some((ch, line)) = invisible {
            let weight = if prose { 0.05 } else { 0.3 };
            self.record(Protector::InvisibleUnicode, Sig::InvisibleString, line, weight, || {
                format!("invisible character {} in a string literal", code_point(ch))
            });
        }
    }

    /// A comment of the first lines (or the value of `__obfuscator__`) naming an obfuscator.
    fn banner(&mut self, text: &str, line: u32, marker: bool) {
        let text = &text[..floor_boundary(text, 2048)];
        let lower = text.to_ascii_lowercase();
        let claims = marker
            || ["obfuscated", "protected", "encrypted", "encoded", "packed"].iter().any(|word| lower.contains(word));
        let pyarmor_header = lower.trim_start().starts_with("pyarmor ")
            && lower.trim_start()[8..].starts_with(|c: char| c.is_ascii_digit());
        let tools: &[(&str, Protector)] = if self.python {
            &[
                ("pyarmor", Protector::Pyarmor),
                ("pyobfuscate", Protector::Pyobfuscate),
                ("blankobf", Protector::Blankobf),
                ("blank-c", Protector::Blankobf),
                ("hyperion", Protector::Hyperion),
            ]
        } else {
            &[
                ("javascript-obfuscator", Protector::JavascriptObfuscator),
                ("obfuscator.io", Protector::JavascriptObfuscator),
                ("jsfuck", Protector::Jsfuck),
            ]
        };
        for &(tool, protector) in tools {
            if lower.contains(tool) && (claims || (protector == Protector::Pyarmor && pyarmor_header)) {
                let shown: String = text.trim().chars().take(60).collect();
                self.record(protector, Sig::Banner, line, 0.85, || format!("banner naming {tool}: {shown}"));
                return;
            }
        }
        let generic = ["obfuscated by", "obfuscated with", "obfuscated using", "obfuscator:"];
        if marker || generic.iter().any(|phrase| lower.contains(phrase)) {
            let shown: String = text.trim().chars().take(60).collect();
            self.record(Protector::Custom, Sig::ObfuscatorMarker, line, 0.4, || format!("obfuscator banner: {shown}"));
        }
    }

    // ----- the verdict -----

    fn finish(mut self) -> Detection {
        let idents = self.idents.max(1);
        if self.python {
            self.python_counts(idents);
        } else {
            self.js_counts();
        }
        let n = self.b.len();
        if self.blob_bytes > 0 && self.blob_bytes * 10 > n * 8 {
            let share = self.blob_bytes * 100 / n.max(1);
            let line = self.found.iter().find(|f| f.sig == Sig::EntropyBlob).map_or(1, |f| f.line);
            // Data files (search indexes, embedded fonts, wasm) are mostly blob too: only a file
            // that also evaluates code gets the full weight.
            let exec = self.exec_calls > 0;
            let weight = if exec { 0.3 } else { 0.1 };
            self.record(Protector::HighEntropy, Sig::BlobDominant, line, weight, || {
                if exec {
                    format!("high-entropy literals are {share}% of a file that calls exec/eval")
                } else {
                    format!("high-entropy literals are {share}% of the file")
                }
            });
        }
        let big = &self.biggest;
        let code_lines = self.line.saturating_sub(big.newlines);
        if big.encoded && big.len * 10 > n * 9 && code_lines < 10 && self.exec_calls > 0 {
            let (line, share) = (big.line, big.len * 100 / n.max(1));
            self.record(Protector::Custom, Sig::ExecBlob, line, 0.6, || {
                format!("exec/eval next to one encoded literal that is {share}% of the file")
            });
        }
        verdict(self.found)
    }

    fn python_counts(&mut self, idents: u32) {
        if let Some((line, exec)) = self.lambda_decoder {
            let weight = if exec { 0.85 } else { 0.45 };
            self.record(Protector::Pyobfuscate, Sig::LambdaDecoder, line, weight, || {
                if exec {
                    "lambda decoder built from __import__ chains, exec'd on the same line".to_string()
                } else {
                    "lambda decoder built from __import__ chains".to_string()
                }
            });
        }
        let u = &self.underscore;
        let long_names = u.distinct.iter().filter(|name| name.len() >= 3).count();
        if u.count >= 10 && long_names >= 2 && u.count * 100 >= idents * 3 {
            let (count, line, distinct) = (u.count, u.line, u.distinct.len());
            self.record(Protector::Blankobf, Sig::UnderscoreNames, line, 0.6, || {
                format!("{count} uses of {distinct} underscore-only names")
            });
        }
        let l = &self.lookalike;
        let (count, line, distinct, example) = (l.count, l.line, l.distinct.len(), l.example());
        let weight = if count >= 10 && distinct >= 3 && count * 100 >= idents * 5 {
            0.8
        } else if count >= 3 && distinct >= 2 {
            0.4
        } else {
            0.0
        };
        if weight > 0.0 {
            self.record(Protector::Hyperion, Sig::LookalikeNames, line, weight, || {
                format!("{count} uses of {distinct} names made of I l 1 O 0 (e.g. {example})")
            });
            if let Some(line) = self.builtins_star {
                self.record(Protector::Hyperion, Sig::BuiltinsStarImport, line, 0.4, || {
                    "from builtins import * with I/l names".to_string()
                });
            }
        }
        let (count, line) = self.getattr_import;
        if count >= 3 {
            self.record(Protector::Blankobf, Sig::GetattrImport, line, 0.35, || {
                format!("{count} getattr(__import__(...)) dispatches")
            });
        }
        let (count, line) = self.globals_dispatch;
        if count >= 10 {
            self.record(Protector::Blankobf, Sig::GlobalsDispatch, line, 0.3, || {
                format!("{count} globals()['...'] lookups")
            });
        }
    }

    fn js_counts(&mut self) {
        let h = &self.hex_names;
        let (count, line, distinct, example) = (h.count, h.line, h.distinct.len(), h.example());
        let weight = if count >= 20 && distinct >= 3 {
            0.8
        } else if count >= 5 && distinct >= 2 {
            0.35
        } else {
            0.0
        };
        if weight > 0.0 {
            self.record(Protector::JavascriptObfuscator, Sig::HexNames, line, weight, || {
                format!("{count} _0x identifiers ({distinct} distinct, e.g. {example})")
            });
        }
        if let Some(line) = self.string_array {
            self.record(Protector::JavascriptObfuscator, Sig::StringArray, line, 0.5, || {
                "string array assigned to an _0x name".to_string()
            });
        }
        if let Some(line) = self.while_bang {
            let rotation = self.parse_int > 0 && self.push && self.shift;
            let weight = if rotation { 0.6 } else { 0.3 };
            self.record(Protector::JavascriptObfuscator, Sig::RotationLoop, line, weight, || {
                if rotation {
                    "string array rotation: while(!![]) with parseInt, push and shift".to_string()
                } else {
                    "while(!![]) loop".to_string()
                }
            });
        }
        let (count, line) = self.hex_literals;
        let other = self.hex_names.count > 0 || self.string_array.is_some() || self.while_bang.is_some();
        if other && count >= 30 && count * 2 >= self.numbers {
            self.record(Protector::JavascriptObfuscator, Sig::HexLiterals, line, 0.25, || {
                format!("{count} hexadecimal number literals")
            });
        }
    }
}

/// Evidence to a detection: confidences per protector, the best one, evidence strongest first.
fn verdict(found: Vec<Found>) -> Detection {
    let mut best: Option<(Protector, f32)> = None;
    for &protector in Protector::ALL {
        let missing: f32 =
            found.iter().filter(|f| f.protector == protector).map(|f| 1.0 - f.weight.clamp(0.0, 1.0)).product();
        let confidence = (1.0 - missing).clamp(0.0, 1.0);
        if confidence > 0.0 && best.is_none_or(|(_, c)| confidence > c) {
            best = Some((protector, confidence));
        }
    }
    let mut evidence: Vec<Evidence> = found
        .into_iter()
        .map(|f| Evidence { protector: f.protector, line: f.line, signal: f.signal, weight: f.weight })
        .collect();
    evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.line.cmp(&b.line)));
    evidence.truncate(MAX_EVIDENCE);
    let confidence = best.map_or(0.0, |(_, c)| c);
    Detection { protector: best.filter(|&(_, c)| c >= PROTECTED_AT).map(|(p, _)| p), confidence, evidence }
}

// ----- character tables -----

/// Scripts of lookalike letters, weakest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Script {
    /// Greek small letters used in mathematics (α ι κ ν ρ υ).
    GreekMath,
    /// Greek capitals and omicron, which nobody tells from Latin.
    Greek,
    Cyrillic,
}

impl Script {
    fn name(self) -> &'static str {
        match self {
            Script::Cyrillic => "Cyrillic",
            Script::Greek | Script::GreekMath => "Greek",
        }
    }
}

/// Cyrillic and Greek letters that look like a Latin letter, with that letter.
fn confusable(ch: char) -> Option<(char, Script)> {
    let ascii = match ch {
        'а' => 'a',
        'с' => 'c',
        'ԁ' => 'd',
        'е' => 'e',
        'һ' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'ӏ' => 'l',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'у' => 'y',
        'ԝ' => 'w',
        'х' => 'x',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        _ => {
            let (ascii, script) = match ch {
                'α' => ('a', Script::GreekMath),
                'ν' => ('v', Script::GreekMath),
                'ι' => ('i', Script::GreekMath),
                'κ' => ('k', Script::GreekMath),
                'ρ' => ('p', Script::GreekMath),
                'υ' => ('u', Script::GreekMath),
                'ο' => ('o', Script::Greek),
                'Α' => ('A', Script::Greek),
                'Β' => ('B', Script::Greek),
                'Ε' => ('E', Script::Greek),
                'Ζ' => ('Z', Script::Greek),
                'Η' => ('H', Script::Greek),
                'Ι' => ('I', Script::Greek),
                'Κ' => ('K', Script::Greek),
                'Μ' => ('M', Script::Greek),
                'Ν' => ('N', Script::Greek),
                'Ο' => ('O', Script::Greek),
                'Ρ' => ('P', Script::Greek),
                'Τ' => ('T', Script::Greek),
                'Υ' => ('Y', Script::Greek),
                'Χ' => ('X', Script::Greek),
                _ => return None,
            };
            return Some((ascii, script));
        }
    };
    Some((ascii, Script::Cyrillic))
}

/// Names whose lookalike spelling hides a call from grep.
const SENSITIVE_NAMES: &[&str] = &[
    "exec",
    "eval",
    "os",
    "sys",
    "system",
    "popen",
    "Popen",
    "open",
    "compile",
    "getattr",
    "setattr",
    "globals",
    "locals",
    "import",
    "__import__",
    "builtins",
    "__builtins__",
    "subprocess",
    "socket",
    "base64",
    "marshal",
    "loads",
    "decode",
    "require",
    "process",
    "child_process",
    "spawn",
    "execSync",
    "Function",
    "fetch",
    "atob",
    "Buffer",
    "request",
    "requests",
    "urllib",
    "http",
    "https",
    "shell",
    "run",
    "call",
    "print",
    "input",
    "write",
    "read",
];

/// Zero-width and other invisible characters (U+FEFF apart: it is whitespace in code).
fn is_invisible(ch: char) -> bool {
    matches!(
        ch,
        '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{17B4}'
            | '\u{17B5}'
    )
}

/// Whether UTF-8 text holds an invisible or bidirectional character or U+FEFF, found by their
/// encodings' lead bytes (a few vectorised searches) instead of decoding every character.
fn has_hidden_char(b: &[u8]) -> bool {
    let hidden_at = |p: usize| {
        matches!(
            (b[p], b.get(p + 1), b.get(p + 2)),
            (0xE2, Some(0x80), Some(0x8B..=0x8F | 0xAA..=0xAE))
                | (0xE2, Some(0x81), Some(0xA0..=0xA4 | 0xA6..=0xA9))
                | (0xE3, Some(0x85), Some(0xA4))
                | (0xEF, Some(0xBE), Some(0xA0))
                | (0xEF, Some(0xBB), Some(0xBF))
                | (0xE1, Some(0x85), Some(0x9F | 0xA0))
                | (0xE1, Some(0xA0), Some(0x8E))
                | (0xE1, Some(0x9E), Some(0xB4 | 0xB5))
                | (0xD8, Some(0x9C), _)
        )
    };
    memchr::memchr3_iter(0xE1, 0xE2, 0xE3, b).any(hidden_at) || memchr::memchr2_iter(0xD8, 0xEF, b).any(hidden_at)
}

/// Bidirectional marks, embeddings, overrides and isolates ("trojan source").
fn is_bidi(ch: char) -> bool {
    matches!(ch, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Unicode spaces the lexer steps over in code.
fn is_space_like(ch: char) -> bool {
    matches!(
        ch,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

fn code_point(ch: char) -> String {
    format!("U+{:04X}", ch as u32)
}

/// An identifier for a report: invisible and bidirectional characters written as `\u{...}`.
fn escape(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().take(40) {
        if is_invisible(ch) || is_bidi(ch) || ch == '\u{FEFF}' {
            out.push_str(&format!("\\u{{{:04x}}}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    out
}

/// Python string prefixes: `r`, `b`, `u`, `f`, `t` and their pairs.
fn is_string_prefix(name: &str) -> bool {
    name.len() <= 3 && name.bytes().all(|c| b"rRbBuUfFtT".contains(&c))
}

/// `_0x` followed by four to six hexadecimal digits: javascript-obfuscator's names.
fn is_hex_name(name: &[u8]) -> bool {
    (7..=9).contains(&name.len()) && name.starts_with(b"_0x") && name[3..].iter().all(u8::is_ascii_hexdigit)
}

/// The start of a bytes literal that PyArmor writes: `PYARMOR`, `PY` + six digits of the
/// licence, or `PYARMOR` written as `\x..` escapes.
fn is_pyarmor_header(content: &[u8]) -> bool {
    const ESCAPED: &[u8] = b"\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52";
    content.starts_with(b"PYARMOR")
        || (content.len() >= 8 && content.starts_with(b"PY") && content[2..8].iter().all(u8::is_ascii_digit))
        || (content.len() >= ESCAPED.len()
            && content.starts_with(&ESCAPED[..16])
            && content[16..ESCAPED.len()].eq_ignore_ascii_case(&ESCAPED[16..]))
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

/// The token a protected file's `<module>` starts with when the featurizer asks for protector
/// tokens: `PROTECTOR_PYARMOR`.
pub fn token(protector: Protector) -> &'static str {
    static TOKENS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let tokens = TOKENS.get_or_init(|| {
        Protector::ALL
            .iter()
            .map(|p| &*Box::leak(format!("PROTECTOR_{}", p.name().to_ascii_uppercase()).into_boxed_str()))
            .collect()
    });
    let index = Protector::ALL.iter().position(|&p| p == protector).unwrap_or(0);
    tokens[index]
}

/// Every protector token, for the vocabulary.
pub fn tokens() -> Vec<&'static str> {
    Protector::ALL.iter().map(|&p| token(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(text: &str) -> Detection {
        detect(text, Language::Python)
    }

    fn js(text: &str) -> Detection {
        detect(text, Language::JavaScript)
    }

    /// The evidence of `protector` whose signal contains `needle`.
    fn evidence<'d>(detection: &'d Detection, protector: Protector, needle: &str) -> &'d Evidence {
        detection
            .evidence
            .iter()
            .find(|e| e.protector == protector && e.signal.contains(needle))
            .unwrap_or_else(|| panic!("no {protector:?} evidence with {needle:?} in {detection:#?}"))
    }

    fn assert_protected(detection: &Detection, protector: Protector) {
        assert!(detection.is_protected(), "not protected: {detection:#?}");
        assert_eq!(detection.protector, Some(protector), "{detection:#?}");
        assert!(detection.confidence >= PROTECTED_AT && detection.confidence <= 1.0);
    }

    fn assert_clean(detection: &Detection) {
        assert!(!detection.is_protected(), "protected: {detection:#?}");
        assert_eq!(detection.protector, None);
    }

    /// Deterministic pseudo-random bytes as base64 (entropy close to 6 bits per character).
    fn random_base64(len: usize, seed: u64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ALPHABET[(state >> 58) as usize] as char
            })
            .collect()
    }

    const JS_OBFUSCATED: &str = r#"function _0x3a1f() {
    var _0x52c8e1 = ['log', '1234567abcdEf', 'Hello\x20World!', '3289410kXqzvJ', '1542QwErTy', '8AbCdEf', '45123hiJkL', '2mNoPqR', '617925sTuVwX', '19476YzAbCd'];
    _0x3a1f = function () {
        return _0x52c8e1;
    };
    return _0x3a1f();
}
(function (_0x2d8f05, _0x4b81bb) {
    var _0x4d74cb = _0x1c2a, _0x3a9c4e = _0x2d8f05();
    while (!![]) {
        try {
            var _0x1f3e2d = parseInt(_0x4d74cb(0x1e4)) / 0x1 + -parseInt(_0x4d74cb(0x1e7)) / 0x2 * (parseInt(_0x4d74cb(0x1e9)) / 0x3) + parseInt(_0x4d74cb(0x1e6)) / 0x4 + parseInt(_0x4d74cb(0x1ea)) / 0x5;
            if (_0x1f3e2d === _0x4b81bb)
                break;
            else
                _0x3a9c4e['push'](_0x3a9c4e['shift']());
        } catch (_0x52a1d2) {
            _0x3a9c4e['push'](_0x3a9c4e['shift']());
        }
    }
}(_0x3a1f, 0x9c5a3));
function _0x1c2a(_0x5e1b2c, _0x2a9d17) {
    var _0x3a1f2e = _0x3a1f();
    return _0x1c2a = function (_0x1c2a8f, _0x4e7d1b) {
        _0x1c2a8f = _0x1c2a8f - 0x1e4;
        var _0x2c9f4a = _0x3a1f2e[_0x1c2a8f];
        return _0x2c9f4a;
    }, _0x1c2a(_0x5e1b2c, _0x2a9d17);
}
var _0x41b2 = _0x1c2a;
console[_0x41b2(0x1e5)](_0x41b2(0x1e8));
"#;

    #[test]
    fn javascript_obfuscator() {
        let detection = js(JS_OBFUSCATED);
        assert_protected(&detection, Protector::JavascriptObfuscator);
        assert!(detection.confidence > 0.9);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "_0x identifiers").line, 1);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "assigned").line, 2);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "rotation").line, 10);
        // The same text is TypeScript too.
        assert_protected(&detect(JS_OBFUSCATED, Language::TypeScript), Protector::JavascriptObfuscator);
        // And is nothing in Python.
        assert!(!py(JS_OBFUSCATED).evidence.iter().any(|e| e.protector == Protector::JavascriptObfuscator));
    }

    #[test]
    fn jsfuck() {
        // JSFuck spellings of single letters, put together as JSFuck does; nothing runs.
        let f = "(![]+[])[+[]]";
        let a = "(![]+[])[+!+[]]";
        let l = "(![]+[])[!+[]+!+[]]";
        let t = "(!![]+[])[+[]]";
        let r = "(!![]+[])[+!+[]]";
        let e = "(!![]+[])[!+[]+!+[]+!+[]]";
        let word = [a, l, e, r, t].join("+");
        let expression = format!("[][{f}+{a}+{l}+{t}][{word}+{word}+{word}]({word})()");
        assert!(expression.len() > 400);
        let detection = js(&format!("// greeting\n{expression}\n"));
        assert_protected(&detection, Protector::Jsfuck);
        assert_eq!(evidence(&detection, Protector::Jsfuck, "[]()!+").line, 2);
        assert_eq!(evidence(&detection, Protector::Jsfuck, "[][(![]+[])").line, 2);
        // Spread over lines, it is still one run.
        let wrapped: String =
            expression.as_bytes().chunks(80).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n");
        assert_protected(&js(&wrapped), Protector::Jsfuck);
    }

    #[test]
    fn pyarmor() {
        let stub = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, __file__, b'PYARMOR\\x00\\x00\\x03\\x0b\\x00\\xa7\\x0d\\x0d\\x0a\\x04\\x00')\n";
        let detection = py(stub);
        assert_protected(&detection, Protector::Pyarmor);
        assert!(detection.confidence > 0.99);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "from pytransform import").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "pyarmor_runtime").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "__pyarmor__").line, 3);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "header").line, 3);

        let v8 = "# Pyarmor 8.5.2 (trial), 000000, 2024-01-01T00:00:00.000000\nfrom pyarmor_runtime_000000 import __pyarmor__\n__pyarmor__(__name__, __file__, b'PY000000\\x00\\x03\\x0b\\x00')\n";
        let detection = py(v8);
        assert_protected(&detection, Protector::Pyarmor);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "banner").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "pyarmor_runtime_000000").line, 2);
        assert_eq!(evidence(&detection, Protector::Pyarmor, "b'PY000000").line, 3);

        // Talking about pyarmor in strings and comments is not using it.
        assert_clean(&py("# see pyarmor docs\nHELP = \"call __pyarmor__ and pyarmor_runtime\"\n"));
    }

    #[test]
    fn pyobfuscate() {
        let payload = random_base64(600, 7);
        let text = format!(
            "_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]));exec((_)(b'{payload}'))\n"
        );
        let detection = py(&text);
        assert_protected(&detection, Protector::Pyobfuscate);
        assert!(detection.confidence > 0.9);
        assert_eq!(evidence(&detection, Protector::Pyobfuscate, "lambda decoder").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyobfuscate, "[::-1]").line, 1);
    }

    #[test]
    fn blankobf() {
        let blob = "\\xe3\\x00\\x00\\x00".repeat(20);
        let banner = format!(
            "# Obfuscated with BlankOBF\n# https://github.com/Blank-c/BlankOBF\n\
             ____ = __import__(bytes([98, 117, 105, 108, 116, 105, 110, 115]).decode())\n\
             _____ = getattr(____, bytes([101, 120, 101, 99]).decode())\n\
             _____(__import__('marshal').loads(b'{blob}'))\n"
        );
        let detection = py(&banner);
        assert_protected(&detection, Protector::Blankobf);
        assert_eq!(evidence(&detection, Protector::Blankobf, "banner").line, 1);
        assert_eq!(evidence(&detection, Protector::Blankobf, "bytes([...])").line, 3);

        // Without the banner: builtins/marshal chains and underscore-only names.
        let plain = format!(
            "___ = __import__('builtins')\n\
             ____ = getattr(___, 'exec')\n\
             _____ = __import__('marshal')\n\
             ______ = __import__('zlib')\n\
             __import__('builtins').exec(__import__('marshal').loads(__import__('zlib').decompress(b'{blob}')))\n\
             ____(_____.loads(______.decompress(b'{blob}')))\n\
             ___.print(____, _____, ______)\n"
        );
        let detection = py(&plain);
        assert_protected(&detection, Protector::Blankobf);
        assert_eq!(evidence(&detection, Protector::Blankobf, "marshal").line, 5);
        assert_eq!(evidence(&detection, Protector::Blankobf, "builtins").line, 5);
        assert_eq!(evidence(&detection, Protector::Blankobf, "underscore-only").line, 1);
    }

    #[test]
    fn hyperion() {
        let text = "from builtins import *\n\
            IlIlIlIIlI = print\n\
            lIlIIlIlIl = 'hello'\n\
            OO0O0OO0O0 = 'world'\n\
            def IIlIlIIlIl(lIIlIlIlII, IlIIlIIlIl):\n\
            \x20   return IlIlIlIIlI(lIIlIlIlII + ' ' + IlIIlIIlIl)\n\
            if lIlIIlIlIl and OO0O0OO0O0:\n\
            \x20   IIlIlIIlIl(lIlIIlIlIl, OO0O0OO0O0)\n";
        let detection = py(text);
        assert_protected(&detection, Protector::Hyperion);
        assert_eq!(evidence(&detection, Protector::Hyperion, "I l 1 O 0").line, 2);
        assert_eq!(evidence(&detection, Protector::Hyperion, "from builtins import *").line, 1);
        // A couple of such names alone stay below the threshold.
        assert_clean(&py("IlIlIl = 1\nlIlIlI = IlIlIl + 2\nprint(lIlIlI)\n"));
    }

    #[test]
    fn invisible_unicode() {
        // Hangul filler as a whole identifier ("invisible backdoor").
        let detection =
            js("const express = require('express');\nconst { timeout,\u{3164}} = req.query;\nrun([\u{3164}]);\n");
        assert_protected(&detection, Protector::InvisibleUnicode);
        assert_eq!(evidence(&detection, Protector::InvisibleUnicode, "U+3164").line, 2);

        let detection = py("x = 1\nis\u{200B}admin = False\n");
        assert_protected(&detection, Protector::InvisibleUnicode);
        let found = evidence(&detection, Protector::InvisibleUnicode, "U+200B in identifier");
        assert_eq!(found.line, 2);
        assert!(found.signal.contains("is\\u{200b}admin"), "{}", found.signal);

        // Trojan source: an override in code.
        let detection = js("let a = 1;\n\nif (isAdmin) {\u{202E} } \u{2066}begin();\n");
        assert_protected(&detection, Protector::InvisibleUnicode);
        assert_eq!(evidence(&detection, Protector::InvisibleUnicode, "U+202E in code").line, 3);

        // In an ASCII string and in a comment: suspicious, not enough alone, enough together.
        let detection =
            py("access = 'user'\nif access != \"none\u{202E}\u{2066}\":  # admin\u{2069}\u{2066}\n    pass\n");
        assert_eq!(evidence(&detection, Protector::InvisibleUnicode, "string literal").line, 2);
        assert_eq!(evidence(&detection, Protector::InvisibleUnicode, "comment").line, 2);
        assert_protected(&detection, Protector::InvisibleUnicode);
        assert_clean(&py("ZWSP = \"\u{200B}\"\n"));
    }

    #[test]
    fn confusable_unicode() {
        let detection = py("import os\n\n\u{043E}s.system('id')\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert_eq!(evidence(&detection, Protector::ConfusableUnicode, "mixes Latin with Cyrillic").line, 3);

        // All four letters Cyrillic: looks exactly like `exec`.
        let detection = py("payload = 'print(1)'\n\u{0435}\u{0445}\u{0435}\u{0441}(payload)\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert_eq!(evidence(&detection, Protector::ConfusableUnicode, "`exec`").line, 2);

        // Greek omicron in `os`: a lookalike of a sensitive name.
        let detection = py("import os\n\u{03BF}s.system('id')\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert!(evidence(&detection, Protector::ConfusableUnicode, "Greek").weight >= 0.85);

        // Real words and maths are not lookalikes.
        assert_clean(&py("dρ = ρw * 2.0\nκappa = αmax + ν0\n"));
        assert_clean(&py("привет = 'мир'\nρ_max = 1.0\nα = 0.5\nνα = ρ_max * α\nprint(привет)\n"));
        // Lookalikes in strings and comments do not hide calls.
        assert_clean(&py("# \u{0435}x\u{0435}c\ntext = '\u{043E}s'\n"));
    }

    #[test]
    fn high_entropy() {
        let blob = random_base64(6000, 42);
        let mut code = String::new();
        for i in 0..200 {
            code.push_str(&format!("def handler_{i}(request):\n    return render(request, 'page_{i}.html')\n\n"));
        }
        let detection = py(&format!("{code}FONT = \"{blob}\"\n"));
        assert_clean(&detection);
        let found = evidence(&detection, Protector::HighEntropy, "high-entropy literal");
        assert_eq!(found.line, 601);
        assert!((found.weight - 0.3).abs() < 1e-6);

        // A data file that is mostly the blob is still data.
        let detection = js(&format!("var data = \"{blob}\";\nmodule.exports = data;\n"));
        assert_clean(&detection);
        assert!(evidence(&detection, Protector::HighEntropy, "% of the file").weight < 0.2);

        // A small file of code that is mostly the blob and evaluates code adds up.
        let mut loader = format!("var data = \"{blob}\";\n");
        for i in 0..12 {
            loader.push_str(&format!("var step{i} = data.slice({i});\n"));
        }
        loader.push_str("eval(atob(step0));\n");
        let detection = js(&loader);
        assert_protected(&detection, Protector::HighEntropy);
        assert_eq!(evidence(&detection, Protector::HighEntropy, "calls exec/eval").line, 1);

        // exec of one encoded literal that is the whole file.
        let detection = py(&format!("import base64\nexec(base64.b64decode('{blob}'))\n"));
        assert_protected(&detection, Protector::Custom);
        assert_eq!(evidence(&detection, Protector::Custom, "exec/eval").line, 2);
    }

    #[test]
    fn ordinary_python_is_clean() {
        let text = r#""""A module."""
import os
from typing import Any

_registry: dict[str, Any] = {}


class Plugin:
    def __init__(self, name: str) -> None:
        self.name = name
        self._loaded = False

    def __repr__(self) -> str:
        return f"Plugin({self.name!r})"

    def load(self):
        module = __import__(self.name)
        for _ in range(3):
            pass
        _, ext = os.path.splitext(self.name)
        value = eval("1 + 1")
        return module, ext, value


def main(argv=None):
    data = [x for x in range(10)][::-1]
    return data
"#;
        let detection = py(text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }

    #[test]
    fn data_uri_is_not_a_blob() {
        let png = random_base64(5 * 1024, 3);
        let text = format!("const logo = \"data:image/png;base64,{png}\";\nexport default logo;\n");
        let detection = js(&text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }

    #[test]
    fn minified_bundle_is_clean() {
        let module = "function(e,t,n){var r=n(12),o=n(7),i=0x1f;e.exports=function(a,s){for(var c=0;c<a.length;c++)if(!r(a[c]))return!1;return o(s,/[a-z]+\\//g.test(a)?i:0xff)}},";
        let text = format!("!function(e){{var t={{}};function n(r){{return t[r]}}n.m=e}}([{}]);\n", module.repeat(300));
        let detection = js(&text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }

    #[test]
    fn rtl_translations_are_clean() {
        let text = "# -*- coding: utf-8 -*-\nfrom gettext import gettext as _\n\n\
            MESSAGES = {\n\
            \x20   'welcome': _('\u{0645}\u{0631}\u{062D}\u{0628}\u{0627} \u{200F}(%s)\u{200F}'),\n\
            \x20   'bye': _('\u{05DC}\u{05D4}\u{05EA}\u{05E8}\u{05D0}\u{05D5}\u{05EA}\u{200F} \u{202B}!\u{202C}'),\n\
            \x20   'fa': _('\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}'),\n\
            }\n";
        let detection = py(text);
        assert_clean(&detection);
        assert!(detection.confidence < 0.1, "{detection:#?}");
    }

    #[test]
    fn bom_at_start_is_clean() {
        let detection = py("\u{FEFF}import os\nprint(os.getcwd())\n");
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
        let detection = js("\u{FEFF}'use strict';\nmodule.exports = 1;\n");
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }

    #[test]
    fn lexer_keeps_strings_comments_and_regexes_apart() {
        // `_0x` names in strings, comments, regexes and template text are not code.
        let names = "_0x1a2b _0x3c4d _0x5e6f _0x7a8b _0x9c0d ".repeat(10);
        let text = format!(
            "// {names}\n/* {names} */\nvar s = '{names}';\nvar r = /{names}/g;\nvar t = `{names}${{x}}{names}`;\nvar d = a / 2 / b;\n"
        );
        assert!(js(&text).evidence.is_empty());
        // In template substitutions they are.
        let text = format!("var t = `a${{{}}}b`;\n", "_0x1a2b+_0x3c4d+_0x5e6f+".repeat(10));
        assert!(js(&text).evidence.iter().any(|e| e.protector == Protector::JavascriptObfuscator));
        // Python triple-quoted strings and prefixes.
        let text = "'''\n__pyarmor__(x)\n'''\nrb'__pyarmor__'\n#__pyarmor__\nx = 1\n";
        assert!(py(text).evidence.is_empty());
        // Line numbers survive multi-line strings, templates and comments.
        let text = "x = '''a\nb\nc'''\n\u{043E}s = 1\n";
        assert_eq!(py(text).evidence[0].line, 4);
        let text = "/*\n\n*/ var t = `\n\n${a}\n`;\n\u{043E}s = 1\n";
        assert_eq!(js(text).evidence[0].line, 7);
    }

    #[test]
    fn hidden_characters_are_found_by_their_bytes() {
        for ch in (0..0x3_0000u32).filter_map(char::from_u32) {
            let hidden = is_invisible(ch) || is_bidi(ch) || ch == '\u{FEFF}';
            let text = format!("a{ch}b");
            assert_eq!(has_hidden_char(text.as_bytes()), hidden, "{}", code_point(ch));
        }
    }

    #[test]
    fn names_round_trip_serde() {
        for &protector in Protector::ALL {
            assert_eq!(serde_json::to_value(protector).unwrap(), serde_json::Value::from(protector.name()));
        }
        assert_eq!(Protector::ALL.len(), 10);
        let detection = py("__pyarmor__(__name__, __file__, b'PYARMOR')\n");
        let json = serde_json::to_value(&detection).unwrap();
        assert_eq!(json["protector"], "pyarmor");
        assert_eq!(json["evidence"][0]["line"], 1);
    }

    #[test]
    fn evidence_is_capped_and_sorted() {
        let mut text = String::from("from pytransform import pyarmor_runtime\n");
        text.push_str("__armor_enter__()\n__pyarmor__()\n");
        text.push_str("# Obfuscated with pyarmor\n");
        text.push_str("\u{043E}s = 1\n\u{0435}\u{0445}\u{0435}\u{0441} = 2\nis\u{200B}x = 3\nx = 1\u{202E}\n");
        text.push_str(&"IlIlIlI = lIlIlIl = OOO0O0O = 1\n".repeat(5));
        text.push_str(&"___ = ____ = _____ = 1\n".repeat(5));
        let detection = py(&text);
        assert!(detection.evidence.len() <= MAX_EVIDENCE);
        assert!(detection.evidence.windows(2).all(|w| w[0].weight >= w[1].weight));
    }

    /// Benign-corpus check and timing: `MALWI_PROTECTOR_CORPUS=/usr/lib/python3.11:/path/node_modules
    /// cargo test -q -p malwi-core protectors -- --ignored --nocapture`. Every entry of a root is
    /// one package; prints the packages with a protected file and the time spent reading and
    /// detecting.
    #[test]
    #[ignore]
    fn corpus() {
        use std::collections::BTreeMap;
        use std::path::{Path, PathBuf};
        use std::time::{Duration, Instant};

        fn walk(path: &Path, files: &mut Vec<PathBuf>) {
            let Ok(meta) = std::fs::symlink_metadata(path) else { return };
            if meta.is_dir() {
                let Ok(entries) = std::fs::read_dir(path) else { return };
                let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for entry in entries {
                    walk(&entry, files);
                }
            } else if meta.is_file()
                && path.extension().and_then(|e| e.to_str()).and_then(Language::from_extension).is_some()
            {
                files.push(path.to_path_buf());
            }
        }

        let Ok(roots) = std::env::var("MALWI_PROTECTOR_CORPUS") else {
            eprintln!("MALWI_PROTECTOR_CORPUS is not set");
            return;
        };
        let (mut packages, mut files_seen, mut bytes_seen) = (0usize, 0usize, 0usize);
        let (mut read_time, mut detect_time, mut lexer_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        let mut protected: BTreeMap<String, Vec<(String, Detection)>> = BTreeMap::new();
        let mut signals: BTreeMap<String, usize> = BTreeMap::new();
        let mut triggers: BTreeMap<&str, usize> = BTreeMap::new();
        for root in roots.split(':').filter(|r| !r.is_empty()) {
            let Ok(entries) = std::fs::read_dir(root) else { continue };
            let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for package in entries {
                let mut files = Vec::new();
                walk(&package, &mut files);
                if files.is_empty() {
                    continue;
                }
                packages += 1;
                for file in files {
                    let language =
                        Language::from_extension(file.extension().and_then(|e| e.to_str()).unwrap_or("")).unwrap();
                    let start = Instant::now();
                    let Ok(bytes) = std::fs::read(&file) else { continue };
                    read_time += start.elapsed();
                    let text = String::from_utf8_lossy(&bytes);
                    *triggers.entry(trigger(&text, language).unwrap_or("-")).or_default() += 1;
                    let start = Instant::now();
                    let detection = detect(&text, language);
                    detect_time += start.elapsed();
                    let start = Instant::now();
                    let full = lex_and_judge(&text, language);
                    lexer_time += start.elapsed();
                    assert_eq!(full, detection, "prefilter disagrees on {}", file.display());
                    files_seen += 1;
                    bytes_seen += bytes.len();
                    for e in &detection.evidence {
                        if e.weight >= 0.3 {
                            let key = format!(
                                "{}: {}",
                                e.protector.name(),
                                e.signal.split(['(', '`', ':']).next().unwrap_or("")
                            );
                            *signals.entry(key).or_default() += 1;
                        }
                    }
                    if detection.is_protected() {
                        protected
                            .entry(package.display().to_string())
                            .or_default()
                            .push((file.display().to_string(), detection));
                    }
                }
            }
        }
        println!("signals with weight >= 0.3 (files):");
        for (signal, count) in &signals {
            println!("  {count:6}  {signal}");
        }
        println!("prefilter triggers (files): {triggers:?}");
        println!("protected packages:");
        for (package, files) in &protected {
            println!("  {package}: {} file(s)", files.len());
            for (file, detection) in files.iter().take(3) {
                println!("    {file}: {:?} {:.2}", detection.protector, detection.confidence);
                for e in detection.evidence.iter().take(3) {
                    println!("      line {} {:.2} {:?}: {}", e.line, e.weight, e.protector, e.signal);
                }
            }
        }
        let mb = bytes_seen as f64 / 1e6;
        println!(
            "{packages} packages, {files_seen} files, {mb:.1} MB; {} protected packages ({:.2}%)",
            protected.len(),
            protected.len() as f64 * 100.0 / packages.max(1) as f64
        );
        println!(
            "read {:.3}s ({:.0} MB/s), detect {:.3}s ({:.0} MB/s)",
            read_time.as_secs_f64(),
            mb / read_time.as_secs_f64(),
            detect_time.as_secs_f64(),
            mb / detect_time.as_secs_f64()
        );
        println!(
            "the lexer alone on every file: {:.3}s ({:.0} MB/s)",
            lexer_time.as_secs_f64(),
            mb / lexer_time.as_secs_f64()
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;
        use super::random_base64;

        /// Fragments that reach every branch of the lexer and every signal.
        fn pieces() -> Vec<String> {
            #[rustfmt::skip]
            let fragments = [
                "_0x1a2b", "_0x3c4d5e", "[", "]", "(", ")", "!", "+", "![]", "+[]", "'", "\"", "\"\"\"", "'''", "`", "${",
                "}", "{", "\n", "\r\n", "\\", "/", "*", "#", "//", "/*", "*/", " ", "\t", "=", ";", ".", ",", ":",
                "__import__", "lambda", "exec", "eval", "Function", "zlib", "base64", "marshal", "builtins", "loads",
                "b64decode", "decompress", "[::-1]", "bytes([", "getattr(", "globals()['", "from builtins import *",
                "from pytransform import", "pyarmor_runtime", "__pyarmor__", "__armor_enter__", "b'PY000000",
                "b'PYARMOR", "b'\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52", "__obfuscator__ = ", "Hyperion",
                "# Obfuscated with BlankOBF", "obfuscated by", "pyarmor 8.1", "while(!![])", "parseInt", "push",
                "shift", ".push(", "0x1f", "12", "IlIlIl", "lIlIlI", "OO0O0O", "____", "___", "__", "_", "\u{200B}",
                "\u{200C}", "\u{202E}", "\u{200F}", "\u{3164}", "\u{FEFF}", "\u{00A0}", "е", "о", "ехес", "ρ",
                "α", "ж", "é", "ا", "x", "os", "data:", "mappings",
            ];
            let mut pieces: Vec<String> = fragments.iter().map(|piece| piece.to_string()).collect();
            pieces.push(random_base64(4200, 1));
            pieces.push(format!("\"{}\"", random_base64(5000, 2)));
            pieces
        }

        fn language() -> impl Strategy<Value = Language> {
            prop::sample::select(Language::ALL.to_vec())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

            #[test]
            fn never_panics_on_any_text(text in ".*", language in language()) {
                let detection = detect(&text, language);
                prop_assert!((0.0..=1.0).contains(&detection.confidence));
                prop_assert!(detection.evidence.len() <= MAX_EVIDENCE);
            }

            #[test]
            fn prefilter_never_hides_evidence(
                pieces in prop::collection::vec(prop::sample::select(pieces()), 0..300),
                language in language(),
            ) {
                let text = pieces.concat();
                prop_assert_eq!(detect(&text, language), lex_and_judge(&text, language));
            }

            #[test]
            fn prefilter_agrees_on_any_text(text in ".*", language in language()) {
                prop_assert_eq!(detect(&text, language), lex_and_judge(&text, language));
            }

            #[test]
            fn never_panics_on_token_soup(
                pieces in prop::collection::vec(prop::sample::select(pieces()), 0..300),
                language in language(),
            ) {
                let text = pieces.concat();
                let detection = detect(&text, language);
                prop_assert!((0.0..=1.0).contains(&detection.confidence));
                prop_assert_eq!(detection.is_protected(), detection.protector.is_some());
                for evidence in &detection.evidence {
                    prop_assert!(evidence.line >= 1 && evidence.line as usize <= text.lines().count().max(1) + 1);
                    prop_assert!((0.0..=1.0).contains(&evidence.weight));
                }
            }
        }
    }
}

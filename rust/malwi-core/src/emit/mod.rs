//! Where parse trees become malwicode.
//!
//! [`Core`] holds what every language shares: the token buffer of each object, the object list,
//! scopes and name resolution, string constants. `python.rs` and `javascript.rs` walk their
//! grammar's nodes and call into it.

mod fold;
pub(crate) mod grammar;
mod javascript;
mod python;

use std::sync::{Arc, OnceLock};

use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use tree_sitter::{Node, TreeCursor};

use crate::config::{FeaturizerConfig, Granularity};
use crate::error::Error;
use crate::language::Language;
use crate::literal_stats::LiteralStats;
use crate::literals::normalize_number;
use crate::malwicode::{Malwicode, Op, StringClass};
use crate::object::{MalwiObject, ObjectKind};
use crate::patterns::{LanguageApis, PatternDatabase};
use crate::payloads;
use crate::protectors;
use crate::source::SourceText;
use crate::strings::{classify, StringToken};
use crate::taint;
use crate::vocabulary::reserved_tokens;

/// String classes whose values name files or URLs: kept for data-flow details.
const NAMED_PLACES: [StringClass; 7] = [
    StringClass::SensitiveFilePath,
    StringClass::Bash,
    StringClass::FilePath,
    StringClass::Url,
    StringClass::InsecureUrl,
    StringClass::ContainsUrl,
    StringClass::Ip,
];

/// Up to this many children, a node's children are read by index rather than with a cursor.
const INDEXED_CHILDREN: u32 = 16;

/// Stack space kept free before the emitter grows its stack onto the heap.
const STACK_RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

/// Compiles one source text into its objects: `<module>` first, then the others in source order.
pub fn compile_text(
    source: &SourceText,
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<Vec<MalwiObject>, Error> {
    Ok(compile_text_full(source, language, file_path, config)?.objects)
}

/// Everything the compiler finds in one file.
#[derive(Debug)]
pub struct Compiled {
    pub objects: Vec<MalwiObject>,
    /// Payloads reported but not decoded, and decoding limits hit.
    pub notes: Vec<payloads::Note>,
    /// Obfuscators and protectors recognised in the text.
    pub protection: protectors::Detection,
    /// The modules the file imports or requires by a constant name, in order, each once
    /// (`os`, `.helpers`, `./lib/x.js`): how reachability follows code from file to file.
    pub imports: Vec<String>,
    /// The byte histogram and entropy windows of its string literals, decoded code included.
    pub literals: LiteralStats,
}

/// Modules remembered per file (a file that imports more is still compiled, the rest unrecorded).
const MAX_IMPORTS: usize = 1000;

/// [`compile_text`] with the payload notes and the protector detection. With
/// `protector_tokens` on, a protected file's `<module>` starts with `PROTECTOR_<NAME>`.
pub fn compile_text_full(
    source: &SourceText,
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<Compiled, Error> {
    let tree = crate::parse::parse(&source.text, language)?;
    let (mut objects, file) = emit_tree_decoding(&tree, source, language, file_path, config);
    let FileDecoding { notes, imports, literals, .. } = file;
    let protection = protectors::detect(&source.text, language);
    if config.protector_tokens && protection.is_protected() {
        if let (Some(protector), Some(module)) = (protection.protector, objects.first_mut()) {
            module.prepend_token(protectors::token(protector));
        }
    }
    Ok(Compiled { objects, notes, protection, imports, literals })
}

/// Emits the objects of an already parsed tree, then those of the payloads decoded from its
/// string literals.
pub fn emit_tree(
    tree: &tree_sitter::Tree,
    source: &SourceText,
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Vec<MalwiObject> {
    emit_tree_with_notes(tree, source, language, file_path, config).0
}

/// [`emit_tree`] with the notes on its payloads, from all levels of decoded code (those found
/// in decoded code carry the lines of the outer literal).
pub fn emit_tree_with_notes(
    tree: &tree_sitter::Tree,
    source: &SourceText,
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> (Vec<MalwiObject>, Vec<payloads::Note>) {
    let (objects, file) = emit_tree_decoding(tree, source, language, file_path, config);
    (objects, file.notes)
}

fn emit_tree_decoding(
    tree: &tree_sitter::Tree,
    source: &SourceText,
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> (Vec<MalwiObject>, FileDecoding) {
    let mut file = FileDecoding {
        budget: payloads::MAX_DECODED_PER_FILE,
        notes: Vec::new(),
        imports: Vec::new(),
        literals: LiteralStats::default(),
    };
    let objects = emit_tree_at(tree, &source.text, language, &Arc::from(file_path), config, 0, &mut file);
    (objects, file)
}

/// What a file's payload decoding shares across levels of decoded code.
struct FileDecoding {
    /// Decoded code the file may still produce (`MAX_DECODED_PER_FILE`).
    budget: usize,
    notes: Vec<payloads::Note>,
    /// Modules imported by the file's code, decoded code included.
    imports: Vec<String>,
    /// The string literals of every level.
    literals: LiteralStats,
}

fn emit_tree_at(
    tree: &tree_sitter::Tree,
    text: &Arc<str>,
    language: Language,
    file_path: &Arc<str>,
    config: &FeaturizerConfig,
    depth: u32,
    file: &mut FileDecoding,
) -> Vec<MalwiObject> {
    let mut core = Core::new(text, language, config, tree.walk());
    let root = tree.root_node();
    core.begin_object("<module>".into(), ObjectKind::Module, root);
    core.objects[0].start_byte = 0;
    core.objects[0].end_byte = text.len();
    core.objects[0].start_line = 1;
    match language {
        Language::Python => python::PythonEmitter::new(&mut core).module(root),
        _ => javascript::JsEmitter::new(&mut core, language).program(root),
    }
    let candidates = std::mem::take(&mut core.payload_candidates);
    let keys = if candidates.is_empty() {
        payloads::Keys::default()
    } else {
        payloads::Keys::new(core.key_constants.iter().map(String::as_str))
    };
    let dropped = core.dropped_payloads;
    if let Some(lines) = core.fold_exhausted {
        let detail = format!(
            "constant folding stopped: the file's expressions reached {} nodes (limit MAX_FILE_NODES); the rest were not folded",
            fold::MAX_FILE_NODES
        );
        file.notes.push(payloads::Note::limit(lines, payloads::Limit::FoldWork, detail));
    }
    for module in std::mem::take(&mut core.imports) {
        if file.imports.len() < MAX_IMPORTS && !file.imports.contains(&module) {
            file.imports.push(module);
        }
    }
    file.literals.merge(&core.literal_stats);
    let mut objects = core.finish(text, file_path, language);
    decode_candidates(&candidates, dropped, &keys, language, file_path, config, depth, file, &mut objects);
    objects
}

/// Decodes a level's candidates into objects (appended to `objects`) and notes.
#[allow(clippy::too_many_arguments)]
fn decode_candidates(
    candidates: &[payloads::Candidate],
    dropped: (usize, (u32, u32)),
    keys: &payloads::Keys,
    language: Language,
    file_path: &Arc<str>,
    config: &FeaturizerConfig,
    depth: u32,
    file: &mut FileDecoding,
    objects: &mut Vec<MalwiObject>,
) {
    use payloads::{Limit, Note};
    if depth >= payloads::MAX_CODE_DEPTH {
        if let Some(candidate) = candidates.iter().find(|c| payloads::looks_encoded(&c.value)) {
            let detail = format!(
                "decoding stopped: code decoded {depth} levels deep holds more encoded literals (limit MAX_CODE_DEPTH)"
            );
            file.notes.push(Note::limit(candidate.lines, Limit::CodeDepth, detail));
        }
        return;
    }
    for (i, candidate) in candidates.iter().enumerate() {
        let (decoded, found) = payloads::decode_candidate(candidate, language, keys);
        file.notes.extend(found);
        let Some(decoded) = decoded else { continue };
        if decoded.text.len() > file.budget {
            // The file's decoding budget is spent: said once per file.
            if !file.notes.iter().any(|n| n.limit_reached() == Some(Limit::DecodedPerFile)) {
                let detail = format!(
                    "decoding stopped: the file's decoded code reached {} bytes; {} literals not decoded \
                     (limit MAX_DECODED_PER_FILE)",
                    payloads::MAX_DECODED_PER_FILE - file.budget,
                    candidates.len() - i
                );
                file.notes.push(Note::limit(candidate.lines, Limit::DecodedPerFile, detail));
            }
            break;
        }
        file.budget -= decoded.text.len();
        objects.extend(decoded_objects(&decoded, candidate.lines, file_path, config, depth, file));
    }
    if dropped.0 > 0 {
        let detail = format!(
            "decoding stopped: {} more encoded-looking literals not tried (limit MAX_PAYLOADS_PER_FILE = {})",
            dropped.0,
            payloads::MAX_PAYLOADS_PER_FILE
        );
        file.notes.push(Note::limit(dropped.1, Limit::PayloadsPerFile, detail));
    }
}

/// The objects of a decoded payload, named `<decoded:L12>` (and `<decoded:L12>.name` for its
/// functions and classes), placed at the literal's lines and marked with how it was decoded.
fn decoded_objects(
    decoded: &payloads::Decoded,
    lines: (u32, u32),
    file_path: &Arc<str>,
    config: &FeaturizerConfig,
    depth: u32,
    file: &mut FileDecoding,
) -> Vec<MalwiObject> {
    let Ok(tree) = crate::parse::parse(&decoded.text, decoded.language) else {
        return Vec::new();
    };
    let text: Arc<str> = Arc::from(decoded.text.as_str());
    let prefix = format!("<decoded:L{}>", lines.0);
    let mut chain = decoded.chain.join(" > ");
    if decoded.truncated {
        chain.push_str(" (truncated)");
    }
    let outer_notes = file.notes.len();
    let mut objects = emit_tree_at(&tree, &text, decoded.language, file_path, config, depth + 1, file);
    // Notes from decoded code point at the outer literal, and say where they were found.
    for note in &mut file.notes[outer_notes..] {
        note.lines = lines;
        note.detail = format!("{} (in {prefix}, decoded from {chain})", note.detail);
    }
    for object in &mut objects {
        object.name = if object.name == "<module>" {
            prefix.clone()
        } else if object.name.starts_with("<decoded:") {
            format!("{prefix}/{}", object.name)
        } else {
            format!("{prefix}.{}", object.name)
        };
        object.lines = lines;
        object.place_flows_at(lines.0);
        let decoded_from = match object.decoded_from() {
            Some(inner) => format!("{chain} / {inner}"),
            None => chain.clone(),
        };
        object.set_decoded_from(decoded_from);
    }
    objects
}

/// A name resolved to a qualified API path. `root_len` marks the module part, which for
/// JavaScript packages may itself contain dots (`discord.js`, `socket.io-client`).
#[derive(Clone, Debug)]
pub(crate) struct Qual {
    pub name: String,
    pub root_len: usize,
}

impl Qual {
    fn root(name: &str) -> Qual {
        Qual { name: name.to_string(), root_len: name.len() }
    }
}

/// What the emitter statically knows about the value an expression produced.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Unknown,
    /// A module or API (`instance`: the result of calling one, e.g. `requests.Session()`).
    Qual {
        qual: Qual,
        categorized: bool,
        instance: bool,
    },
    /// A constant string (needed for `__import__('os')`, `require('fs')`, `getattr(x, 'name')`).
    Str(String),
}

impl Value {
    pub fn qual(&self) -> Option<&Qual> {
        match self {
            Value::Qual { qual, .. } => Some(qual),
            _ => None,
        }
    }

    pub fn string(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
enum Binding {
    /// An ordinary local value: shadows imports and builtins of the same name.
    Local,
    /// An import alias: loads are rewritten to the canonical path (`sp` → `subprocess`).
    Alias(Qual),
    /// A value obtained by calling an API: loads keep the variable name, attributes resolve.
    Instance(Qual),
    Const(String),
}

/// Where definitions are being emitted; decides which definitions become objects of their own.
pub(crate) enum Context {
    Module,
    Class { name: String, separate: bool },
    Function,
}

pub(crate) enum Placement {
    Separate { name: String, kind: ObjectKind },
    Inline,
}

struct Draft {
    name: String,
    kind: ObjectKind,
    start_line: u32,
    end_line: u32,
    start_byte: usize,
    end_byte: usize,
    code: Malwicode,
}

pub(crate) struct Core<'s> {
    pub src: &'s str,
    pub config: &'s FeaturizerConfig,
    pub apis: &'static LanguageApis,
    objects: Vec<Draft>,
    current: usize,
    scopes: Vec<FxHashMap<String, Binding>>,
    pub contexts: Vec<Context>,
    pub depth: u32,
    cursor: TreeCursor<'s>,
    reserved: &'static FxHashSet<&'static str>,
    /// String values that may hide code.
    pub payload_candidates: Vec<payloads::Candidate>,
    /// Short string constants: key candidates for XOR and Fernet layers.
    pub key_constants: Vec<String>,
    /// What the text's string literal values look like, byte by byte.
    pub literal_stats: LiteralStats,
    /// Encoded-looking literals left untried past `MAX_PAYLOADS_PER_FILE`: count, first lines.
    pub dropped_payloads: (usize, (u32, u32)),
    /// End of the `marshal.loads(...)` call being emitted: literals in it are compiled code.
    pub marshal_until: usize,
    /// End of the arguments of a call that runs code (`exec`, `eval`, `Function`) being
    /// emitted: a string in them may be code as it is.
    pub executed_until: usize,
    /// The function `Function('r', body)` just built, until the next call link: the body's
    /// candidate and its parameter names (see [`payloads::Candidate::bound`]).
    pub constructed: Option<(usize, Vec<String>)>,
    /// End of the last expression folded into a candidate: its parts are not folded again.
    pub folded_until: usize,
    /// Nodes constant folding may still visit in this file (see `fold::MAX_FILE_NODES`), and
    /// the lines of the expression where it ran out.
    pub fold_budget: usize,
    pub fold_exhausted: Option<(u32, u32)>,
    /// Modules imported or required by a constant name (see `Compiled::imports`).
    pub imports: Vec<String>,
}

fn reserved_set() -> &'static FxHashSet<&'static str> {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| reserved_tokens().into_iter().collect())
}

impl<'s> Core<'s> {
    fn new(src: &'s str, language: Language, config: &'s FeaturizerConfig, cursor: TreeCursor<'s>) -> Self {
        Core {
            src,
            config,
            apis: PatternDatabase::embedded().apis(language.api_language()),
            objects: Vec::new(),
            current: 0,
            scopes: vec![FxHashMap::default()],
            contexts: vec![Context::Module],
            depth: 0,
            cursor,
            reserved: reserved_set(),
            payload_candidates: Vec::new(),
            key_constants: Vec::new(),
            literal_stats: LiteralStats::default(),
            dropped_payloads: (0, (0, 0)),
            marshal_until: 0,
            executed_until: 0,
            constructed: None,
            folded_until: 0,
            fold_budget: fold::MAX_FILE_NODES,
            fold_exhausted: None,
            imports: Vec::new(),
        }
    }

    fn finish(self, text: &Arc<str>, file_path: &Arc<str>, language: Language) -> Vec<MalwiObject> {
        let flow_tokens = self.config.flow_tokens;
        self.objects
            .into_iter()
            .map(|mut d| {
                let flows = taint::flows(&d.code, d.start_line);
                if flow_tokens && !flows.is_empty() {
                    let mut head: Vec<&'static str> =
                        flows.iter().map(|f| taint::flow_token(f.source, f.sink)).collect();
                    head.sort_unstable();
                    head.dedup();
                    d.code.prepend_markers(&head);
                }
                let mut object = MalwiObject::new(
                    d.name,
                    d.kind,
                    language,
                    file_path.clone(),
                    (d.start_line, d.end_line),
                    text.clone(),
                    d.start_byte..d.end_byte,
                    d.code,
                );
                object.set_flows(flows);
                object
            })
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // Source access

    #[inline]
    pub fn text(&self, node: Node<'_>) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    /// Named children, without comments and other extras.
    pub fn kids(&mut self, node: Node<'s>) -> SmallVec<[Node<'s>; 4]> {
        let mut out = SmallVec::new();
        let count = node.child_count();
        if count <= INDEXED_CHILDREN {
            // tree-sitter's cursor costs several hundred instructions a step; indexed access is
            // O(i) per child but much cheaper for the small nodes that make up most trees.
            for i in 0..count {
                if let Some(child) = node.child(i) {
                    if child.is_named() && !child.is_extra() {
                        out.push(child);
                    }
                }
            }
            return out;
        }
        let cursor = &mut self.cursor;
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if child.is_named() && !child.is_extra() {
                    out.push(child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// The kinds of the anonymous children (operators, keywords), in order.
    pub fn anonymous_kinds(&mut self, node: Node<'s>) -> SmallVec<[&'s str; 4]> {
        let mut out = SmallVec::new();
        let cursor = &mut self.cursor;
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if !child.is_named() {
                    out.push(child.kind());
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// Named children with their field ids (0 when a child has no field).
    pub fn fields(&mut self, node: Node<'s>) -> SmallVec<[(u16, Node<'s>); 8]> {
        let mut out = SmallVec::new();
        let cursor = &mut self.cursor;
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if child.is_named() && !child.is_extra() {
                    out.push((cursor.field_id().map_or(0, |f| f.get()), child));
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// All children of one field (operators included), in order.
    pub fn field_all(&mut self, node: Node<'s>, field: u16) -> SmallVec<[Node<'s>; 4]> {
        let mut out = SmallVec::new();
        let cursor = &mut self.cursor;
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                if cursor.field_id().is_some_and(|f| f.get() == field) {
                    out.push(cursor.node());
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// Whether an anonymous keyword child (`async`, `*`, `await`) is present.
    pub fn has_token(&mut self, node: Node<'s>, token: &str) -> bool {
        let cursor = &mut self.cursor;
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if !child.is_named() && child.kind() == token {
                    return true;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        false
    }

    // -----------------------------------------------------------------------------------------
    // Writing malwicode

    fn code(&mut self) -> &mut Malwicode {
        &mut self.objects[self.current].code
    }

    pub fn op(&mut self, op: Op) {
        self.code().op(op);
    }

    /// An opcode with a word of the emitter's own (an operator, `None`, `<lambda>`).
    pub fn op_arg(&mut self, op: Op, word: &str) {
        let code = self.code();
        code.op(op);
        code.word(word);
    }

    /// An opcode whose argument is the behaviour category a name resolved to.
    pub fn op_category(&mut self, op: Op, category: &'static str) {
        let code = self.code();
        code.op(op);
        code.category(category);
    }

    pub fn op_count(&mut self, op: Op, count: usize) {
        let code = self.code();
        code.op(op);
        code.count(count);
    }

    /// An opcode whose argument is a name from the source.
    pub fn op_name(&mut self, op: Op, name: &str) {
        if op == Op::ImportName {
            self.note_import(name);
        }
        self.op(op);
        self.push_name(name);
    }

    /// Remembers a module the code imports (the first MAX_IMPORTS of a file).
    pub fn note_import(&mut self, module: &str) {
        if !module.is_empty() && self.imports.len() < MAX_IMPORTS {
            self.imports.push(module.to_string());
        }
    }

    /// A name argument after an opcode already written (`KW_NAMES a b`).
    pub fn push_arg_name(&mut self, name: &str) {
        self.push_name(name);
    }

    /// Identifiers are verbatim, except that one spelled like a reserved token (a variable named
    /// `CALL`) gets a `_` prefix, so reserved tokens only ever come from the emitter.
    fn push_name(&mut self, name: &str) {
        let bytes = name.as_bytes();
        if bytes.is_empty() {
            self.code().name("_");
        } else if bytes[0].is_ascii_uppercase() && self.reserved.contains(name) {
            let escaped = format!("_{name}");
            self.code().name(&escaped);
        } else if bytes.iter().any(|b| b.is_ascii_whitespace())
            || (!name.is_ascii() && name.contains(char::is_whitespace))
        {
            // Names taken from strings (module specifiers) may hold whitespace, and JavaScript
            // identifiers may hold U+0085, which Rust counts as whitespace.
            let joined: String = name.split_whitespace().collect();
            self.code().name(if joined.is_empty() { "_" } else { &joined });
        } else {
            self.code().name(name);
        }
    }

    /// Remembers a string literal for payload decoding (see [`crate::payloads`]), a short one
    /// as a key candidate, and counts its bytes (see [`crate::literal_stats`]).
    pub fn note_payload(&mut self, node: Node<'_>, value: &str) {
        self.literal_stats.add(value.as_bytes());
        payloads::note_key(&mut self.key_constants, value);
        let executed = self.executed(node) && value.len() >= payloads::MIN_FOLDED_LEN;
        // Inside an expression already folded into a candidate, the literal is part of it.
        if node.start_byte() < self.folded_until
            || !(executed || payloads::is_candidate(value) || payloads::is_whitespace_candidate(value))
        {
            return;
        }
        let lines = Self::line_span(node);
        if self.payload_candidates.len() >= payloads::MAX_PAYLOADS_PER_FILE {
            if payloads::looks_encoded(value) {
                if self.dropped_payloads.0 == 0 {
                    self.dropped_payloads.1 = lines;
                }
                self.dropped_payloads.0 += 1;
            }
            return;
        }
        let marshal = node.start_byte() < self.marshal_until;
        let candidate = payloads::Candidate {
            lines,
            value: value.to_string(),
            folded: false,
            executed,
            marshal,
            bound: Vec::new(),
        };
        self.payload_candidates.push(candidate);
    }

    /// Before a call's arguments are emitted: when the callee runs code (its category is
    /// `DYNAMIC_CODE_EXECUTION`: `exec`, `eval`, `compile`, `Function`, `vm.runInThisContext`),
    /// a string among them is code even with the spaces [`payloads::is_candidate`] refuses.
    pub fn enter_call(&mut self, callee: &Value, arguments: Node<'_>) {
        if callee.qual().is_some_and(|q| self.apis.exact(&q.name) == Some("DYNAMIC_CODE_EXECUTION")) {
            self.executed_until = self.executed_until.max(arguments.end_byte());
        }
    }

    /// `Function(p1, ..., body)` was emitted with `parameters` (the string arguments before
    /// the body) and candidates from `first` on: the body's is the last one, when its value is
    /// the body. A call of the built function next binds them (see [`Core::bind_parameters`]).
    pub fn constructed_function(&mut self, parameters: Vec<String>, first: usize, body: &str) {
        self.constructed = None;
        let names: Vec<String> = parameters
            .iter()
            .flat_map(|p| p.split(','))
            .map(|p| p.trim().to_string())
            .filter(|p| is_identifier(p))
            .collect();
        if names.is_empty() || self.payload_candidates.len() <= first {
            return;
        }
        let index = self.payload_candidates.len() - 1;
        if self.payload_candidates[index].value == body {
            self.constructed = Some((index, names));
        }
    }

    /// A call of the function just built by `Function`: its parameters are the identifiers it
    /// passes (`(require)`), in order.
    pub fn bind_parameters(&mut self, constructed: Option<(usize, Vec<String>)>, arguments: &[String]) {
        let Some((index, parameters)) = constructed else { return };
        let bound = parameters
            .into_iter()
            .zip(arguments.iter())
            .filter(|(parameter, name)| is_identifier(name) && parameter != *name)
            .map(|(parameter, name)| (parameter, name.clone()))
            .collect();
        self.payload_candidates[index].bound = bound;
    }

    fn executed(&self, node: Node<'_>) -> bool {
        node.start_byte() < self.executed_until
    }

    /// Folds a string expression built from literals (see [`fold`]) and remembers its value for
    /// payload decoding: it may be code itself, or encoded code.
    pub fn fold_payload(&mut self, node: Node<'_>, language: Language) {
        if node.start_byte() < self.folded_until || self.payload_candidates.len() >= payloads::MAX_PAYLOADS_PER_FILE {
            return;
        }
        if !fold::worth_folding(node, self.src, language) {
            return;
        }
        let Some((value, obfuscated)) = self.fold(node, language, false) else { return };
        // Code that is merely concatenated (tests build snippets that way) is not a payload,
        // unless it is run; concatenated *encoded* text is, like any literal.
        let executed = self.executed(node) && value.len() >= payloads::MIN_FOLDED_LEN;
        if (obfuscated && value.len() >= payloads::MIN_FOLDED_LEN) || executed || payloads::is_candidate(&value) {
            self.folded_until = node.end_byte();
            let lines = Self::line_span(node);
            let marshal = node.start_byte() < self.marshal_until;
            let candidate =
                payloads::Candidate { lines, value, folded: obfuscated, executed, marshal, bound: Vec::new() };
            self.payload_candidates.push(candidate);
        }
    }

    /// What `node` evaluates to when it is built from literals (and, with `constants`, names
    /// bound to constant strings), within the file's folding budget; its exhaustion is noted.
    pub fn fold(&mut self, node: Node<'_>, language: Language, constants: bool) -> Option<(String, bool)> {
        if self.fold_budget == 0 {
            return None;
        }
        let mut budget = self.fold_budget;
        let lookup = |name: &str| match self.lookup(name) {
            Some(Binding::Const(value)) => Some(value.clone()),
            _ => None,
        };
        let names: Option<fold::Constants<'_>> = if constants { Some(&lookup) } else { None };
        let folded = fold::evaluate(node, self.src, language, names, &mut budget);
        self.fold_budget = budget;
        if budget == 0 && self.fold_exhausted.is_none() {
            self.fold_exhausted = Some(Self::line_span(node));
        }
        folded
    }

    /// A string an expression evaluates to when it is built at run time from constants
    /// (`'sys' + 'tem'`, `'metsys'[::-1]`, `'{}{}'.format(a, 'tem')` after `a = 'sys'`): the
    /// name a dynamic lookup resolves to. None for a plain literal, which needs no folding.
    pub fn built_string(&mut self, node: Node<'_>, language: Language) -> Option<String> {
        if matches!(node.kind(), "string" | "concatenated_string") && !self.src[node.byte_range()].contains('{') {
            return None;
        }
        self.fold(node, language, true).map(|(value, _)| value)
    }

    /// `LOAD_CONST` of a string value: its class tokens, or the quoted string when short.
    pub fn load_string(&mut self, value: &str) {
        self.op(Op::LoadConst);
        self.push_string(value);
    }

    pub fn push_string(&mut self, value: &str) {
        match classify(value, self.config) {
            StringToken::Verbatim => self.code().verbatim(value),
            StringToken::Class(class, bucket) => {
                let kept = if NAMED_PLACES.contains(&class) { self.kept_string(value) } else { None };
                self.code().string(class, bucket, kept);
            }
        }
    }

    /// The value of a string that names a file or URL, kept for the flows' details: the first
    /// `MAX_STRINGS` of an object, then only those that name a place the analysis knows
    /// (padding an object with dummy strings must not hide the one that matters).
    fn kept_string(&mut self, value: &str) -> Option<Box<str>> {
        let noted = self.code().noted_count();
        if noted < taint::MAX_STRINGS || (noted < taint::MAX_NAMED_STRINGS && taint::place_of(value).is_some()) {
            let mut end = value.len().min(taint::MAX_DETAIL);
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            return Some(value[..end].into());
        }
        None
    }

    /// A statement starts here: the data-flow analysis takes its line from this mark.
    pub fn mark_statement(&mut self, node: Node<'_>) {
        let line = node.start_position().row as u32 + 1;
        self.code().statement(line);
    }

    pub fn load_number(&mut self, text: &str) {
        let normalized = normalize_number(text);
        let code = self.code();
        code.op(Op::LoadConst);
        code.number(&normalized);
    }

    // -----------------------------------------------------------------------------------------
    // Objects

    pub fn line_span(node: Node<'_>) -> (u32, u32) {
        let start = node.start_position().row as u32 + 1;
        let end = node.end_position();
        let mut end_line = end.row as u32 + 1;
        if end.column == 0 && end_line > start {
            end_line -= 1;
        }
        (start, end_line)
    }

    /// Starts a new object; tokens go to it until [`Core::end_object`] with the returned token.
    pub fn begin_object(&mut self, name: String, kind: ObjectKind, node: Node<'_>) -> usize {
        let (start_line, end_line) = Self::line_span(node);
        self.objects.push(Draft {
            name,
            kind,
            start_line,
            end_line,
            start_byte: node.start_byte(),
            end_byte: node.end_byte(),
            code: Malwicode::with_capacity(node.end_byte() - node.start_byte()),
        });
        std::mem::replace(&mut self.current, self.objects.len() - 1)
    }

    pub fn end_object(&mut self, previous: usize) {
        self.current = previous;
    }

    /// Where a `def`/`function` declared here goes.
    pub fn function_placement(&self, name: &str) -> Placement {
        match self.contexts.last() {
            Some(Context::Module) => Placement::Separate { name: name.to_string(), kind: ObjectKind::Function },
            Some(Context::Class { name: class, separate: true }) if self.config.methods == Granularity::Separate => {
                Placement::Separate { name: format!("{class}.{name}"), kind: ObjectKind::Method }
            }
            _ => Placement::Inline,
        }
    }

    pub fn class_placement(&self, name: &str) -> Placement {
        match self.contexts.last() {
            Some(Context::Module) => Placement::Separate { name: name.to_string(), kind: ObjectKind::Class },
            _ => Placement::Inline,
        }
    }

    pub fn lambda_placement(&self, name: Option<&str>) -> Placement {
        match self.config.lambdas {
            Granularity::Separate => {
                Placement::Separate { name: name.unwrap_or("<lambda>").to_string(), kind: ObjectKind::Lambda }
            }
            Granularity::Inline => Placement::Inline,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Scopes and name resolution

    pub fn push_scope(&mut self) {
        self.scopes.push(FxHashMap::default());
    }

    pub fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    /// Records what a name now holds after `name = <value>`.
    pub fn bind(&mut self, name: &str, value: &Value) {
        if let Some(binding) = self.binding_of(name, value) {
            let scope = self.scopes.last_mut().expect("there is always a scope");
            scope.insert(name.to_string(), binding);
        }
    }

    /// `object.name = value` (or `object['name'] = value`) when `object` is a namespace of
    /// globals (`global`, `globalThis`, `window`, `builtins`): `name` becomes a global, bound
    /// in the outermost scope so every function of the file sees it unless it shadows the name.
    pub fn bind_if_global(&mut self, object: &Value, name: &str, value: &Value) {
        let Value::Qual { qual, .. } = object else { return };
        if !self.apis.is_global_namespace(&qual.name) {
            return;
        }
        if let Some(binding) = self.binding_of(name, value) {
            self.scopes[0].insert(name.to_string(), binding);
        }
    }

    /// `STORE_ATTR` of `object.attr = value`, binding a global when `object` is their namespace.
    pub fn store_attr(&mut self, object: &Value, attr: &str, value: &Value) {
        self.attr_op(Op::StoreAttr, object, attr);
        self.bind_if_global(object, attr, value);
    }

    /// What `name = <value>` binds, if it needs remembering.
    fn binding_of(&self, name: &str, value: &Value) -> Option<Binding> {
        Some(match value {
            Value::Qual { qual, instance: false, .. } => Binding::Alias(qual.clone()),
            Value::Qual { qual, instance: true, .. } => Binding::Instance(qual.clone()),
            Value::Str(s) if s.len() <= 256 => Binding::Const(s.clone()),
            _ => {
                // Only shadowing needs remembering: a plain local that hides nothing costs nothing.
                let hides_something = matches!(self.lookup(name), Some(b) if !matches!(b, Binding::Local))
                    || self.apis.is_known_path(name);
                if !hides_something {
                    return None;
                }
                Binding::Local
            }
        })
    }

    pub fn bind_local(&mut self, name: &str) {
        self.bind(name, &Value::Unknown);
    }

    /// Binds an import alias to a module path (`import subprocess as sp`).
    pub fn bind_import(&mut self, name: &str, qual: Qual) {
        let scope = self.scopes.last_mut().expect("there is always a scope");
        scope.insert(name.to_string(), Binding::Alias(qual));
    }

    /// `LOAD_NAME` of an identifier, resolved through bindings. A name bound to an API path is
    /// emitted in its canonical form, so that `sp.Popen`, `subprocess.Popen` and an imported
    /// `Popen` produce the same tokens. `callee`: the value is about to be called.
    pub fn load_name(&mut self, name: &str, callee: bool) -> Value {
        match self.lookup(name) {
            Some(Binding::Alias(qual)) => {
                let qual = qual.clone();
                self.load_canonical(&qual, callee)
            }
            Some(Binding::Instance(qual)) => {
                let qual = qual.clone();
                self.op_name(Op::LoadName, name);
                Value::Qual { qual, categorized: false, instance: true }
            }
            Some(Binding::Const(s)) => {
                let s = s.clone();
                self.op_name(Op::LoadName, name);
                Value::Str(s)
            }
            Some(Binding::Local) => {
                self.op_name(Op::LoadName, name);
                Value::Unknown
            }
            None => self.load_root(name, callee),
        }
    }

    /// A free name: a builtin, global or module (`exec`, `process`, `os`), or just a name.
    fn load_root(&mut self, name: &str, callee: bool) -> Value {
        if !self.apis.is_known_path(name) {
            self.op_name(Op::LoadName, name);
            return Value::Unknown;
        }
        let category = self.apis.exact(name).or_else(|| if callee { self.apis.module_itself(name) } else { None });
        match category {
            Some(category) => self.op_category(Op::LoadName, category),
            None => self.op_name(Op::LoadName, name),
        }
        Value::Qual { qual: Qual::root(name), categorized: category.is_some(), instance: false }
    }

    /// Emits a path in canonical form: the module root, then one `LOAD_ATTR` per member.
    fn load_canonical(&mut self, qual: &Qual, callee: bool) -> Value {
        let root = &qual.name[..qual.root_len];
        let members = qual.name.get(qual.root_len + 1..).unwrap_or("");
        let mut value = self.load_root(root, callee && members.is_empty());
        if !members.is_empty() {
            let count = members.split('.').count();
            for (i, member) in members.split('.').enumerate() {
                value = self.load_attr(value, member, callee && i + 1 == count);
            }
        }
        match value {
            // Known to the alias even when the database does not know the path.
            Value::Unknown => Value::Qual { qual: qual.clone(), categorized: false, instance: false },
            other => other,
        }
    }

    /// Resolves `object.attr` without emitting anything: the new value and its category.
    pub fn resolve_attr(&self, object: &Value, attr: &str, callee: bool) -> (Value, Option<&'static str>) {
        let Value::Qual { qual, categorized, .. } = object else { return (Value::Unknown, None) };
        let parent = &qual.name;
        let (name, root_len) = if self.apis.is_global_namespace(parent) {
            (attr.to_string(), attr.len())
        } else {
            (format!("{parent}.{attr}"), qual.root_len)
        };
        if !self.apis.is_known_path(&name) {
            return (Value::Unknown, None);
        }
        let category = self
            .apis
            .exact(&name)
            .or_else(|| if callee { self.apis.module_itself(&name) } else { None })
            .or_else(|| if *categorized { None } else { self.apis.enclosing_module(&name) });
        let value = Value::Qual {
            qual: Qual { name, root_len },
            categorized: *categorized || category.is_some(),
            instance: false,
        };
        (value, category)
    }

    /// `LOAD_ATTR` on a value: the category when the path resolves to one, else the name.
    pub fn load_attr(&mut self, object: Value, attr: &str, callee: bool) -> Value {
        let (value, category) = self.resolve_attr(&object, attr, callee);
        match category {
            Some(category) => self.op_category(Op::LoadAttr, category),
            None => self.op_name(Op::LoadAttr, attr),
        }
        value
    }

    /// An attribute name in an op other than `LOAD_ATTR` (`STORE_ATTR`, `IMPORT_FROM`, ...).
    pub fn attr_op(&mut self, op: Op, object: &Value, attr: &str) -> Value {
        let (value, category) = self.resolve_attr(object, attr, false);
        match category {
            Some(category) => self.op_category(op, category),
            None => self.op_name(op, attr),
        }
        value
    }

    /// A string used as an attribute name (`getattr(os, 'system')`, `cp['exec']`): the category
    /// when it resolves on `object`, else the string as usual.
    pub fn load_attr_string(&mut self, object: &Value, attr: &str) -> Value {
        let (value, category) = self.resolve_attr(object, attr, true);
        match category {
            Some(category) => self.op_category(Op::LoadConst, category),
            None => self.load_string(attr),
        }
        value
    }

    /// What calling `callee` produces, for the calls the emitter understands statically.
    pub fn call_result(&mut self, callee: &Value, first_string: Option<&str>, second: Option<(&Value, &str)>) -> Value {
        let Value::Qual { qual, categorized, .. } = callee else { return Value::Unknown };
        if let (
            "__import__"
            | "importlib.import_module"
            | "require"
            | "import"
            | "module.require"
            | "Module._load"
            | "module.constructor._load"
            | "module._load",
            Some(module),
        ) = (qual.name.as_str(), first_string)
        {
            self.note_import(module.strip_prefix("node:").unwrap_or(module));
        }
        match (qual.name.as_str(), first_string, second) {
            ("__import__", Some(module), _) => {
                // `__import__('os.path')` returns the top-level package.
                let top = module.split('.').next().unwrap_or(module);
                Value::Qual { qual: Qual::root(top), categorized: false, instance: false }
            }
            ("importlib.import_module", Some(module), _) => {
                let root_len = module.find('.').unwrap_or(module.len());
                Value::Qual { qual: Qual { name: module.to_string(), root_len }, categorized: false, instance: false }
            }
            (
                "require"
                | "import"
                | "module.require"
                | "process.mainModule.require"
                | "Module._load"
                | "module.constructor._load"
                | "module._load"
                | "require.main.require",
                Some(module),
                _,
            ) => {
                let module = module.strip_prefix("node:").unwrap_or(module);
                Value::Qual { qual: Qual::root(module), categorized: false, instance: false }
            }
            // Node's internal process bindings are `child_process` without the module: what
            // `process.binding('spawn_sync').spawn(...)` calls is what `spawnSync` calls.
            ("process.binding" | "process._linkedBinding", Some("spawn_sync" | "process_wrap"), _) => {
                Value::Qual { qual: Qual::root("child_process"), categorized: false, instance: false }
            }
            ("getattr", _, Some((object, attr))) => self.resolve_attr(object, attr, true).0,
            _ => Value::Qual { qual: qual.clone(), categorized: *categorized, instance: true },
        }
    }
}

/// Implemented by each language's emitter, so the shared helpers below can reach the core.
pub(crate) trait Emit<'s> {
    fn core(&mut self) -> &mut Core<'s>;
}

/// Runs `body` for a definition: in a new object or inline, always in a new scope and context.
pub(crate) fn in_definition<'s, E: Emit<'s>>(
    emitter: &mut E,
    placement: Placement,
    node: Node<'s>,
    context: Context,
    body: impl FnOnce(&mut E),
) {
    let core = emitter.core();
    let previous = match placement {
        Placement::Separate { name, kind } => Some(core.begin_object(name, kind, node)),
        Placement::Inline => None,
    };
    core.contexts.push(context);
    core.push_scope();
    // Nesting limits are per object: a separate object starts again from depth zero.
    let saved_depth = core.depth;
    if previous.is_some() {
        core.depth = 0;
    }
    body(emitter);
    let core = emitter.core();
    core.depth = saved_depth;
    core.pop_scope();
    core.contexts.pop();
    if let Some(previous) = previous {
        core.end_object(previous);
    }
}

/// Recursion guard for statements and expressions: grows the stack on the heap when it runs
/// low, and past `max_nesting` hands the subtree to `too_deep` (a flat, iterative emission).
pub(crate) fn nested<'s, E: Emit<'s>, R>(
    emitter: &mut E,
    too_deep: impl FnOnce(&mut E) -> R,
    body: impl FnOnce(&mut E) -> R,
) -> R {
    let core = emitter.core();
    if core.depth >= core.config.max_nesting {
        return too_deep(emitter);
    }
    core.depth += 1;
    let result = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || body(emitter));
    emitter.core().depth -= 1;
    result
}

/// A plain JavaScript or Python identifier (what a binding prelude may name).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

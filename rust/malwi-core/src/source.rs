//! Turning file bytes into text the parser can take: binary detection, BOM, NUL bytes and
//! invalid UTF-8. Nothing here ever fails: odd input is repaired and the repair is reported.

use std::sync::Arc;

/// Text ready for parsing, with what had to be repaired to get it.
pub struct SourceText {
    pub text: Arc<str>,
    /// Invalid UTF-8 sequences were replaced by U+FFFD.
    pub invalid_utf8: bool,
    /// NUL bytes were replaced by spaces (tree-sitter grammars may read NUL as end of input).
    pub nul_bytes: bool,
}

impl SourceText {
    /// The text of a file in `language`: Python honours its coding cookie.
    pub fn of(bytes: Vec<u8>, language: crate::language::Language) -> SourceText {
        if language == crate::language::Language::Python {
            SourceText::decode_python(bytes)
        } else {
            SourceText::decode(bytes)
        }
    }

    /// A Python file's text as the interpreter reads it: honouring a PEP 263 coding cookie
    /// for the codecs an attacker can use to hide ASCII (UTF-7) or that are not UTF-8
    /// (Latin-1). Other cookies decode as UTF-8, as before.
    pub fn decode_python(bytes: Vec<u8>) -> SourceText {
        match coding_cookie(&bytes).as_deref() {
            Some("utf-7" | "u7" | "unicode-1-1-utf-7") => match decode_utf7(&bytes) {
                Some(text) => {
                    SourceText { text: Arc::from(text.replace('\0', " ")), invalid_utf8: false, nul_bytes: false }
                }
                None => SourceText::decode(bytes),
            },
            Some(
                "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "cp819" | "iso-8859-15" | "cp1252"
                | "windows-1252",
            ) if std::str::from_utf8(&bytes).is_err() => {
                let text: String = bytes.iter().map(|b| if *b == 0 { ' ' } else { char::from(*b) }).collect();
                SourceText { text: Arc::from(text), invalid_utf8: false, nul_bytes: false }
            }
            _ => SourceText::decode(bytes),
        }
    }

    pub fn decode(mut bytes: Vec<u8>) -> SourceText {
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        let nul_bytes = memchr::memchr(0, &bytes).is_some();
        if nul_bytes {
            for b in bytes.iter_mut().filter(|b| **b == 0) {
                *b = b' ';
            }
        }
        let (text, invalid_utf8) = match String::from_utf8(bytes) {
            Ok(text) => (text, false),
            Err(err) => (String::from_utf8_lossy(err.as_bytes()).into_owned(), true),
        };
        SourceText { text: Arc::from(text), invalid_utf8, nul_bytes }
    }
}

/// The encoding a Python file declares in a PEP 263 coding cookie (`# -*- coding: utf-7 -*-`
/// on its first or second line), lower-cased with `_` as `-`.
pub fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|b| *b == b'\n').take(2) {
        let line = std::str::from_utf8(line).ok()?;
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            // Only comment lines may carry it; a first line of code ends the search.
            if trimmed.is_empty() {
                continue;
            }
            return None;
        }
        if let Some(at) =
            trimmed.find("coding").filter(|at| matches!(trimmed.as_bytes().get(at + 6), Some(b':' | b'=')))
        {
            let name: String = trimmed[at + 7..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            return (!name.is_empty()).then(|| name.to_ascii_lowercase().replace('_', "-"));
        }
    }
    None
}

/// Decodes UTF-7 (RFC 2152): `+` starts modified base64 of UTF-16BE, `-` (or any character
/// outside the alphabet) ends it, `+-` is a plus sign. None on a malformed sequence.
pub fn decode_utf7(bytes: &[u8]) -> Option<String> {
    fn sextet(b: u8) -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'+' {
            out.push(char::from(b).is_ascii().then_some(char::from(b))?);
            continue;
        }
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let (mut bits, mut count, mut units) = (0u32, 0u32, Vec::new());
        while let Some(value) = bytes.get(i).and_then(|b| sextet(*b)) {
            bits = (bits << 6) | value;
            count += 6;
            if count >= 16 {
                count -= 16;
                units.push(((bits >> count) & 0xFFFF) as u16);
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        out.push_str(&String::from_utf16(&units).ok()?);
    }
    Some(out)
}

/// The code of a `.pth` file: Python's `site` module runs each line that starts with `import`
/// (followed by a space or tab) at every interpreter start-up and treats the others as paths.
/// The other lines are blanked, so line numbers stay those of the file.
pub fn pth_code(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.starts_with("import ") || line.starts_with("import\t") {
            code.push_str(line);
        } else if line.ends_with('\n') {
            code.push('\n');
        }
    }
    code
}

/// Magic numbers of formats that are never source code.
#[rustfmt::skip]
const BINARY_MAGIC: &[&[u8]] = &[
    b"\x7FELF", b"MZ", b"PK\x03\x04", b"\x1F\x8B", b"BZh", b"\xFD7zXZ\x00", b"%PDF", b"\x89PNG",
    b"\xCA\xFE\xBA\xBE", b"\xCF\xFA\xED\xFE", b"\xFE\xED\xFA\xCF", b"7z\xBC\xAF\x27\x1C", b"Rar!", b"\x00asm",
    b"GIF8", b"\xFF\xD8\xFF",
];

/// Whether the start of a file looks like a binary rather than text: a known magic number, or
/// more than 10% control bytes (other than common whitespace) in the first 8 KiB, and at least
/// four of them. A text file with a few stray NUL bytes is still text.
pub fn looks_binary(head: &[u8]) -> bool {
    if BINARY_MAGIC.iter().any(|magic| head.starts_with(magic)) {
        // "MZ" and "GIF8" could start a text file; require a NUL nearby to be sure.
        let needs_nul = head.starts_with(b"MZ") || head.starts_with(b"GIF8");
        if !needs_nul || memchr::memchr(0, &head[..head.len().min(512)]).is_some() {
            return true;
        }
    }
    let sample = &head[..head.len().min(8192)];
    if sample.is_empty() {
        return false;
    }
    let control = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)).count();
    control >= 4 && control * 10 > sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coding_cookies_are_read_from_the_first_two_comment_lines() {
        assert_eq!(coding_cookie(b"# -*- coding: UTF_7 -*-\nx = 1\n").as_deref(), Some("utf-7"));
        assert_eq!(
            coding_cookie(b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\n").as_deref(),
            Some("latin-1")
        );
        assert_eq!(coding_cookie(b"x = 1\n# coding: utf-7\n"), None, "after code it is a comment");
        assert_eq!(coding_cookie(b"#\n#\n# coding: utf-7\n"), None, "third line");
    }

    #[test]
    fn utf7_decodes_as_python_does() {
        assert_eq!(decode_utf7(b"+AGkAbQBwAG8AcgB0ACAAbwBz-").as_deref(), Some("import os"));
        assert_eq!(decode_utf7(b"1 +- 1 = 2").as_deref(), Some("1 + 1 = 2"));
        assert_eq!(decode_utf7(b"+2D3eAA-").as_deref(), Some("\u{1F600}"), "a surrogate pair");
        assert_eq!(decode_utf7("caf\u{e9}".as_bytes()), None, "not 7-bit");
        let source = SourceText::decode_python(b"# coding: utf-7\n+AG8AcwAuAHMAeQBzAHQAZQBtACgAYwAp-\n".to_vec());
        assert_eq!(&*source.text, "# coding: utf-7\nos.system(c)\n");
        let latin = SourceText::decode_python(b"# coding: latin-1\nname = '\xe9'\n".to_vec());
        assert_eq!(&*latin.text, "# coding: latin-1\nname = '\u{e9}'\n");
        assert!(!latin.invalid_utf8);
    }

    #[test]
    fn repairs_are_reported() {
        let clean = SourceText::decode(b"x = 1\n".to_vec());
        assert!(!clean.invalid_utf8 && !clean.nul_bytes);
        let odd = SourceText::decode(b"\xEF\xBB\xBFx = '\xff'\0\n".to_vec());
        assert!(odd.invalid_utf8 && odd.nul_bytes);
        assert_eq!(&*odd.text, "x = '\u{fffd}' \n");
    }

    #[test]
    fn pth_files_keep_only_what_site_runs() {
        let pth = "/opt/lib/extra\nimport os; os.system('id')\n# a comment\nimportant/path\nimport\tsys\n";
        assert_eq!(pth_code(pth), "\nimport os; os.system('id')\n\n\nimport\tsys\n");
        assert_eq!(pth_code("import x"), "import x", "a last line without a newline counts");
    }

    #[test]
    fn binary_detection() {
        assert!(looks_binary(b"\x7FELF\x02\x01\x01\x00\x00"));
        assert!(looks_binary(&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        assert!(!looks_binary(b"import os\nos.system('id')\n"));
        assert!(!looks_binary(b"MZ = 1\nprint(MZ)\n"));
        let mut mostly_text = b"x = 1\n".repeat(100);
        mostly_text.push(0);
        assert!(!looks_binary(&mostly_text));
    }
}

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

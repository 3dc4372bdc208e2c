//! Character tables and byte helpers shared by the lexer, the prefilter and the detectors.

/// Bytes that continue an identifier (ASCII part; non-ASCII letters are decoded one by one).
pub(super) const IDENT_CONT: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'$');
        i += 1;
    }
    table
};

/// The scanned text, for looking a few bytes around a token.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Source { text, bytes: text.as_bytes() }
    }

    /// Whether `pattern` starts at `j`.
    pub(super) fn at(&self, j: usize, pattern: &[u8]) -> bool {
        self.bytes.get(j..).is_some_and(|rest| rest.starts_with(pattern))
    }

    /// The first position from `j` that is not a space or a tab.
    pub(super) fn skip_spaces(&self, mut j: usize) -> usize {
        while j < self.bytes.len() && matches!(self.bytes[j], b' ' | b'\t') {
            j += 1;
        }
        j
    }

    /// The character at byte `i`, unless `i` falls inside one.
    pub(super) fn char_at(&self, i: usize) -> Option<char> {
        if self.text.is_char_boundary(i) {
            self.text[i..].chars().next()
        } else {
            None
        }
    }

    /// After a `from` ending at `end`: the position after `import` when `from <module> import`
    /// follows (`module` whole, not the start of a dotted name).
    pub(super) fn module_import(&self, end: usize, module: &[u8]) -> Option<usize> {
        let j = self.skip_spaces(end);
        let module_end = j + module.len();
        if !self.at(j, module) || self.bytes.get(module_end).is_some_and(|&c| IDENT_CONT[c as usize] || c == b'.') {
            return None;
        }
        let k = self.skip_spaces(module_end);
        self.at(k, b"import").then_some(k + 6)
    }
}

/// Zero-width and other invisible characters (U+FEFF apart: it is whitespace in code).
pub(super) fn is_invisible(ch: char) -> bool {
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

/// Bidirectional marks, embeddings, overrides and isolates ("trojan source").
pub(super) fn is_bidi(ch: char) -> bool {
    matches!(ch, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An identifier for a report: invisible and bidirectional characters written as `\u{...}`.
pub(super) fn escape(name: &str) -> String {
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

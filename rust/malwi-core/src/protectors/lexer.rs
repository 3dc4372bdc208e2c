//! The lexer: one pass over a file that knows strings, comments, numbers and identifiers of
//! Python and JavaScript (regular expression and template literals included) and hands each of
//! them to the detectors through [`Hooks`]. It keeps only what lexing needs (the line, brace
//! depth, whether `/` divides, the current run of `[]()!+`); everything about obfuscators lives
//! behind the hooks.

use memchr::{memchr, memchr3, memmem};

use super::text::{is_bidi, Source, IDENT_CONT};

/// What the lexer reports, in text order. Positions are byte offsets, lines are 1-based.
pub(super) trait Hooks<'a> {
    /// An identifier in code at `start..end`; `non_ascii` when it holds a non-ASCII character.
    fn ident(&mut self, name: &'a str, start: usize, end: usize, line: u32, non_ascii: bool);
    /// A number literal in code.
    fn number(&mut self, text: &'a [u8], line: u32);
    /// The content `start..end` of a string literal (or of a template's text part) that began on
    /// `line`; `is_bytes` for Python `b'...'`.
    fn literal(&mut self, start: usize, end: usize, line: u32, is_bytes: bool);
    /// The text of a comment after its `#`, `//` or `/*`.
    fn comment(&mut self, text: &'a str, line: u32);
    /// A `[` in code at `at`.
    fn open_bracket(&mut self, at: usize, line: u32);
    /// The end of a run of `len` characters of `[]()!+` spanning `start..end` (spaces and newlines
    /// inside do not break a run), which began on `line`.
    fn symbol_run(&mut self, start: usize, end: usize, len: u32, line: u32);
    /// A U+FEFF in code after the start of the file.
    fn bom(&mut self, line: u32);
    /// A bidirectional control character in code.
    fn bidi(&mut self, ch: char, line: u32);
    /// The end of a physical line in code or inside a quoted string, and the end of the text.
    /// Newlines inside templates and block comments are counted but not reported.
    fn end_of_line(&mut self, line: u32);
}

/// Counts the verdict needs once the text is read.
pub(super) struct Summary {
    /// The last line number.
    pub(super) lines: u32,
    /// Identifiers in code.
    pub(super) idents: u32,
}

/// Reads `text` once, reporting to `hooks`, which it gives back.
pub(super) fn lex<'a, H: Hooks<'a>>(text: &'a str, python: bool, hooks: H) -> (H, Summary) {
    let mut lexer = Lexer {
        src: Source::new(text),
        python,
        line: 1,
        idents: 0,
        prev_operand: false,
        depth: 0,
        templates: Vec::new(),
        run: 0,
        run_line: 0,
        run_start: 0,
        run_end: 0,
        hooks,
    };
    lexer.run();
    (lexer.hooks, Summary { lines: lexer.line, idents: lexer.idents })
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
const SYMBOL: u8 = 9;
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
            b'[' | b']' | b'(' | b')' | b'!' | b'+' => SYMBOL,
            b'{' => LBRACE,
            b'}' => RBRACE,
            0x80..=0xFF => NONASCII,
            _ => OTHER,
        };
        i += 1;
    }
    table
};

struct Lexer<'a, H> {
    src: Source<'a>,
    python: bool,
    line: u32,
    idents: u32,
    /// JavaScript: whether the last token ends an operand (then `/` divides).
    prev_operand: bool,
    depth: u32,
    /// Brace depths at which an open template's `${` substitution closes.
    templates: Vec<u32>,
    /// The current run of `[]()!+`: its length, first line and extent.
    run: u32,
    run_line: u32,
    run_start: usize,
    run_end: usize,
    hooks: H,
}

impl<'a, H: Hooks<'a>> Lexer<'a, H> {
    fn run(&mut self) {
        let b = self.src.bytes;
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
                    self.break_run();
                    i = self.ident(i);
                }
                DIGIT => {
                    self.break_run();
                    i = self.number(i);
                }
                QUOTE => {
                    self.break_run();
                    i = self.string(i, false);
                }
                BACKTICK if !self.python => {
                    self.break_run();
                    i = self.template(i + 1);
                }
                HASH if self.python => {
                    self.break_run();
                    i = self.line_comment(i + 1);
                }
                SLASH if !self.python => {
                    self.break_run();
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
                SYMBOL => {
                    self.symbol(i);
                    i += 1;
                }
                LBRACE => {
                    self.break_run();
                    self.depth += 1;
                    self.prev_operand = false;
                    i += 1;
                }
                RBRACE => {
                    self.break_run();
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
                    self.break_run();
                    self.prev_operand = false;
                    i += 1;
                }
            }
        }
        self.break_run();
        self.hooks.end_of_line(self.line);
    }

    fn end_line(&mut self) {
        self.hooks.end_of_line(self.line);
        self.line += 1;
    }

    fn ident(&mut self, start: usize) -> usize {
        let b = self.src.bytes;
        let n = b.len();
        let mut j = start;
        let mut non_ascii = false;
        loop {
            while j < n && IDENT_CONT[b[j] as usize] {
                j += 1;
            }
            if j < n && b[j] >= 0x80 {
                match self.src.char_at(j) {
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
        let name = &self.src.text[start..j];
        if self.python && j < n && matches!(b[j], b'\'' | b'"') && is_string_prefix(name) {
            return self.string(j, name.bytes().any(|c| c == b'b' || c == b'B'));
        }
        self.idents += 1;
        self.hooks.ident(name, start, j, self.line, non_ascii);
        if !self.python {
            self.prev_operand = !precedes_operand(name);
        }
        j
    }

    fn number(&mut self, start: usize) -> usize {
        let b = self.src.bytes;
        let mut j = start + 1;
        while j < b.len() && (IDENT_CONT[b[j] as usize] || b[j] == b'.') {
            j += 1;
        }
        self.hooks.number(&b[start..j], self.line);
        self.prev_operand = true;
        j
    }

    /// One of `[]()!+`: part of a run (JSFuck is written in nothing else).
    fn symbol(&mut self, i: usize) {
        if self.run == 0 {
            self.run_line = self.line;
            self.run_start = i;
        }
        self.run += 1;
        self.run_end = i + 1;
        match self.src.bytes[i] {
            b'[' => {
                self.hooks.open_bracket(i, self.line);
                self.prev_operand = false;
            }
            b']' | b')' => self.prev_operand = true,
            _ => self.prev_operand = false,
        }
    }

    #[inline]
    fn break_run(&mut self) {
        if self.run != 0 {
            let len = std::mem::take(&mut self.run);
            self.hooks.symbol_run(self.run_start, self.run_end, len, self.run_line);
        }
    }

    /// A quoted string at `q` (single or, in Python, triple quoted).
    fn string(&mut self, q: usize, is_bytes: bool) -> usize {
        let b = self.src.bytes;
        let n = b.len();
        let quote = b[q];
        let start_line = self.line;
        let triple = self.python && self.src.at(q, &[quote, quote, quote]);
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
                _ if self.src.at(p, &[quote, quote, quote]) => break (p, p + 3),
                _ => j = p + 1,
            }
        };
        self.hooks.literal(content_start, end.min(n), start_line, is_bytes);
        self.prev_operand = true;
        after.min(n)
    }

    /// A JavaScript template literal from after its backtick (or after the `}` of a `${`).
    fn template(&mut self, start: usize) -> usize {
        let b = self.src.bytes;
        let n = b.len();
        let start_line = self.line;
        let mut j = start;
        loop {
            let Some(k) = memchr3(b'`', b'\\', b'$', &b[j.min(n)..]) else {
                self.count_lines(j.min(n), n);
                self.hooks.literal(start, n, start_line, false);
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
                    self.hooks.literal(start, p, start_line, false);
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
                    self.hooks.literal(start, p, start_line, false);
                    self.prev_operand = true;
                    return p + 1;
                }
            }
        }
    }

    fn count_lines(&mut self, from: usize, to: usize) {
        if from < to {
            self.line += memchr::memchr_iter(b'\n', &self.src.bytes[from..to]).count() as u32;
        }
    }

    fn regex(&mut self, start: usize) -> usize {
        let b = self.src.bytes;
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
        let n = self.src.bytes.len();
        let end = memchr(b'\n', &self.src.bytes[body.min(n)..]).map_or(n, |k| body + k);
        let start = body.min(end);
        self.hooks.comment(&self.src.text[start..end], self.line);
        end
    }

    fn block_comment(&mut self, start: usize) -> usize {
        let n = self.src.bytes.len();
        let body = start + 2;
        let line = self.line;
        let (end, after) = match memmem::find(&self.src.bytes[body.min(n)..], b"*/") {
            Some(k) => (body + k, body + k + 2),
            None => (n, n),
        };
        let end = end.max(body.min(n));
        self.hooks.comment(&self.src.text[body.min(n)..end], line);
        self.count_lines(body.min(n), end);
        after
    }

    /// Code position holding a non-ASCII character.
    fn non_ascii(&mut self, i: usize) -> usize {
        let Some(ch) = self.src.char_at(i) else { return i + 1 };
        if ch == '\u{FEFF}' {
            self.hooks.bom(self.line);
            return i + 3;
        }
        if is_space_like(ch) {
            return i + ch.len_utf8();
        }
        self.break_run();
        if is_bidi(ch) {
            self.hooks.bidi(ch, self.line);
            return i + ch.len_utf8();
        }
        self.ident(i)
    }
}

/// JavaScript words after which `/` starts a regular expression rather than dividing.
fn precedes_operand(name: &str) -> bool {
    // All of them start with a small letter; most names (`_0x1f2e`, `$`, `Foo`) are settled here.
    name.as_bytes()[0].is_ascii_lowercase()
        && matches!(
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
        )
}

/// Unicode spaces the lexer steps over in code.
fn is_space_like(ch: char) -> bool {
    matches!(
        ch,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Python string prefixes: `r`, `b`, `u`, `f`, `t` and their pairs.
fn is_string_prefix(name: &str) -> bool {
    name.len() <= 3 && name.bytes().all(|c| b"rRbBuUfFtT".contains(&c))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

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
}

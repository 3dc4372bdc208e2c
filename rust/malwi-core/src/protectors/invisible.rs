//! Invisible and bidirectional Unicode: zero-width and filler characters in identifiers
//! ("invisible backdoors"), bidirectional controls in code ("trojan source"), and both inside
//! string literals and comments, where right-to-left and Indic prose has them legitimately.

use super::confusables::confusable;
use super::text::{escape, is_bidi, is_invisible};
use super::{Findings, Protector, Sig};

/// A U+FEFF in code after the start of the file.
pub(super) fn bom(line: u32, found: &mut Findings) {
    found.record(Protector::InvisibleUnicode, Sig::BomInside, line, 0.2, || {
        "byte order mark U+FEFF inside the file".to_string()
    });
}

/// A bidirectional control in code.
pub(super) fn bidi_in_code(ch: char, line: u32, found: &mut Findings) {
    found.record(Protector::InvisibleUnicode, Sig::BidiCode, line, 0.9, || {
        format!("bidirectional control {} in code", code_point(ch))
    });
}

/// An identifier with non-ASCII characters.
pub(super) fn ident(name: &str, line: u32, found: &mut Findings) {
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
    let Some(ch) = invisible else { return };
    // ZWNJ/ZWJ are legitimate inside Persian and Indic words.
    let joiner_in_word = matches!(ch, '\u{200C}' | '\u{200D}') && other_letters > 0;
    if !joiner_in_word {
        let shown = escape(name);
        found.record(Protector::InvisibleUnicode, Sig::InvisibleIdentifier, line, 0.9, || {
            if visible == 0 {
                format!("identifier made only of invisible {} `{shown}`", code_point(ch))
            } else {
                format!("invisible character {} in identifier `{shown}`", code_point(ch))
            }
        });
    }
}

/// Invisible and bidirectional characters inside a non-ASCII string literal or comment.
pub(super) fn text(text: &str, first_line: u32, in_comment: bool, found: &mut Findings) {
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
            found.record(Protector::InvisibleUnicode, Sig::BidiComment, line, 0.3, || {
                format!("bidirectional control {} in a comment", code_point(ch))
            });
        }
        return;
    }
    if let Some((ch, line)) = bidi {
        let weight = if prose { 0.05 } else { 0.45 };
        found.record(Protector::InvisibleUnicode, Sig::BidiString, line, weight, || {
            format!("bidirectional control {} in a string literal", code_point(ch))
        });
    }
    if let Some((ch, line)) = invisible {
        let weight = if prose { 0.05 } else { 0.3 };
        found.record(Protector::InvisibleUnicode, Sig::InvisibleString, line, weight, || {
            format!("invisible character {} in a string literal", code_point(ch))
        });
    }
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

fn code_point(ch: char) -> String {
    format!("U+{:04X}", ch as u32)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::text::{is_bidi, is_invisible};
    use super::super::Protector;
    use super::{code_point, has_hidden_char};

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
    fn hidden_characters_are_found_by_their_bytes() {
        for ch in (0..0x3_0000u32).filter_map(char::from_u32) {
            let hidden = is_invisible(ch) || is_bidi(ch) || ch == '\u{FEFF}';
            let text = format!("a{ch}b");
            assert_eq!(has_hidden_char(text.as_bytes()), hidden, "{}", code_point(ch));
        }
    }
}

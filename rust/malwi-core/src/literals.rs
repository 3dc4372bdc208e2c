//! Decoding literal text: string escapes and number normalization, per language.
//!
//! Strings are classified on their *value*, so `"\x68\x74\x74\x70://..."` is a URL like
//! `"http://..."`. Integers are normalized to decimal (`0x1F`, `0o37`, `3_1` are all `31`) so the
//! model sees one token per value.

use std::borrow::Cow;

/// Decodes the body of a Python string literal (the text between the quotes).
/// `raw` literals are returned as written; in `bytes` literals `\u` and `\N` are not escapes.
pub fn decode_python(body: &str, raw: bool, bytes: bool) -> Cow<'_, str> {
    if raw || !body.contains('\\') {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\\' | '\'' | '"' => out.push(e),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0'..='7' => {
                let mut value = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                push_code_point(&mut out, value);
            }
            'x' => push_hex_escape(&mut out, &mut chars, 2, "\\x"),
            'u' if !bytes => push_hex_escape(&mut out, &mut chars, 4, "\\u"),
            'U' if !bytes => push_hex_escape(&mut out, &mut chars, 8, "\\U"),
            other => {
                // Unknown escapes (and \N{...}) keep their backslash, as Python does.
                out.push('\\');
                out.push(other);
            }
        }
    }
    Cow::Owned(out)
}

/// The value of a whole Python string literal (prefix and quotes included) that cannot hold
/// interpolations. `None` for f-strings, t-strings and malformed literals.
pub fn python_literal(text: &str) -> Option<Cow<'_, str>> {
    let quote = text.find(['\'', '"'])?;
    let prefix = text[..quote].to_ascii_lowercase();
    if prefix.contains('f') || prefix.contains('t') {
        return None;
    }
    let rest = &text[quote..];
    let delimiter = if rest.starts_with("\"\"\"") || rest.starts_with("'''") { &rest[..3] } else { &rest[..1] };
    if rest.len() < 2 * delimiter.len() || !rest.ends_with(delimiter) {
        return None;
    }
    let body = &rest[delimiter.len()..rest.len() - delimiter.len()];
    Some(decode_python(body, prefix.contains('r'), prefix.contains('b')))
}

/// Decodes the body of a JavaScript string or template chunk.
pub fn decode_javascript(body: &str) -> Cow<'_, str> {
    if !body.contains('\\') {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' | '\u{2028}' | '\u{2029}' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0'..='7' => {
                // Legacy octal escapes (\0, \101) outside strict mode.
                let mut value = e.to_digit(8).unwrap();
                let limit = if e <= '3' { 2 } else { 1 };
                for _ in 0..limit {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                push_code_point(&mut out, value);
            }
            'x' => push_hex_escape(&mut out, &mut chars, 2, "\\x"),
            'u' if chars.peek() == Some(&'{') => {
                chars.next();
                let mut digits = String::new();
                while let Some(&d) = chars.peek() {
                    chars.next();
                    if d == '}' {
                        break;
                    }
                    digits.push(d);
                }
                match u32::from_str_radix(&digits, 16) {
                    Ok(v) if digits.len() <= 6 => push_code_point(&mut out, v),
                    _ => {
                        out.push_str("\\u{");
                        out.push_str(&digits);
                        out.push('}');
                    }
                }
            }
            'u' => push_hex_escape(&mut out, &mut chars, 4, "\\u"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

fn push_hex_escape(out: &mut String, chars: &mut std::iter::Peekable<std::str::Chars<'_>>, width: usize, prefix: &str) {
    let mut digits = String::with_capacity(width);
    while digits.len() < width {
        match chars.peek() {
            Some(d) if d.is_ascii_hexdigit() => {
                digits.push(*d);
                chars.next();
            }
            _ => break,
        }
    }
    if digits.len() == width {
        push_code_point(out, u32::from_str_radix(&digits, 16).unwrap());
    } else {
        out.push_str(prefix);
        out.push_str(&digits);
    }
}

/// Lone surrogates (from `\ud83d`) cannot live in a `str`: they become U+FFFD.
fn push_code_point(out: &mut String, value: u32) {
    out.push(char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER));
}

/// Normalizes a Python or JavaScript number literal. Integers become decimal digits; anything
/// else (floats, complex, huge values) keeps its written form, lower-cased, without `_`.
pub fn normalize_number(text: &str) -> String {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect::<String>().to_ascii_lowercase();
    let digits = cleaned.trim_end_matches(['l', 'n']); // Python 2 long, JavaScript BigInt
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) => {
            // Python 2 / legacy JavaScript octal such as 0755.
            if digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                (8, &digits[1..])
            } else {
                (10, digits)
            }
        }
        _ => (10, digits),
    };
    match u128::from_str_radix(body, radix) {
        Ok(value) => value.to_string(),
        Err(_) => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_escapes() {
        assert_eq!(decode_python(r"\x68\x74tp\n", false, false), "http\n");
        assert_eq!(decode_python(r"\u00e9\U0001F600", false, false), "é😀");
        assert_eq!(decode_python(r"\u00e9", false, true), r"\u00e9");
        assert_eq!(decode_python(r"\101\0", false, false), "A\0");
        assert_eq!(decode_python(r"\d+\q", false, false), r"\d+\q");
        assert_eq!(decode_python(r"\x68", true, false), r"\x68");
        assert_eq!(decode_python("a\\\nb", false, false), "ab");
        assert_eq!(decode_python(r"\xZ", false, false), r"\xZ");
        assert_eq!(decode_python(r"\ud800", false, false), "\u{fffd}");
    }

    #[test]
    fn javascript_escapes() {
        assert_eq!(decode_javascript(r"\x68\u0074\u{74}p"), "http");
        assert_eq!(decode_javascript(r"\q\'\0"), "q'\0");
        assert_eq!(decode_javascript(r"\101"), "A");
        assert_eq!(decode_javascript(r"\u{110000}"), "\u{fffd}");
        assert_eq!(decode_javascript(r"\u{1234567}"), r"\u{1234567}");
    }

    #[test]
    fn numbers() {
        assert_eq!(normalize_number("0x1F"), "31");
        assert_eq!(normalize_number("0o37"), "31");
        assert_eq!(normalize_number("0b11111"), "31");
        assert_eq!(normalize_number("3_1"), "31");
        assert_eq!(normalize_number("10L"), "10");
        assert_eq!(normalize_number("10n"), "10");
        assert_eq!(normalize_number("0755"), "493");
        assert_eq!(normalize_number("1.5E3"), "1.5e3");
        assert_eq!(normalize_number("2j"), "2j");
        assert_eq!(normalize_number("0"), "0");
        assert_eq!(normalize_number("1".repeat(60).as_str()), "1".repeat(60));
    }
}

//! javascript-obfuscator (obfuscator.io): `_0x` names, the string array assigned to one of them,
//! the `while(!![])` loop that rotates it with `parseInt`, `push` and `shift`, and hexadecimal
//! number literals.

use super::text::Source;
use super::{Findings, Names, Protector, Sig, Tally};

pub(super) struct JsObfuscator<'a> {
    hex_names: Names<'a>,
    /// The line of `_0x... = [`.
    string_array: Option<u32>,
    /// The line of `while (!![])`.
    while_bang: Option<u32>,
    parse_int: u32,
    push: bool,
    shift: bool,
    numbers: u32,
    hex_literals: Tally,
}

impl<'a> JsObfuscator<'a> {
    pub(super) fn new() -> Self {
        JsObfuscator {
            hex_names: Names::new(),
            string_array: None,
            while_bang: None,
            parse_int: 0,
            push: false,
            shift: false,
            numbers: 0,
            hex_literals: Tally::default(),
        }
    }

    pub(super) fn ident(&mut self, src: &Source, name: &'a str, start: usize, end: usize, line: u32) {
        let bytes = name.as_bytes();
        if bytes[0] == b'_' && is_hex_name(bytes) {
            self.hex_names.add(name, line);
            if self.string_array.is_none() {
                let j = src.skip_spaces(end);
                if src.at(j, b"=") && !src.at(j, b"==") && !src.at(j, b"=>") && src.at(src.skip_spaces(j + 1), b"[") {
                    self.string_array = Some(line);
                }
            }
            return;
        }
        match name {
            "while" => {
                let j = src.skip_spaces(end);
                if src.at(j, b"(") && src.at(src.skip_spaces(j + 1), b"!![]") {
                    self.while_bang.get_or_insert(line);
                }
            }
            "parseInt" => self.parse_int += 1,
            "push" if start > 0 && src.bytes[start - 1] == b'.' => self.push = true,
            "shift" if start > 0 && src.bytes[start - 1] == b'.' => self.shift = true,
            _ => {}
        }
    }

    /// A string literal's content: `x['push']` is `x.push`.
    pub(super) fn literal(&mut self, content: &str) {
        match content {
            "push" => self.push = true,
            "shift" => self.shift = true,
            _ => {}
        }
    }

    pub(super) fn number(&mut self, text: &[u8], line: u32) {
        self.numbers += 1;
        if text.len() > 2 && matches!(text[..2], [b'0', b'x' | b'X']) {
            self.hex_literals.add(line);
        }
    }

    pub(super) fn finish(&self, found: &mut Findings) {
        let h = &self.hex_names;
        let (count, line, distinct, example) = (h.count, h.line, h.distinct.len(), h.example());
        let weight = if count >= 20 && distinct >= 3 {
            0.8
        } else if count >= 5 && distinct >= 2 {
            0.35
        } else {
            0.0
        };
        if weight > 0.0 {
            found.record(Protector::JavascriptObfuscator, Sig::HexNames, line, weight, || {
                format!("{count} _0x identifiers ({distinct} distinct, e.g. {example})")
            });
        }
        if let Some(line) = self.string_array {
            found.record(Protector::JavascriptObfuscator, Sig::StringArray, line, 0.5, || {
                "string array assigned to an _0x name".to_string()
            });
        }
        if let Some(line) = self.while_bang {
            let rotation = self.parse_int > 0 && self.push && self.shift;
            let weight = if rotation { 0.6 } else { 0.3 };
            found.record(Protector::JavascriptObfuscator, Sig::RotationLoop, line, weight, || {
                if rotation {
                    "string array rotation: while(!![]) with parseInt, push and shift".to_string()
                } else {
                    "while(!![]) loop".to_string()
                }
            });
        }
        let Tally { count, line } = self.hex_literals;
        let other = self.hex_names.count > 0 || self.string_array.is_some() || self.while_bang.is_some();
        if other && count >= 30 && count * 2 >= self.numbers {
            found.record(Protector::JavascriptObfuscator, Sig::HexLiterals, line, 0.25, || {
                format!("{count} hexadecimal number literals")
            });
        }
    }
}

/// `_0x` followed by four to six hexadecimal digits: javascript-obfuscator's names.
fn is_hex_name(name: &[u8]) -> bool {
    (7..=9).contains(&name.len()) && name.starts_with(b"_0x") && name[3..].iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{detect, Language, Protector};

    const JS_OBFUSCATED: &str = r#"function _0x3a1f() {
    var _0x52c8e1 = ['log', '1234567abcdEf', 'Hello\x20World!', '3289410kXqzvJ', '1542QwErTy', '8AbCdEf', '45123hiJkL', '2mNoPqR', '617925sTuVwX', '19476YzAbCd'];
    _0x3a1f = function () {
        return _0x52c8e1;
    };
    return _0x3a1f();
}
(function (_0x2d8f05, _0x4b81bb) {
    var _0x4d74cb = _0x1c2a, _0x3a9c4e = _0x2d8f05();
    while (!![]) {
        try {
            var _0x1f3e2d = parseInt(_0x4d74cb(0x1e4)) / 0x1 + -parseInt(_0x4d74cb(0x1e7)) / 0x2 * (parseInt(_0x4d74cb(0x1e9)) / 0x3) + parseInt(_0x4d74cb(0x1e6)) / 0x4 + parseInt(_0x4d74cb(0x1ea)) / 0x5;
            if (_0x1f3e2d === _0x4b81bb)
                break;
            else
                _0x3a9c4e['push'](_0x3a9c4e['shift']());
        } catch (_0x52a1d2) {
            _0x3a9c4e['push'](_0x3a9c4e['shift']());
        }
    }
}(_0x3a1f, 0x9c5a3));
function _0x1c2a(_0x5e1b2c, _0x2a9d17) {
    var _0x3a1f2e = _0x3a1f();
    return _0x1c2a = function (_0x1c2a8f, _0x4e7d1b) {
        _0x1c2a8f = _0x1c2a8f - 0x1e4;
        var _0x2c9f4a = _0x3a1f2e[_0x1c2a8f];
        return _0x2c9f4a;
    }, _0x1c2a(_0x5e1b2c, _0x2a9d17);
}
var _0x41b2 = _0x1c2a;
console[_0x41b2(0x1e5)](_0x41b2(0x1e8));
"#;

    #[test]
    fn javascript_obfuscator() {
        let detection = js(JS_OBFUSCATED);
        assert_protected(&detection, Protector::JavascriptObfuscator);
        assert!(detection.confidence > 0.9);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "_0x identifiers").line, 1);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "assigned").line, 2);
        assert_eq!(evidence(&detection, Protector::JavascriptObfuscator, "rotation").line, 10);
        // The same text is TypeScript too.
        assert_protected(&detect(JS_OBFUSCATED, Language::TypeScript), Protector::JavascriptObfuscator);
        // And is nothing in Python.
        assert!(!py(JS_OBFUSCATED).evidence.iter().any(|e| e.protector == Protector::JavascriptObfuscator));
    }

    #[test]
    fn minified_bundle_is_clean() {
        let module = "function(e,t,n){var r=n(12),o=n(7),i=0x1f;e.exports=function(a,s){for(var c=0;c<a.length;c++)if(!r(a[c]))return!1;return o(s,/[a-z]+\\//g.test(a)?i:0xff)}},";
        let text = format!("!function(e){{var t={{}};function n(r){{return t[r]}}n.m=e}}([{}]);\n", module.repeat(300));
        let detection = js(&text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }
}

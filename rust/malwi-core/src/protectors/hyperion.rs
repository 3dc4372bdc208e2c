//! Hyperion: names made of `I l 1 O 0` (`IlIlIlIIlI`, `OO0O0OO0O0`) after
//! `from builtins import *`.

use super::text::Source;
use super::{Findings, Names, Protector, Sig};

pub(super) struct Hyperion<'a> {
    lookalike: Names<'a>,
    /// The line of `from builtins import *`.
    builtins_star: Option<u32>,
}

impl<'a> Hyperion<'a> {
    pub(super) fn new() -> Self {
        Hyperion { lookalike: Names::new(), builtins_star: None }
    }

    /// Whether `name` is one of Hyperion's (six or more of `I l 1 O 0`, mixed, with a capital),
    /// counted here.
    pub(super) fn lookalike_name(&mut self, name: &'a str, line: u32) -> bool {
        let bytes = name.as_bytes();
        let lookalike = bytes.len() >= 6
            && matches!(bytes[0], b'I' | b'l' | b'O')
            && bytes.iter().all(|&c| is_lookalike_byte(c))
            && bytes.iter().any(|&c| c != bytes[0])
            && bytes.iter().any(|&c| c == b'I' || c == b'O');
        if lookalike {
            self.lookalike.add(name, line);
        }
        lookalike
    }

    pub(super) fn ident(&mut self, src: &Source, name: &str, end: usize, line: u32) {
        if name == "from" {
            if let Some(after) = src.module_import(end, b"builtins") {
                if src.at(src.skip_spaces(after), b"*") {
                    self.builtins_star.get_or_insert(line);
                }
            }
        }
    }

    /// `idents`: identifiers in the file (at least 1).
    pub(super) fn finish(&self, idents: u32, found: &mut Findings) {
        let l = &self.lookalike;
        let (count, line, distinct, example) = (l.count, l.line, l.distinct.len(), l.example());
        let weight = if count >= 10 && distinct >= 3 && count * 100 >= idents * 5 {
            0.8
        } else if count >= 3 && distinct >= 2 {
            0.4
        } else {
            0.0
        };
        if weight > 0.0 {
            found.record(Protector::Hyperion, Sig::LookalikeNames, line, weight, || {
                format!("{count} uses of {distinct} names made of I l 1 O 0 (e.g. {example})")
            });
            if let Some(line) = self.builtins_star {
                found.record(Protector::Hyperion, Sig::BuiltinsStarImport, line, 0.4, || {
                    "from builtins import * with I/l names".to_string()
                });
            }
        }
    }
}

/// The characters of Hyperion's names.
pub(super) fn is_lookalike_byte(c: u8) -> bool {
    matches!(c, b'I' | b'l' | b'1' | b'O' | b'0')
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn hyperion() {
        let text = "from builtins import *\n\
            IlIlIlIIlI = print\n\
            lIlIIlIlIl = 'hello'\n\
            OO0O0OO0O0 = 'world'\n\
            def IIlIlIIlIl(lIIlIlIlII, IlIIlIIlIl):\n\
            \x20   return IlIlIlIIlI(lIIlIlIlII + ' ' + IlIIlIIlIl)\n\
            if lIlIIlIlIl and OO0O0OO0O0:\n\
            \x20   IIlIlIIlIl(lIlIIlIlIl, OO0O0OO0O0)\n";
        let detection = py(text);
        assert_protected(&detection, Protector::Hyperion);
        assert_eq!(evidence(&detection, Protector::Hyperion, "I l 1 O 0").line, 2);
        assert_eq!(evidence(&detection, Protector::Hyperion, "from builtins import *").line, 1);
        // A couple of such names alone stay below the threshold.
        assert_clean(&py("IlIlIl = 1\nlIlIlI = IlIlIl + 2\nprint(lIlIlI)\n"));
    }
}

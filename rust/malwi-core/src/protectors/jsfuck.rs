//! JSFuck: JavaScript written with the six characters `[]()!+` only.

use memchr::memmem;

use super::text::Source;
use super::{Findings, Protector, Sig};

/// A run of JSFuck characters from this length is JSFuck.
const JSFUCK_RUN: u32 = 200;

/// A `[` in code: JSFuck's way to reach `Function` starts with `[][(![]+[])`.
pub(super) fn open_bracket(src: &Source, at: usize, line: u32, found: &mut Findings) {
    if src.at(at, b"[][(![]+[])") {
        found.record(Protector::Jsfuck, Sig::JsfuckPrefix, line, 0.7, || "JSFuck expression [][(![]+[])".to_string());
    }
}

/// The end of a run of `[]()!+`: JSFuck when long and made of its atoms (`![]`, `+[]`).
#[inline]
pub(super) fn symbol_run(src: &Source, start: usize, end: usize, len: u32, line: u32, found: &mut Findings) {
    // Every call's parentheses end a run: only long ones leave the lexer's loop.
    if len >= JSFUCK_RUN {
        long_run(src, start, end, len, line, found);
    }
}

fn long_run(src: &Source, start: usize, end: usize, len: u32, line: u32, found: &mut Findings) {
    let bytes = &src.bytes[start..end];
    if memmem::find(bytes, b"![]").is_none() && memmem::find(bytes, b"+[]").is_none() {
        return;
    }
    found.record(Protector::Jsfuck, Sig::JsfuckRun, line, 0.95, || format!("{len} characters made only of []()!+"));
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn jsfuck() {
        // JSFuck spellings of single letters, put together as JSFuck does; nothing runs.
        let f = "(![]+[])[+[]]";
        let a = "(![]+[])[+!+[]]";
        let l = "(![]+[])[!+[]+!+[]]";
        let t = "(!![]+[])[+[]]";
        let r = "(!![]+[])[+!+[]]";
        let e = "(!![]+[])[!+[]+!+[]+!+[]]";
        let word = [a, l, e, r, t].join("+");
        let expression = format!("[][{f}+{a}+{l}+{t}][{word}+{word}+{word}]({word})()");
        assert!(expression.len() > 400);
        let detection = js(&format!("// greeting\n{expression}\n"));
        assert_protected(&detection, Protector::Jsfuck);
        assert_eq!(evidence(&detection, Protector::Jsfuck, "[]()!+").line, 2);
        assert_eq!(evidence(&detection, Protector::Jsfuck, "[][(![]+[])").line, 2);
        // Spread over lines, it is still one run.
        let wrapped: String =
            expression.as_bytes().chunks(80).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n");
        assert_protected(&js(&wrapped), Protector::Jsfuck);
    }
}

//! Lookalike letters in identifiers: Cyrillic and Greek letters that look like Latin ones, mixed
//! into a Latin word (`оs.system`) or spelling a whole word (`ехес`), which hides a call from
//! anyone reading or grepping the code.

use super::text::{escape, is_invisible};
use super::{Findings, Protector, Sig};

/// An identifier with non-ASCII characters.
pub(super) fn ident(name: &str, line: u32, found: &mut Findings) {
    // Words are split at `_` and digits: `ρ_max` is a Greek letter next to a word, not a mix.
    let mut mixed: Option<Script> = None;
    let mut all_lookalike = true;
    let mut lookalikes = 0u32;
    let mut cyrillic = false;
    for word in name.split(|c: char| c == '_' || c.is_ascii_digit()) {
        let (mut ascii, mut alike, mut other) = (0u32, 0u32, 0u32);
        let mut script: Option<Script> = None;
        for ch in word.chars() {
            if ch.is_ascii_alphabetic() {
                ascii += 1;
            } else if let Some((_, of)) = confusable(ch) {
                alike += 1;
                script = script.max(Some(of));
            } else if !is_invisible(ch) {
                other += 1;
            }
        }
        lookalikes += alike;
        cyrillic |= script == Some(Script::Cyrillic);
        if ascii > 0 || other > 0 {
            all_lookalike = false;
        }
        if alike > 0 && ascii > 0 && other == 0 {
            mixed = mixed.max(script);
        }
    }
    if lookalikes == 0 {
        return;
    }
    let skeleton: String = name.chars().map(|ch| confusable(ch).map_or(ch, |(ascii, _)| ascii)).collect();
    let sensitive = SENSITIVE_NAMES.contains(&skeleton.as_str());
    let shown = escape(name);
    if let Some(script) = mixed {
        let weight = match script {
            _ if sensitive => 0.85,
            Script::Cyrillic => 0.85,
            Script::Greek => 0.7,
            // `dρ`, `αmax`: Greek letters of mathematics next to Latin ones are ordinary.
            Script::GreekMath => return,
        };
        found.record(Protector::ConfusableUnicode, Sig::MixedScript, line, weight, || {
            format!("identifier `{shown}` mixes Latin with {} lookalikes of `{skeleton}`", script.name())
        });
    } else if all_lookalike && lookalikes >= 2 {
        let weight = if sensitive {
            0.9
        } else if cyrillic && lookalikes >= 3 {
            0.45
        } else {
            return;
        };
        found.record(Protector::ConfusableUnicode, Sig::LookalikeIdentifier, line, weight, || {
            format!("identifier `{shown}` is spelled in lookalike letters of `{skeleton}`")
        });
    }
}

/// Scripts of lookalike letters, weakest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Script {
    /// Greek small letters used in mathematics (α ι κ ν ρ υ).
    GreekMath,
    /// Greek capitals and omicron, which nobody tells from Latin.
    Greek,
    Cyrillic,
}

impl Script {
    fn name(self) -> &'static str {
        match self {
            Script::Cyrillic => "Cyrillic",
            Script::Greek | Script::GreekMath => "Greek",
        }
    }
}

/// Cyrillic and Greek letters that look like a Latin letter, with that letter.
pub(super) fn confusable(ch: char) -> Option<(char, Script)> {
    let ascii = match ch {
        'а' => 'a',
        'с' => 'c',
        'ԁ' => 'd',
        'е' => 'e',
        'һ' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'ӏ' => 'l',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'у' => 'y',
        'ԝ' => 'w',
        'х' => 'x',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        _ => {
            let (ascii, script) = match ch {
                'α' => ('a', Script::GreekMath),
                'ν' => ('v', Script::GreekMath),
                'ι' => ('i', Script::GreekMath),
                'κ' => ('k', Script::GreekMath),
                'ρ' => ('p', Script::GreekMath),
                'υ' => ('u', Script::GreekMath),
                'ο' => ('o', Script::Greek),
                'Α' => ('A', Script::Greek),
                'Β' => ('B', Script::Greek),
                'Ε' => ('E', Script::Greek),
                'Ζ' => ('Z', Script::Greek),
                'Η' => ('H', Script::Greek),
                'Ι' => ('I', Script::Greek),
                'Κ' => ('K', Script::Greek),
                'Μ' => ('M', Script::Greek),
                'Ν' => ('N', Script::Greek),
                'Ο' => ('O', Script::Greek),
                'Ρ' => ('P', Script::Greek),
                'Τ' => ('T', Script::Greek),
                'Υ' => ('Y', Script::Greek),
                'Χ' => ('X', Script::Greek),
                _ => return None,
            };
            return Some((ascii, script));
        }
    };
    Some((ascii, Script::Cyrillic))
}

/// Names whose lookalike spelling hides a call from grep.
const SENSITIVE_NAMES: &[&str] = &[
    "exec",
    "eval",
    "os",
    "sys",
    "system",
    "popen",
    "Popen",
    "open",
    "compile",
    "getattr",
    "setattr",
    "globals",
    "locals",
    "import",
    "__import__",
    "builtins",
    "__builtins__",
    "subprocess",
    "socket",
    "base64",
    "marshal",
    "loads",
    "decode",
    "require",
    "process",
    "child_process",
    "spawn",
    "execSync",
    "Function",
    "fetch",
    "atob",
    "Buffer",
    "request",
    "requests",
    "urllib",
    "http",
    "https",
    "shell",
    "run",
    "call",
    "print",
    "input",
    "write",
    "read",
];

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn confusable_unicode() {
        let detection = py("import os\n\n\u{043E}s.system('id')\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert_eq!(evidence(&detection, Protector::ConfusableUnicode, "mixes Latin with Cyrillic").line, 3);

        // All four letters Cyrillic: looks exactly like `exec`.
        let detection = py("payload = 'print(1)'\n\u{0435}\u{0445}\u{0435}\u{0441}(payload)\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert_eq!(evidence(&detection, Protector::ConfusableUnicode, "`exec`").line, 2);

        // Greek omicron in `os`: a lookalike of a sensitive name.
        let detection = py("import os\n\u{03BF}s.system('id')\n");
        assert_protected(&detection, Protector::ConfusableUnicode);
        assert!(evidence(&detection, Protector::ConfusableUnicode, "Greek").weight >= 0.85);

        // Real words and maths are not lookalikes.
        assert_clean(&py("dρ = ρw * 2.0\nκappa = αmax + ν0\n"));
        assert_clean(&py("привет = 'мир'\nρ_max = 1.0\nα = 0.5\nνα = ρ_max * α\nprint(привет)\n"));
        // Lookalikes in strings and comments do not hide calls.
        assert_clean(&py("# \u{0435}x\u{0435}c\ntext = '\u{043E}s'\n"));
    }
}

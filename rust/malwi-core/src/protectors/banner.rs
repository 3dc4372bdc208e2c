//! Banners: a comment of the first lines that names an obfuscator and says the code is obfuscated
//! (`# Obfuscated with BlankOBF`, `// javascript-obfuscator`), PyArmor's `# Pyarmor 8.5.2` header,
//! and the string assigned to `__obfuscator__`. Tools without a detector of their own count as
//! `custom`.

use super::{Findings, Protector, Sig};

/// Banners are looked for in comments of the first lines only.
pub(super) const BANNER_LINES: u32 = 30;

pub(super) struct Banner {
    python: bool,
    /// The line of an `__obfuscator__` whose value (a literal on the same line) is a banner.
    pending: Option<u32>,
}

impl Banner {
    pub(super) fn new(python: bool) -> Self {
        Banner { python, pending: None }
    }

    /// A Python identifier.
    pub(super) fn ident(&mut self, name: &str, line: u32) {
        if name == "__obfuscator__" {
            self.pending = Some(line);
        }
    }

    pub(super) fn comment(&self, text: &str, line: u32, found: &mut Findings) {
        if line <= BANNER_LINES {
            // Only the part of the comment on the first lines counts (as for the prefilter).
            let lines_left = (BANNER_LINES - line) as usize;
            let head = memchr::memchr_iter(b'\n', text.as_bytes()).nth(lines_left).map_or(text, |k| &text[..k]);
            self.judge(head, line, false, found);
        }
    }

    pub(super) fn literal(&mut self, content: &str, line: u32, found: &mut Findings) {
        if self.pending.take_if(|marker| *marker == line).is_some() {
            self.judge(content, line, true, found);
        }
    }

    /// Text naming an obfuscator; `marker`: the value of `__obfuscator__`, a claim in itself.
    fn judge(&self, text: &str, line: u32, marker: bool, found: &mut Findings) {
        let text = &text[..floor_boundary(text, 2048)];
        let lower = text.to_ascii_lowercase();
        let claims = marker
            || ["obfuscated", "protected", "encrypted", "encoded", "packed"].iter().any(|word| lower.contains(word));
        let pyarmor_header = lower.trim_start().starts_with("pyarmor ")
            && lower.trim_start()[8..].starts_with(|c: char| c.is_ascii_digit());
        let tools: &[(&str, Protector)] = if self.python {
            &[
                ("pyarmor", Protector::Pyarmor),
                ("pyobfuscate", Protector::Pyobfuscate),
                ("blankobf", Protector::Blankobf),
                ("blank-c", Protector::Blankobf),
                ("hyperion", Protector::Hyperion),
            ]
        } else {
            &[
                ("javascript-obfuscator", Protector::JavascriptObfuscator),
                ("obfuscator.io", Protector::JavascriptObfuscator),
                ("jsfuck", Protector::Jsfuck),
            ]
        };
        for &(tool, protector) in tools {
            if lower.contains(tool) && (claims || (protector == Protector::Pyarmor && pyarmor_header)) {
                let shown: String = text.trim().chars().take(60).collect();
                found.record(protector, Sig::Banner, line, 0.85, || format!("banner naming {tool}: {shown}"));
                return;
            }
        }
        let generic = ["obfuscated by", "obfuscated with", "obfuscated using", "obfuscator:"];
        if marker || generic.iter().any(|phrase| lower.contains(phrase)) {
            let shown: String = text.trim().chars().take(60).collect();
            found.record(Protector::Custom, Sig::ObfuscatorMarker, line, 0.4, || format!("obfuscator banner: {shown}"));
        }
    }
}

/// The largest char boundary of `text` at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

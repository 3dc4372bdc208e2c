//! `custom` packers: a few lines of code that `exec`/`eval` one encoded literal making up nearly
//! the whole file. (The generic `obfuscated by ...` banner is [`super::banner`]'s.)

use super::entropy::Blob;
use super::{Findings, Protector, Sig};

/// The largest literal of the file.
#[derive(Default)]
struct Literal {
    len: usize,
    line: u32,
    newlines: u32,
    /// Made of base64, hex or escape characters.
    encoded: bool,
}

#[derive(Default)]
pub(super) struct Custom {
    biggest: Literal,
}

impl Custom {
    pub(super) fn blob(&mut self, blob: &Blob, line: u32) {
        if blob.len <= self.biggest.len {
            return;
        }
        let encoded_chars: u32 = blob
            .histogram
            .iter()
            .enumerate()
            .filter(|(c, _)| {
                let c = *c as u8;
                c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-' | b'\\')
            })
            .map(|(_, count)| *count)
            .sum();
        let encoded = encoded_chars as u64 * 100 >= blob.counted as u64 * 95;
        self.biggest = Literal { len: blob.len, line, newlines: blob.newlines, encoded };
    }

    /// `lines`: the file's last line; `len`: its length; `exec_calls`: its exec/eval calls.
    pub(super) fn finish(&self, lines: u32, len: usize, exec_calls: u32, found: &mut Findings) {
        let big = &self.biggest;
        let code_lines = lines.saturating_sub(big.newlines);
        if big.encoded && big.len * 10 > len * 9 && code_lines < 10 && exec_calls > 0 {
            let (line, share) = (big.line, big.len * 100 / len.max(1));
            found.record(Protector::Custom, Sig::ExecBlob, line, 0.6, || {
                format!("exec/eval next to one encoded literal that is {share}% of the file")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn exec_of_an_encoded_literal() {
        let blob = random_base64(6000, 42);
        // exec of one encoded literal that is the whole file.
        let detection = py(&format!("import base64\nexec(base64.b64decode('{blob}'))\n"));
        assert_protected(&detection, Protector::Custom);
        assert_eq!(evidence(&detection, Protector::Custom, "exec/eval").line, 2);
    }
}

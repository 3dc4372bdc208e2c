//! High-entropy blobs: string literals of several kilobytes with close to six bits per character
//! (base64, hex or escaped bytes of a packed payload). Fonts, images, source maps and search
//! indexes are blobs too, so a blob alone weighs little.

use memchr::memmem;

use super::{Findings, Protector, Sig};

/// Literals from this many bytes are measured for entropy.
pub(super) const BLOB_MIN: usize = 4096;
/// Bits per character above which a long literal counts as a high-entropy blob.
const BLOB_ENTROPY: f64 = 5.5;

/// The byte histogram of a long literal that could be encoded data.
pub(super) struct Blob {
    pub(super) len: usize,
    pub(super) histogram: [u32; 256],
    pub(super) newlines: u32,
    /// Bytes other than spaces, tabs and line breaks.
    pub(super) counted: u32,
}

impl Blob {
    /// The literal `start..end` of `text` (at least [`BLOB_MIN`] bytes), unless it is a data URI,
    /// a source map's mappings or text with spaces.
    pub(super) fn measure(text: &[u8], start: usize, end: usize) -> Option<Blob> {
        let bytes = &text[start..end];
        let head = &bytes[..bytes.len().min(64)];
        let trimmed = head.trim_ascii_start();
        if trimmed.len() >= 5 && trimmed[..5].eq_ignore_ascii_case(b"data:") {
            return None;
        }
        let before = &text[start.saturating_sub(24)..start];
        if memmem::find(before, b"mappings").is_some() {
            return None;
        }
        let mut histogram = [0u32; 256];
        for &c in bytes {
            histogram[c as usize] += 1;
        }
        let newlines = histogram[b'\n' as usize];
        let spaces = histogram[b' ' as usize] + histogram[b'\t' as usize];
        // Text with spaces is prose or code, not an encoded blob.
        if spaces as usize * 100 > bytes.len() {
            return None;
        }
        let counted = bytes.len() as u32 - newlines - spaces - histogram[b'\r' as usize];
        Some(Blob { len: bytes.len(), histogram, newlines, counted })
    }
}

#[derive(Default)]
pub(super) struct Entropy {
    /// Bytes of high-entropy literals.
    bytes: usize,
    /// The line of the first.
    line: u32,
}

impl Entropy {
    pub(super) fn blob(&mut self, blob: &Blob, line: u32, found: &mut Findings) {
        if blob.counted == 0 {
            return;
        }
        let total = blob.counted as f64;
        let entropy: f64 = blob
            .histogram
            .iter()
            .enumerate()
            .filter(|&(c, &count)| count > 0 && !matches!(c as u8, b'\n' | b' ' | b'\t' | b'\r'))
            .map(|(_, &count)| {
                let p = count as f64 / total;
                -p * p.log2()
            })
            .sum();
        if entropy > BLOB_ENTROPY {
            if self.bytes == 0 {
                self.line = line;
            }
            self.bytes += blob.len;
            let size = blob.len;
            found.record(Protector::HighEntropy, Sig::EntropyBlob, line, 0.3, || {
                format!("high-entropy literal of {} ({entropy:.2} bits/char)", human_size(size))
            });
        }
    }

    /// `len`: the file's length; `exec_calls`: its exec/eval calls.
    pub(super) fn finish(&self, len: usize, exec_calls: u32, found: &mut Findings) {
        if self.bytes > 0 && self.bytes * 10 > len * 8 {
            let share = self.bytes * 100 / len.max(1);
            // Data files (search indexes, embedded fonts, wasm) are mostly blob too: only a file
            // that also evaluates code gets the full weight.
            let exec = exec_calls > 0;
            let weight = if exec { 0.3 } else { 0.1 };
            found.record(Protector::HighEntropy, Sig::BlobDominant, self.line, weight, || {
                if exec {
                    format!("high-entropy literals are {share}% of a file that calls exec/eval")
                } else {
                    format!("high-entropy literals are {share}% of the file")
                }
            });
        }
    }
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn high_entropy() {
        let blob = random_base64(6000, 42);
        let mut code = String::new();
        for i in 0..200 {
            code.push_str(&format!("def handler_{i}(request):\n    return render(request, 'page_{i}.html')\n\n"));
        }
        let detection = py(&format!("{code}FONT = \"{blob}\"\n"));
        assert_clean(&detection);
        let found = evidence(&detection, Protector::HighEntropy, "high-entropy literal");
        assert_eq!(found.line, 601);
        assert!((found.weight - 0.3).abs() < 1e-6);

        // A data file that is mostly the blob is still data.
        let detection = js(&format!("var data = \"{blob}\";\nmodule.exports = data;\n"));
        assert_clean(&detection);
        assert!(evidence(&detection, Protector::HighEntropy, "% of the file").weight < 0.2);

        // A small file of code that is mostly the blob and evaluates code adds up.
        let mut loader = format!("var data = \"{blob}\";\n");
        for i in 0..12 {
            loader.push_str(&format!("var step{i} = data.slice({i});\n"));
        }
        loader.push_str("eval(atob(step0));\n");
        let detection = js(&loader);
        assert_protected(&detection, Protector::HighEntropy);
        assert_eq!(evidence(&detection, Protector::HighEntropy, "calls exec/eval").line, 1);
    }

    #[test]
    fn data_uri_is_not_a_blob() {
        let png = random_base64(5 * 1024, 3);
        let text = format!("const logo = \"data:image/png;base64,{png}\";\nexport default logo;\n");
        let detection = js(&text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }
}

//! pyobfuscate: a `lambda` decoder built from `__import__` chains
//! (`_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]))`),
//! usually `exec`'d on the same line, with the payload reversed before decoding.

use super::import_chain::ImportLine;
use super::{Findings, Protector, Sig};

#[derive(Default)]
pub(super) struct Pyobfuscate {
    /// The line of the first decoder `exec`'d on its line (else of the first decoder), and
    /// whether it is.
    lambda_decoder: Option<(u32, bool)>,
}

impl Pyobfuscate {
    /// A line holding `__import__` has ended.
    pub(super) fn end_line(&mut self, f: &ImportLine, line: u32, found: &mut Findings) {
        let decodes = f.decoder_module && (f.decoder || f.loads);
        if !(f.lambda && decodes) {
            return;
        }
        match self.lambda_decoder {
            Some((_, true)) => {}
            Some((_, false)) if !f.exec => {}
            _ => self.lambda_decoder = Some((line, f.exec)),
        }
        if f.reversed {
            found.record(Protector::Pyobfuscate, Sig::ReversedPayload, line, 0.4, || {
                "payload reversed with [::-1] before decoding".to_string()
            });
        }
    }

    pub(super) fn finish(&self, found: &mut Findings) {
        if let Some((line, exec)) = self.lambda_decoder {
            let weight = if exec { 0.85 } else { 0.45 };
            found.record(Protector::Pyobfuscate, Sig::LambdaDecoder, line, weight, || {
                if exec {
                    "lambda decoder built from __import__ chains, exec'd on the same line".to_string()
                } else {
                    "lambda decoder built from __import__ chains".to_string()
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::Protector;

    #[test]
    fn pyobfuscate() {
        let payload = random_base64(600, 7);
        let text = format!(
            "_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]));exec((_)(b'{payload}'))\n"
        );
        let detection = py(&text);
        assert_protected(&detection, Protector::Pyobfuscate);
        assert!(detection.confidence > 0.9);
        assert_eq!(evidence(&detection, Protector::Pyobfuscate, "lambda decoder").line, 1);
        assert_eq!(evidence(&detection, Protector::Pyobfuscate, "[::-1]").line, 1);
    }
}

//! Obfuscators and protectors recognised in source text.
//!
//! [`detect`] reads a file's text once, with a small lexer that knows strings, comments, numbers
//! and identifiers of Python and JavaScript (regular expression and template literals included),
//! and collects signals of known obfuscators as it goes: PyArmor runtime calls and headers, the
//! `lambda`/`__import__` one-liners of pyobfuscate and BlankOBF, Hyperion's `IlIlIl` names,
//! javascript-obfuscator's `_0x` names and string-array rotation, JSFuck, invisible and
//! bidirectional Unicode in code, lookalike letters in identifiers and large high-entropy literals.
//! There is no regular expression and no parse tree: it runs on every scanned file and costs a
//! small fraction of reading it. Most files never reach the lexer: a prefilter of vectorised
//! searches (marker strings, suspicious code points, long space-free stretches) first decides
//! whether anything could fire, and a property test holds it to the lexer's verdict.
//!
//! Every signal is [`Evidence`] with a weight; a protector's confidence is
//! `1 - Π(1 - weight)` over its evidence and a file counts as protected when the best protector
//! reaches [`PROTECTED_AT`]. Signals that ordinary code can show (one `__import__`, `_` as a
//! throwaway name, a zero-width space inside an Arabic string, a big base64 literal) weigh little
//! or need density before they count.
//!
//! Layout: `prefilter` decides whether `lexer` runs; the lexer reports every token through its
//! `Hooks`, which `Detectors` (here) implements by handing each token to the detectors that read
//! it, one module each (`pyarmor`, `pyobfuscate`, `blankobf`, `hyperion`, `js_obfuscator`,
//! `jsfuck`, `invisible`, `confusables`, `entropy`, `custom`, `banner`; `import_chain` is the
//! per-line view that pyobfuscate and BlankOBF share). Detectors keep their own counts and add to
//! `Findings` as they go or when the file ends; `verdict` turns those into a [`Detection`].

mod banner;
mod blankobf;
mod confusables;
mod custom;
mod entropy;
mod hyperion;
mod import_chain;
mod invisible;
mod js_obfuscator;
mod jsfuck;
mod lexer;
mod prefilter;
mod pyarmor;
mod pyobfuscate;
mod text;

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::language::Language;
use banner::Banner;
use blankobf::Blankobf;
use custom::Custom;
use entropy::{Blob, Entropy, BLOB_MIN};
use hyperion::Hyperion;
use import_chain::ImportLine;
use js_obfuscator::JsObfuscator;
use lexer::{Hooks, Summary};
use pyobfuscate::Pyobfuscate;
use text::Source;

/// The obfuscators and protectors [`detect`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protector {
    Pyarmor,
    Pyobfuscate,
    Hyperion,
    Blankobf,
    JavascriptObfuscator,
    Jsfuck,
    InvisibleUnicode,
    ConfusableUnicode,
    HighEntropy,
    Custom,
}

impl Protector {
    pub const ALL: &'static [Protector] = &[
        Protector::Pyarmor,
        Protector::Pyobfuscate,
        Protector::Hyperion,
        Protector::Blankobf,
        Protector::JavascriptObfuscator,
        Protector::Jsfuck,
        Protector::InvisibleUnicode,
        Protector::ConfusableUnicode,
        Protector::HighEntropy,
        Protector::Custom,
    ];

    /// The snake_case name, the same as serde writes.
    pub fn name(self) -> &'static str {
        match self {
            Protector::Pyarmor => "pyarmor",
            Protector::Pyobfuscate => "pyobfuscate",
            Protector::Hyperion => "hyperion",
            Protector::Blankobf => "blankobf",
            Protector::JavascriptObfuscator => "javascript_obfuscator",
            Protector::Jsfuck => "jsfuck",
            Protector::InvisibleUnicode => "invisible_unicode",
            Protector::ConfusableUnicode => "confusable_unicode",
            Protector::HighEntropy => "high_entropy",
            Protector::Custom => "custom",
        }
    }
}

/// One signal found in a file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub protector: Protector,
    /// 1-based line of the first (or strongest) occurrence.
    pub line: u32,
    /// Short human text, e.g. `"412 _0x identifiers"`.
    pub signal: String,
    /// 0..1; a protector's confidence is `1 - Π(1 - weight)` over its evidence.
    pub weight: f32,
}

/// What [`detect`] found in one file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    /// The most likely protector, when `confidence >= PROTECTED_AT`.
    pub protector: Option<Protector>,
    /// The best protector's confidence, 0..1.
    pub confidence: f32,
    /// Strongest first, at most [`MAX_EVIDENCE`] entries, one per signal kind and protector.
    pub evidence: Vec<Evidence>,
}

/// Confidence from which a file counts as protected.
pub const PROTECTED_AT: f32 = 0.5;

/// Most evidence entries kept per file.
pub const MAX_EVIDENCE: usize = 16;

impl Detection {
    pub fn is_protected(&self) -> bool {
        self.protector.is_some() && self.confidence >= PROTECTED_AT
    }
}

/// Looks for obfuscators and protectors in a file's text. Linear in the text; never panics.
pub fn detect(text: &str, language: Language) -> Detection {
    if !prefilter::worth_lexing(text, language) {
        return Detection::default();
    }
    lex_and_judge(text, language)
}

/// The full scan, without the prefilter.
fn lex_and_judge(text: &str, language: Language) -> Detection {
    let python = language == Language::Python;
    let (detectors, summary) = lexer::lex(text, python, Detectors::new(text, python));
    detectors.finish(summary)
}

/// Kinds of signal; with the protector, the key under which evidence is merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sig {
    Banner,
    PyarmorCall,
    PyarmorRuntime,
    PytransformImport,
    ArmorHooks,
    PyarmorHeader,
    LambdaDecoder,
    ReversedPayload,
    ExecMarshal,
    ImportBuiltins,
    BytesDecodedImport,
    UnderscoreNames,
    GetattrImport,
    GlobalsDispatch,
    LookalikeNames,
    BuiltinsStarImport,
    HexNames,
    StringArray,
    RotationLoop,
    HexLiterals,
    JsfuckRun,
    JsfuckPrefix,
    InvisibleIdentifier,
    BidiCode,
    BomInside,
    InvisibleString,
    BidiString,
    BidiComment,
    MixedScript,
    LookalikeIdentifier,
    EntropyBlob,
    BlobDominant,
    ExecBlob,
    ObfuscatorMarker,
}

/// One signal found in a file, before the verdict.
struct Found {
    protector: Protector,
    sig: Sig,
    line: u32,
    weight: f32,
    signal: String,
}

/// The signals found so far: one per protector and kind, the strongest occurrence kept.
#[derive(Default)]
struct Findings(Vec<Found>);

impl Findings {
    /// `signal` is only written for a new or stronger entry.
    fn record(&mut self, protector: Protector, sig: Sig, line: u32, weight: f32, signal: impl FnOnce() -> String) {
        if let Some(found) = self.0.iter_mut().find(|f| f.protector == protector && f.sig == sig) {
            if weight > found.weight {
                *found = Found { protector, sig, line, weight, signal: signal() };
            }
            return;
        }
        self.0.push(Found { protector, sig, line, weight, signal: signal() });
    }
}

/// Distinct suspicious names remembered per kind (enough for the thresholds and the report).
const DISTINCT_CAP: usize = 256;

/// Suspicious names of one kind: occurrences, first line, distinct names (capped).
struct Names<'a> {
    count: u32,
    line: u32,
    distinct: FxHashSet<&'a str>,
}

impl<'a> Names<'a> {
    fn new() -> Self {
        Names { count: 0, line: 0, distinct: FxHashSet::default() }
    }

    fn add(&mut self, name: &'a str, line: u32) {
        if self.count == 0 {
            self.line = line;
        }
        self.count += 1;
        if self.distinct.len() < DISTINCT_CAP {
            self.distinct.insert(name);
        }
    }

    fn example(&self) -> &'a str {
        self.distinct.iter().copied().min_by_key(|name| (name.len(), *name)).unwrap_or("")
    }
}

/// Occurrences of one construct: how many, and the line of the first.
#[derive(Clone, Copy, Default)]
struct Tally {
    count: u32,
    line: u32,
}

impl Tally {
    fn add(&mut self, line: u32) {
        if self.count == 0 {
            self.line = line;
        }
        self.count += 1;
    }
}

/// Every detector's state while the lexer reads a file. The hooks hand each token to the
/// detectors that read it. Evidence of one protector must keep the order in which it is found
/// (the verdict multiplies its weights in that order), so the calls below keep theirs.
struct Detectors<'a> {
    src: Source<'a>,
    python: bool,
    found: Findings,
    /// exec/eval/Function calls: they make a blob or an encoded literal suspicious.
    exec_calls: u32,
    // Python.
    import_line: ImportLine,
    pyobfuscate: Pyobfuscate,
    blankobf: Blankobf<'a>,
    hyperion: Hyperion<'a>,
    // JavaScript.
    js_obfuscator: JsObfuscator<'a>,
    // Both.
    banner: Banner,
    entropy: Entropy,
    custom: Custom,
}

impl<'a> Detectors<'a> {
    fn new(text: &'a str, python: bool) -> Self {
        Detectors {
            src: Source::new(text),
            python,
            found: Findings::default(),
            exec_calls: 0,
            import_line: ImportLine::default(),
            pyobfuscate: Pyobfuscate::default(),
            blankobf: Blankobf::new(),
            hyperion: Hyperion::new(),
            js_obfuscator: JsObfuscator::new(),
            banner: Banner::new(python),
            entropy: Entropy::default(),
            custom: Custom::default(),
        }
    }

    /// Signals that need the whole file, then the verdict.
    fn finish(mut self, summary: Summary) -> Detection {
        let found = &mut self.found;
        let idents = summary.idents.max(1);
        if self.python {
            self.pyobfuscate.finish(found);
            self.blankobf.finish(idents, found);
            self.hyperion.finish(idents, found);
        } else {
            self.js_obfuscator.finish(found);
        }
        let len = self.src.bytes.len();
        self.entropy.finish(len, self.exec_calls, found);
        self.custom.finish(summary.lines, len, self.exec_calls, found);
        verdict(self.found)
    }

    /// A Python line holding `__import__` has ended: which obfuscator's chain is it?
    fn import_chain(&mut self, line: u32) {
        let flags = &self.import_line;
        self.pyobfuscate.end_line(flags, line, &mut self.found);
        self.blankobf.end_line(flags, line, &mut self.found);
    }
}

impl<'a> Hooks<'a> for Detectors<'a> {
    // Out of the lexer's loop: inlined there, it slows the loop down more than the call costs.
    #[inline(never)]
    fn ident(&mut self, name: &'a str, start: usize, end: usize, line: u32, non_ascii: bool) {
        let found = &mut self.found;
        if non_ascii {
            invisible::ident(name, line, found);
            confusables::ident(name, line, found);
        }
        let src = &self.src;
        if self.python {
            // Names made only of `_` or of `I l 1 O 0` are no word that any detector reads.
            if self.blankobf.underscore_name(name, line) || self.hyperion.lookalike_name(name, line) {
                return;
            }
            if matches!(name, "exec" | "eval") {
                self.exec_calls += 1;
            }
            self.import_line.ident(src, name, end);
            pyarmor::ident(src, name, end, line, found);
            self.blankobf.ident(src, name, end, line);
            self.hyperion.ident(src, name, end, line);
            self.banner.ident(name, line);
        } else {
            if matches!(name, "eval" | "Function") {
                self.exec_calls += 1;
            }
            self.js_obfuscator.ident(src, name, start, end, line);
        }
    }

    #[inline]
    fn number(&mut self, text: &'a [u8], line: u32) {
        if !self.python {
            self.js_obfuscator.number(text, line);
        }
    }

    fn literal(&mut self, start: usize, end: usize, line: u32, is_bytes: bool) {
        let content = &self.src.text[start..end];
        let found = &mut self.found;
        if self.python {
            self.import_line.literal(content);
            if is_bytes {
                pyarmor::bytes_literal(content, line, found);
            }
        } else {
            self.js_obfuscator.literal(content);
        }
        self.banner.literal(content, line, found);
        if !content.is_ascii() {
            invisible::text(content, line, false, found);
        }
        if end - start >= BLOB_MIN {
            if let Some(blob) = Blob::measure(self.src.bytes, start, end) {
                self.custom.blob(&blob, line);
                self.entropy.blob(&blob, line, found);
            }
        }
    }

    fn comment(&mut self, text: &'a str, line: u32) {
        self.banner.comment(text, line, &mut self.found);
        if !text.is_ascii() {
            invisible::text(text, line, true, &mut self.found);
        }
    }

    #[inline]
    fn open_bracket(&mut self, at: usize, line: u32) {
        if self.python {
            self.import_line.open_bracket(&self.src, at);
        } else {
            jsfuck::open_bracket(&self.src, at, line, &mut self.found);
        }
    }

    #[inline]
    fn symbol_run(&mut self, start: usize, end: usize, len: u32, line: u32) {
        if !self.python {
            jsfuck::symbol_run(&self.src, start, end, len, line, &mut self.found);
        }
    }

    fn bom(&mut self, line: u32) {
        invisible::bom(line, &mut self.found);
    }

    fn bidi(&mut self, ch: char, line: u32) {
        invisible::bidi_in_code(ch, line, &mut self.found);
    }

    #[inline]
    fn end_of_line(&mut self, line: u32) {
        if self.python && self.import_line.imports > 0 {
            self.import_chain(line);
        }
        self.import_line = ImportLine::default();
    }
}

/// Evidence to a detection: confidences per protector, the best one, evidence strongest first.
fn verdict(Findings(found): Findings) -> Detection {
    let mut best: Option<(Protector, f32)> = None;
    for &protector in Protector::ALL {
        let missing: f32 =
            found.iter().filter(|f| f.protector == protector).map(|f| 1.0 - f.weight.clamp(0.0, 1.0)).product();
        let confidence = (1.0 - missing).clamp(0.0, 1.0);
        if confidence > 0.0 && best.is_none_or(|(_, c)| confidence > c) {
            best = Some((protector, confidence));
        }
    }
    let mut evidence: Vec<Evidence> = found
        .into_iter()
        .map(|f| Evidence { protector: f.protector, line: f.line, signal: f.signal, weight: f.weight })
        .collect();
    evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.line.cmp(&b.line)));
    evidence.truncate(MAX_EVIDENCE);
    let confidence = best.map_or(0.0, |(_, c)| c);
    Detection { protector: best.filter(|&(_, c)| c >= PROTECTED_AT).map(|(p, _)| p), confidence, evidence }
}

/// The token a protected file's `<module>` starts with when the featurizer asks for protector
/// tokens: `PROTECTOR_PYARMOR`.
pub fn token(protector: Protector) -> &'static str {
    static TOKENS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let tokens = TOKENS.get_or_init(|| {
        Protector::ALL
            .iter()
            .map(|p| &*Box::leak(format!("PROTECTOR_{}", p.name().to_ascii_uppercase()).into_boxed_str()))
            .collect()
    });
    let index = Protector::ALL.iter().position(|&p| p == protector).unwrap_or(0);
    tokens[index]
}

/// Every protector token, for the vocabulary.
pub fn tokens() -> Vec<&'static str> {
    Protector::ALL.iter().map(|&p| token(p)).collect()
}

#[cfg(test)]
mod test_support {
    use super::{detect, Detection, Evidence, Language, Protector, PROTECTED_AT};

    pub(super) fn py(text: &str) -> Detection {
        detect(text, Language::Python)
    }

    pub(super) fn js(text: &str) -> Detection {
        detect(text, Language::JavaScript)
    }

    /// The evidence of `protector` whose signal contains `needle`.
    pub(super) fn evidence<'d>(detection: &'d Detection, protector: Protector, needle: &str) -> &'d Evidence {
        detection
            .evidence
            .iter()
            .find(|e| e.protector == protector && e.signal.contains(needle))
            .unwrap_or_else(|| panic!("no {protector:?} evidence with {needle:?} in {detection:#?}"))
    }

    pub(super) fn assert_protected(detection: &Detection, protector: Protector) {
        assert!(detection.is_protected(), "not protected: {detection:#?}");
        assert_eq!(detection.protector, Some(protector), "{detection:#?}");
        assert!(detection.confidence >= PROTECTED_AT && detection.confidence <= 1.0);
    }

    pub(super) fn assert_clean(detection: &Detection) {
        assert!(!detection.is_protected(), "protected: {detection:#?}");
        assert_eq!(detection.protector, None);
    }

    /// Deterministic pseudo-random bytes as base64 (entropy close to 6 bits per character).
    pub(super) fn random_base64(len: usize, seed: u64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ALPHABET[(state >> 58) as usize] as char
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::prefilter::trigger;
    use super::test_support::*;
    use super::*;

    #[test]
    fn ordinary_python_is_clean() {
        let text = r#""""A module."""
import os
from typing import Any

_registry: dict[str, Any] = {}


class Plugin:
    def __init__(self, name: str) -> None:
        self.name = name
        self._loaded = False

    def __repr__(self) -> str:
        return f"Plugin({self.name!r})"

    def load(self):
        module = __import__(self.name)
        for _ in range(3):
            pass
        _, ext = os.path.splitext(self.name)
        value = eval("1 + 1")
        return module, ext, value


def main(argv=None):
    data = [x for x in range(10)][::-1]
    return data
"#;
        let detection = py(text);
        assert_clean(&detection);
        assert!(detection.evidence.is_empty(), "{detection:#?}");
    }

    #[test]
    fn names_round_trip_serde() {
        for &protector in Protector::ALL {
            assert_eq!(serde_json::to_value(protector).unwrap(), serde_json::Value::from(protector.name()));
        }
        assert_eq!(Protector::ALL.len(), 10);
        let detection = py("__pyarmor__(__name__, __file__, b'PYARMOR')\n");
        let json = serde_json::to_value(&detection).unwrap();
        assert_eq!(json["protector"], "pyarmor");
        assert_eq!(json["evidence"][0]["line"], 1);
    }

    #[test]
    fn evidence_is_capped_and_sorted() {
        let mut text = String::from("from pytransform import pyarmor_runtime\n");
        text.push_str("__armor_enter__()\n__pyarmor__()\n");
        text.push_str("# Obfuscated with pyarmor\n");
        text.push_str("\u{043E}s = 1\n\u{0435}\u{0445}\u{0435}\u{0441} = 2\nis\u{200B}x = 3\nx = 1\u{202E}\n");
        text.push_str(&"IlIlIlI = lIlIlIl = OOO0O0O = 1\n".repeat(5));
        text.push_str(&"___ = ____ = _____ = 1\n".repeat(5));
        let detection = py(&text);
        assert!(detection.evidence.len() <= MAX_EVIDENCE);
        assert!(detection.evidence.windows(2).all(|w| w[0].weight >= w[1].weight));
    }

    /// Benign-corpus check and timing: `MALWI_PROTECTOR_CORPUS=/usr/lib/python3.11:/path/node_modules
    /// cargo test -q -p malwi-core protectors -- --ignored --nocapture`. Every entry of a root is
    /// one package; prints the packages with a protected file and the time spent reading and
    /// detecting.
    #[test]
    #[ignore]
    fn corpus() {
        use std::collections::BTreeMap;
        use std::path::{Path, PathBuf};
        use std::time::{Duration, Instant};

        fn walk(path: &Path, files: &mut Vec<PathBuf>) {
            let Ok(meta) = std::fs::symlink_metadata(path) else { return };
            if meta.is_dir() {
                let Ok(entries) = std::fs::read_dir(path) else { return };
                let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for entry in entries {
                    walk(&entry, files);
                }
            } else if meta.is_file()
                && path.extension().and_then(|e| e.to_str()).and_then(Language::from_extension).is_some()
            {
                files.push(path.to_path_buf());
            }
        }

        let Ok(roots) = std::env::var("MALWI_PROTECTOR_CORPUS") else {
            eprintln!("MALWI_PROTECTOR_CORPUS is not set");
            return;
        };
        let (mut packages, mut files_seen, mut bytes_seen) = (0usize, 0usize, 0usize);
        let (mut read_time, mut detect_time, mut lexer_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        let mut protected: BTreeMap<String, Vec<(String, Detection)>> = BTreeMap::new();
        let mut signals: BTreeMap<String, usize> = BTreeMap::new();
        let mut triggers: BTreeMap<&str, usize> = BTreeMap::new();
        for root in roots.split(':').filter(|r| !r.is_empty()) {
            let Ok(entries) = std::fs::read_dir(root) else { continue };
            let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for package in entries {
                let mut files = Vec::new();
                walk(&package, &mut files);
                if files.is_empty() {
                    continue;
                }
                packages += 1;
                for file in files {
                    let language =
                        Language::from_extension(file.extension().and_then(|e| e.to_str()).unwrap_or("")).unwrap();
                    let start = Instant::now();
                    let Ok(bytes) = std::fs::read(&file) else { continue };
                    read_time += start.elapsed();
                    let text = String::from_utf8_lossy(&bytes);
                    *triggers.entry(trigger(&text, language).unwrap_or("-")).or_default() += 1;
                    let start = Instant::now();
                    let detection = detect(&text, language);
                    detect_time += start.elapsed();
                    let start = Instant::now();
                    let full = lex_and_judge(&text, language);
                    lexer_time += start.elapsed();
                    assert_eq!(full, detection, "prefilter disagrees on {}", file.display());
                    files_seen += 1;
                    bytes_seen += bytes.len();
                    for e in &detection.evidence {
                        if e.weight >= 0.3 {
                            let key = format!(
                                "{}: {}",
                                e.protector.name(),
                                e.signal.split(['(', '`', ':']).next().unwrap_or("")
                            );
                            *signals.entry(key).or_default() += 1;
                        }
                    }
                    if detection.is_protected() {
                        protected
                            .entry(package.display().to_string())
                            .or_default()
                            .push((file.display().to_string(), detection));
                    }
                }
            }
        }
        println!("signals with weight >= 0.3 (files):");
        for (signal, count) in &signals {
            println!("  {count:6}  {signal}");
        }
        println!("prefilter triggers (files): {triggers:?}");
        println!("protected packages:");
        for (package, files) in &protected {
            println!("  {package}: {} file(s)", files.len());
            for (file, detection) in files.iter().take(3) {
                println!("    {file}: {:?} {:.2}", detection.protector, detection.confidence);
                for e in detection.evidence.iter().take(3) {
                    println!("      line {} {:.2} {:?}: {}", e.line, e.weight, e.protector, e.signal);
                }
            }
        }
        let mb = bytes_seen as f64 / 1e6;
        println!(
            "{packages} packages, {files_seen} files, {mb:.1} MB; {} protected packages ({:.2}%)",
            protected.len(),
            protected.len() as f64 * 100.0 / packages.max(1) as f64
        );
        println!(
            "read {:.3}s ({:.0} MB/s), detect {:.3}s ({:.0} MB/s)",
            read_time.as_secs_f64(),
            mb / read_time.as_secs_f64(),
            detect_time.as_secs_f64(),
            mb / detect_time.as_secs_f64()
        );
        println!(
            "the lexer alone on every file: {:.3}s ({:.0} MB/s)",
            lexer_time.as_secs_f64(),
            mb / lexer_time.as_secs_f64()
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;
        use super::random_base64;

        /// Fragments that reach every branch of the lexer and every signal.
        fn pieces() -> Vec<String> {
            #[rustfmt::skip]
            let fragments = [
                "_0x1a2b", "_0x3c4d5e", "[", "]", "(", ")", "!", "+", "![]", "+[]", "'", "\"", "\"\"\"", "'''", "`", "${",
                "}", "{", "\n", "\r\n", "\\", "/", "*", "#", "//", "/*", "*/", " ", "\t", "=", ";", ".", ",", ":",
                "__import__", "lambda", "exec", "eval", "Function", "zlib", "base64", "marshal", "builtins", "loads",
                "b64decode", "decompress", "[::-1]", "bytes([", "getattr(", "globals()['", "from builtins import *",
                "from pytransform import", "pyarmor_runtime", "__pyarmor__", "__armor_enter__", "b'PY000000",
                "b'PYARMOR", "b'\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52", "__obfuscator__ = ", "Hyperion",
                "# Obfuscated with BlankOBF", "obfuscated by", "pyarmor 8.1", "while(!![])", "parseInt", "push",
                "shift", ".push(", "0x1f", "12", "IlIlIl", "lIlIlI", "OO0O0O", "____", "___", "__", "_", "\u{200B}",
                "\u{200C}", "\u{202E}", "\u{200F}", "\u{3164}", "\u{FEFF}", "\u{00A0}", "е", "о", "ехес", "ρ",
                "α", "ж", "é", "ا", "x", "os", "data:", "mappings",
            ];
            let mut pieces: Vec<String> = fragments.iter().map(|piece| piece.to_string()).collect();
            pieces.push(random_base64(4200, 1));
            pieces.push(format!("\"{}\"", random_base64(5000, 2)));
            pieces
        }

        fn language() -> impl Strategy<Value = Language> {
            prop::sample::select(Language::ALL.to_vec())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

            #[test]
            fn never_panics_on_any_text(text in ".*", language in language()) {
                let detection = detect(&text, language);
                prop_assert!((0.0..=1.0).contains(&detection.confidence));
                prop_assert!(detection.evidence.len() <= MAX_EVIDENCE);
            }

            #[test]
            fn prefilter_never_hides_evidence(
                pieces in prop::collection::vec(prop::sample::select(pieces()), 0..300),
                language in language(),
            ) {
                let text = pieces.concat();
                prop_assert_eq!(detect(&text, language), lex_and_judge(&text, language));
            }

            #[test]
            fn prefilter_agrees_on_any_text(text in ".*", language in language()) {
                prop_assert_eq!(detect(&text, language), lex_and_judge(&text, language));
            }

            #[test]
            fn never_panics_on_token_soup(
                pieces in prop::collection::vec(prop::sample::select(pieces()), 0..300),
                language in language(),
            ) {
                let text = pieces.concat();
                let detection = detect(&text, language);
                prop_assert!((0.0..=1.0).contains(&detection.confidence));
                prop_assert_eq!(detection.is_protected(), detection.protector.is_some());
                for evidence in &detection.evidence {
                    prop_assert!(evidence.line >= 1 && evidence.line as usize <= text.lines().count().max(1) + 1);
                    prop_assert!((0.0..=1.0).contains(&evidence.weight));
                }
            }
        }
    }
}

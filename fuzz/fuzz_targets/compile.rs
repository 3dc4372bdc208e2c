//! Bytes to malwicode: any input, any language, must compile without panicking, and the output
//! must stay well-formed and proportional to the input.
//!
//!     cargo +nightly fuzz run compile -- -max_len=4096
#![no_main]

use libfuzzer_sys::fuzz_target;
use malwi_core::{compile_source, FeaturizerConfig, Language};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, source)) = data.split_first() else { return };
    let language = Language::ALL[selector as usize % Language::ALL.len()];
    let config = FeaturizerConfig::default();
    let objects = compile_source(source, language, "fuzz", &config).expect("compilation never fails on bytes");
    assert!(!objects.is_empty() && objects[0].name == "<module>");
    let total: usize = objects.iter().map(|o| o.token_string().len()).sum();
    assert!(total <= 64 * source.len() + 4096, "output {total} for input {}", source.len());
    for object in &objects {
        assert!(object.tokens().all(|t| !t.is_empty() && !t.contains(char::is_whitespace)));
        assert!(object.lines.0 >= 1 && object.lines.0 <= object.lines.1);
    }
});

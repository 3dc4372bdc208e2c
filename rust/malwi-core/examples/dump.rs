//! `cargo run --example dump -- FILE...`: prints each object's header and instructions, one per
//! line. A quick way to see what the emitter makes of a construct.

use malwi_core::{compile_source, FeaturizerConfig, Language};

fn main() {
    let config = FeaturizerConfig::default();
    for path in std::env::args().skip(1) {
        let extension = std::path::Path::new(&path).extension().and_then(|e| e.to_str()).unwrap_or("");
        let Some(language) = Language::from_extension(extension) else {
            eprintln!("{path}: unsupported extension");
            continue;
        };
        let bytes = std::fs::read(&path).expect("readable file");
        for object in compile_source(&bytes, language, &path, &config).expect("compiles") {
            println!("## {} {} lines {}-{}", object.kind.name(), object.name, object.lines.0, object.lines.1);
            for line in object.code().listing().lines() {
                println!("  {line}");
            }
        }
    }
}

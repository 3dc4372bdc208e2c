//! Golden tests of emitted malwicode: one fixture per construct, one reviewed snapshot per
//! fixture. A change in emitted tokens silently invalidates a trained model, so it must show up
//! here as a snapshot diff (CI runs with `CI=true`, which makes stale snapshots fail).

use std::fmt::Write;
use std::path::Path;

use malwi_core::{compile_source, FeaturizerConfig, Language};

/// Each object as a header and one instruction per line.
fn render(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("fixture is readable");
    let extension = path.extension().and_then(|e| e.to_str()).expect("fixture has an extension");
    let language = Language::from_extension(extension).expect("fixture language is supported");
    let objects = compile_source(&bytes, language, "fixture", &FeaturizerConfig::default()).expect("fixture compiles");
    let mut out = String::new();
    for object in objects {
        write!(out, "## {} {} lines {}-{}", object.kind.name(), object.name, object.lines.0, object.lines.1).unwrap();
        match object.decoded_from() {
            Some(chain) => writeln!(out, " decoded from {chain}").unwrap(),
            None => writeln!(out).unwrap(),
        }
        out.push_str(&object.code().listing());
    }
    out
}

#[test]
fn python_constructs() {
    insta::glob!("fixtures/python/*.py", |path| insta::assert_snapshot!(render(path)));
}

#[test]
fn javascript_constructs() {
    insta::glob!("fixtures/javascript/*.js", |path| insta::assert_snapshot!(render(path)));
}

#[test]
fn typescript_constructs() {
    insta::glob!("fixtures/typescript/*.ts", |path| insta::assert_snapshot!(render(path)));
}

#[test]
fn there_are_at_least_sixty_construct_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let count: usize = ["python", "javascript", "typescript"]
        .iter()
        .map(|language| std::fs::read_dir(dir.join(language)).map_or(0, |entries| entries.count()))
        .sum();
    assert!(count >= 60, "only {count} fixtures");
}

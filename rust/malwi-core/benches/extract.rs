//! Criterion micro-benchmarks: compilation throughput beside tree-sitter's own parse of the same
//! bytes, one thread. Corpus: `MALWI_BENCH_DIR`, else the Python standard library's top-level
//! modules (found through `python3`), else the test fixtures.

use std::path::PathBuf;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use malwi_core::{compile_source, discover, FeaturizerConfig, Language};

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MALWI_BENCH_DIR") {
        return dir.into();
    }
    let stdlib = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    stdlib.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python"))
}

/// Top-level `.py` files of the corpus directory (no recursion: tests and site-packages stay out).
fn corpus() -> Vec<(Vec<u8>, Language)> {
    let dir = corpus_dir();
    let found = discover(std::slice::from_ref(&dir), Some(&["py".to_string()])).expect("corpus directory");
    found
        .files
        .into_iter()
        .filter(|(path, _)| path.parent() == Some(dir.as_path()))
        .map(|(path, language)| (std::fs::read(path).expect("readable"), language))
        .collect()
}

fn extraction(c: &mut Criterion) {
    let files = corpus();
    let bytes: u64 = files.iter().map(|(b, _)| b.len() as u64).sum();
    let config = FeaturizerConfig::default();
    let texts: Vec<(String, Language)> =
        files.iter().map(|(b, l)| (String::from_utf8_lossy(b).into_owned(), *l)).collect();
    let mut group = c.benchmark_group("stdlib");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            for (text, language) in &texts {
                malwi_core::parse_only(text, *language).expect("parses");
            }
        })
    });
    group.bench_function("compile", |b| {
        b.iter(|| {
            for (bytes, language) in &files {
                compile_source(bytes, *language, "bench", &config).expect("compiles");
            }
        })
    });
    group.finish();
}

criterion_group!(benches, extraction);
criterion_main!(benches);

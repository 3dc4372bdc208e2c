//! malwi-core: the compiler of malwi, the malware scanner for Python and JavaScript packages.
//!
//! Source text goes through tree-sitter and comes out as [`MalwiObject`]s: module bodies,
//! functions, classes, methods and lambdas, each with its malwicode (a pseudo-bytecode in which
//! security-relevant names and strings are replaced by categories).
//!
//! Where things happen, in pipeline order:
//! - [`batch`]: finding files and compiling them in parallel;
//! - [`source`]: bytes to text (binary detection, NUL bytes, invalid UTF-8);
//! - [`parse`]: tree-sitter parsers, one per language per thread;
//! - `emit`: parse trees to malwicode (`emit/python.rs`, `emit/javascript.rs`);
//! - [`patterns`]: qualified API names to categories;
//! - [`payloads`]: encoded code in string literals, decoded into child objects;
//! - [`protectors`]: obfuscators and protectors recognised in source text;
//! - [`strings`]: string literals to classes and size buckets;
//! - [`taint`]: data flows from sources (environment, secrets) to sinks (network, exec) per object;
//! - [`config`]: the featurizer switches and their version;
//! - [`featurize`]: token strings to vocabulary ids, windows and padded batches (model input);
//! - [`vocabulary`]: every token the emitter can produce on its own.

pub mod batch;
pub mod config;
mod emit;

/// Emission of an already parsed tree (for profiling the emitter apart from the parser).
pub use emit::{compile_text_full, emit_tree, emit_tree_with_notes, Compiled};
pub mod error;
pub mod featurize;
pub mod language;
pub mod literals;
pub mod malwicode;
pub mod object;
pub mod parse;
pub mod patterns;
pub mod payloads;
pub mod protectors;
pub mod source;
pub mod strings;
pub mod taint;
pub mod vocabulary;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use batch::{
    archive_kind, compile_files, discover, discover_with, DiscoverOptions, Discovery, FileReport, Outcome, ScanOptions,
    SkipReason, DEFAULT_MAX_ARCHIVE_SIZE,
};
pub use config::{FeaturizerConfig, Granularity, FEATURIZER_VERSION};
pub use error::Error;
pub use language::Language;
pub use malwicode::{Arg, Instr, Malwicode, Op};
pub use object::{MalwiObject, ObjectKind};
pub use source::SourceText;

/// Compiles source bytes (any bytes: invalid UTF-8 and NUL bytes are repaired, never refused).
pub fn compile_source(
    source: &[u8],
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<Vec<MalwiObject>, Error> {
    config.validate()?;
    let text = SourceText::decode(source.to_vec());
    catch_unwind(AssertUnwindSafe(|| emit::compile_text(&text, language, file_path, config)))
        .unwrap_or_else(|panic| Err(Error::Internal(batch::panic_message(&panic))))
}

/// [`compile_source`] with the notes on the file's payloads: compiled Python found instead of
/// code (never loaded), and decoding limits hit (see [`payloads::Note`]).
pub fn compile_source_with_notes(
    source: &[u8],
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<(Vec<MalwiObject>, Vec<payloads::Note>), Error> {
    config.validate()?;
    let text = SourceText::decode(source.to_vec());
    catch_unwind(AssertUnwindSafe(|| {
        emit::compile_text_full(&text, language, file_path, config).map(|c| (c.objects, c.notes))
    }))
    .unwrap_or_else(|panic| Err(Error::Internal(batch::panic_message(&panic))))
}

//! malwi-core: the compiler of malwi, the malware scanner for Python and JavaScript packages.
//!
//! Source text goes through tree-sitter and comes out as [`MalwiObject`]s: module bodies,
//! functions, classes, methods and lambdas, each with its typed [`malwicode`] (a pseudo-bytecode
//! in which security-relevant names and strings are replaced by categories).
//!
//! Where things happen, in pipeline order:
//! - `discover`: finding the files of a scan (and archives disguised among them);
//! - `compile`: reading and compiling files in parallel, every file with a report;
//! - `source`: bytes to text (binary detection, NUL bytes, invalid UTF-8);
//! - `parse`: tree-sitter parsers, one per language per thread;
//! - `emit`: parse trees to malwicode (`emit/python.rs`, `emit/javascript.rs`);
//! - `patterns`: qualified API names to categories;
//! - `strings`: string literals to classes and size buckets;
//! - `payloads`: encoded code in string literals, decoded into child objects;
//! - `protectors/`: obfuscators and protectors recognised in source text, one detector a file;
//! - `taint`: data flows from sources (environment, secrets) to sinks (network, exec) per object;
//! - [`malwicode`]: the typed instructions all of the above produce and read;
//! - `config`: the featurizer switches and their version;
//! - [`featurize`]: malwicode to vocabulary ids, windows and padded batches (model input);
//! - `vocabulary`: every token the emitter can produce on its own.
//!
//! Modules are private; what the Python extension, the benchmarks and the tests use is
//! re-exported here, and `malwicode` and `featurize` are public as a whole.

mod compile;
mod config;
mod discover;
mod emit;
mod error;
pub mod featurize;
mod language;
mod literal_stats;
mod literals;
pub mod malwicode;
mod object;
mod parse;
mod patterns;
mod payloads;
mod protectors;
#[cfg(test)]
mod scratch;
mod source;
mod strings;
mod taint;
mod vocabulary;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use compile::{
    compile_files, compile_read, panic_message, parallel_map, parse_files, read_files, CompileOptions, Failure,
    FileReport, ReadFile, DEFAULT_MAX_FILE_SIZE, HARD_FILE_LIMIT, WINDOW_BYTES,
};
pub use config::{FeaturizerConfig, Granularity, FEATURIZER_VERSION};
pub use discover::{
    archive_kind, discover, discover_with, is_archive_name, language_of, DiscoverOptions, Discovery, ARCHIVE_SUFFIXES,
    DEFAULT_MAX_ARCHIVE_SIZE,
};
/// Emission of an already parsed tree (for profiling the emitter apart from the parser).
pub use emit::{compile_text_full, emit_tree, emit_tree_with_notes, Compiled};
pub use error::Error;
pub use language::Language;
pub use literal_stats::{LiteralStats, BYTE_BINS, ENTROPY_BUCKETS, ENTROPY_BUCKET_BITS, ENTROPY_WINDOWS};
pub use malwicode::{Arg, Instr, Malwicode, Op, SizeBucket, StringClass};
pub use object::{MalwiObject, ObjectKind};
pub use parse::{parse, parse_only};
pub use patterns::PatternDatabase;
pub use payloads::{Limit, Note, NoteKind, CODE_STRING};
pub use protectors::{Detection, Evidence, Protector};
pub use source::SourceText;
pub use strings::{classify, StringToken};
pub use taint::{Flow, SinkKind, SourceKind};
pub use vocabulary::reserved_tokens;

/// Compiles source bytes (any bytes: invalid UTF-8 and NUL bytes are repaired, never refused).
pub fn compile_source(
    source: &[u8],
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<Vec<MalwiObject>, Error> {
    config.validate()?;
    let text = SourceText::of(source.to_vec(), language);
    catch_unwind(AssertUnwindSafe(|| emit::compile_text(&text, language, file_path, config)))
        .unwrap_or_else(|panic| Err(Error::Internal(compile::panic_message(&panic))))
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
    let text = SourceText::of(source.to_vec(), language);
    catch_unwind(AssertUnwindSafe(|| {
        emit::compile_text_full(&text, language, file_path, config).map(|c| (c.objects, c.notes))
    }))
    .unwrap_or_else(|panic| Err(Error::Internal(compile::panic_message(&panic))))
}

//! Where files are read and compiled in parallel.
//!
//! Every file gets a [`FileReport`], so one unreadable, oversized, binary or crashing file never
//! loses the others; what kept a file from being compiled is a typed [`Failure`]. A scan reads
//! each file once: [`read_files`] reads and hashes a chunk of files in parallel (the result
//! cache is asked by content digest), [`compile_read`] compiles what was read and not answered.
//! Compilation runs on a rayon pool with the requested number of workers.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rayon::ThreadPool;
use sha2::{Digest, Sha256};

use crate::config::FeaturizerConfig;
use crate::emit::compile_text_full;
use crate::error::Error;
use crate::language::Language;
use crate::object::MalwiObject;
use crate::source::{looks_binary, SourceText};

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Files up to this size are read whole and compiled in windows when they are larger than
/// `max_file_size`; only larger ones are not scanned (`Failure::TooLarge`). Fail closed: a
/// stealer padded past the size limit is still compiled, piece by piece.
pub const HARD_FILE_LIMIT: u64 = 256 * 1024 * 1024;
/// The largest window a large file is compiled in (each window costs the memory of a file of
/// its size; a file of one 10 MB line would cost gigabytes as one text).
pub const WINDOW_BYTES: u64 = 1024 * 1024;

/// How files are compiled.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Files larger than this are compiled in windows (of at most `WINDOW_BYTES`).
    pub max_file_size: u64,
    /// Files larger than this are not read (`Failure::TooLarge`); at least `max_file_size`.
    pub hard_limit: u64,
    pub config: FeaturizerConfig,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            workers: 0,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            hard_limit: HARD_FILE_LIMIT,
            config: FeaturizerConfig::default(),
        }
    }
}

impl CompileOptions {
    /// The limit past which nothing is read: the hard limit, never below `max_file_size`.
    pub fn read_limit(&self) -> u64 {
        self.hard_limit.max(self.max_file_size)
    }
}

/// Why a file was not compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Larger than the hard limit; nothing past the limit was read.
    TooLarge { size: u64, limit: u64 },
    /// Not text: a known binary format or mostly control bytes.
    Binary,
    /// Not code at all, though named like it: macOS's AppleDouble metadata (`._name.js` beside
    /// `name.js`, written by macOS archivers). Its header's NUL bytes make it unloadable as
    /// JavaScript or Python, so it is data, and does not leave its package unscanned.
    NotCode(&'static str),
    /// The file could not be opened or read.
    Unreadable(String),
    /// tree-sitter produced no tree.
    Parse(String),
    /// A bug in malwi, caught: reported, never a clean result.
    Internal(String),
}

impl Failure {
    /// Files passed over on purpose (too large, binary) rather than broken.
    pub fn is_skip(&self) -> bool {
        matches!(self, Failure::TooLarge { .. } | Failure::Binary | Failure::NotCode(_))
    }

    /// A stable name: `too_large`, `binary`, `not_code`, `unreadable`, `parse`, `internal`.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::TooLarge { .. } => "too_large",
            Failure::Binary => "binary",
            Failure::NotCode(_) => "not_code",
            Failure::Unreadable(_) => "unreadable",
            Failure::Parse(_) => "parse",
            Failure::Internal(_) => "internal",
        }
    }

    fn of_error(error: Error) -> Failure {
        match error {
            Error::Parse(_) => Failure::Parse(error.to_string()),
            Error::Io { .. } => Failure::Unreadable(error.to_string()),
            _ => Failure::Internal(error.to_string()),
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TooLarge { size, limit } => {
                write!(f, "larger than the hard size limit ({} > {})", megabytes(*size), megabytes(*limit))
            }
            Failure::Binary => f.write_str("binary file"),
            Failure::NotCode(what) => write!(f, "not code: {what}"),
            Failure::Unreadable(message) | Failure::Parse(message) | Failure::Internal(message) => f.write_str(message),
        }
    }
}

#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub language: Language,
    pub size: u64,
    /// The objects, or why there are none.
    pub outcome: Result<Vec<MalwiObject>, Failure>,
    /// Repairs and oddities worth telling the user about (invalid UTF-8, NUL bytes).
    pub warnings: Vec<String>,
    /// Payloads reported but not decoded (compiled Python) and decoding limits hit.
    pub notes: Vec<crate::payloads::Note>,
    /// Obfuscators and protectors recognised in the file (empty evidence: none).
    pub protection: crate::protectors::Detection,
    /// The modules the file imports by a constant name (see `Compiled::imports`).
    pub imports: Vec<String>,
    /// What its string literals look like, byte by byte (see `Compiled::literals`).
    pub literals: crate::LiteralStats,
}

impl FileReport {
    fn new(path: &Path, language: Language) -> FileReport {
        FileReport {
            path: path.to_path_buf(),
            language,
            size: 0,
            outcome: Ok(Vec::new()),
            warnings: Vec::new(),
            notes: Vec::new(),
            protection: crate::protectors::Detection::default(),
            literals: crate::LiteralStats::default(),
            imports: Vec::new(),
        }
    }
}

/// A file read for compiling: its bytes (or why there are none) and their SHA-256.
#[derive(Debug)]
pub struct ReadFile {
    pub path: PathBuf,
    pub language: Language,
    /// The file's size (of what was read, or on disk when it was too large to read).
    pub size: u64,
    /// SHA-256 of the bytes, for the result cache; `None` when nothing was read.
    pub digest: Option<[u8; 32]>,
    bytes: Result<Vec<u8>, Failure>,
}

/// A pool per worker count, built once: pools are reused across batch calls.
fn pool(workers: usize) -> Result<Arc<ThreadPool>, Error> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let workers = if workers == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { workers };
    let mut pools = POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&workers) {
        return Ok(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .stack_size(8 * 1024 * 1024)
        .thread_name(|i| format!("malwi-worker-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {workers} workers: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(workers, pool.clone());
    Ok(pool)
}

/// `f` over `items` on the worker pool, results in input order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Result<Vec<R>, Error> {
    let pool = pool(workers)?;
    Ok(pool.install(|| items.par_iter().map(&f).collect()))
}

/// Reads and compiles files in parallel, in input order.
pub fn compile_files(files: &[(PathBuf, Language)], options: &CompileOptions) -> Result<Vec<FileReport>, Error> {
    options.config.validate()?;
    let pool = pool(options.workers)?;
    Ok(pool.install(|| {
        files
            .par_iter()
            .map(|(path, language)| compile_one(read_file(path, *language, options.read_limit(), false), options))
            .collect()
    }))
}

/// Reads files in parallel (at most `limit` bytes each: `CompileOptions::read_limit`) and
/// hashes what was read.
pub fn read_files(files: &[(PathBuf, Language)], limit: u64, workers: usize) -> Result<Vec<ReadFile>, Error> {
    parallel_map(files, workers, |(path, language)| read_file(path, *language, limit, true))
}

/// Compiles files already read, in parallel, in input order.
pub fn compile_read(files: Vec<ReadFile>, options: &CompileOptions) -> Result<Vec<FileReport>, Error> {
    options.config.validate()?;
    let pool = pool(options.workers)?;
    Ok(pool.install(|| files.into_par_iter().map(|file| compile_one(file, options)).collect()))
}

/// Reads one file; never fails: problems end up in `bytes`.
fn read_file(path: &Path, language: Language, limit: u64, hash: bool) -> ReadFile {
    let mut file = ReadFile { path: path.to_path_buf(), language, size: 0, digest: None, bytes: Ok(Vec::new()) };
    match read_limited(path, limit) {
        Ok(Ok(bytes)) => {
            file.size = bytes.len() as u64;
            if hash {
                file.digest = Some(Sha256::digest(&bytes).into());
            }
            file.bytes = Ok(bytes);
        }
        Ok(Err(size)) => {
            file.size = size;
            file.bytes = Err(Failure::TooLarge { size, limit });
        }
        Err(e) => file.bytes = Err(Failure::Unreadable(e.to_string())),
    }
    file
}

/// macOS's AppleDouble file: named `._*` and starting with its magic number (AppleSingle's too).
fn is_apple_double(path: &Path, head: &[u8]) -> bool {
    let named = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("._"));
    named && (head.starts_with(b"\x00\x05\x16\x07") || head.starts_with(b"\x00\x05\x16\x00"))
}

/// Compiles one file that was read; never panics, never fails: problems end up in the report.
fn compile_one(file: ReadFile, options: &CompileOptions) -> FileReport {
    let mut report = FileReport::new(&file.path, file.language);
    report.size = file.size;
    let bytes = match file.bytes {
        Ok(bytes) => bytes,
        Err(failure) => {
            report.outcome = Err(failure);
            return report;
        }
    };
    if is_apple_double(&file.path, &bytes) {
        report.outcome = Err(Failure::NotCode("macOS AppleDouble metadata"));
        return report;
    }
    // A `.pth` file's code is its `import` lines, whatever else it holds: `site` reads a
    // binary one too (model weights are often named `.pth`), so it is not skipped as binary;
    // without an `import` line it is data, scanned whole, and its bytes need no warning.
    let pth = file.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pth"));
    let binary = looks_binary(&bytes);
    if binary && !pth {
        report.outcome = Err(Failure::Binary);
        return report;
    }
    let mut source = SourceText::of(bytes, file.language);
    if pth {
        source.text = crate::source::pth_code(&source.text).into();
        if binary {
            source.invalid_utf8 = false;
            source.nul_bytes = false;
        }
    }
    if source.invalid_utf8 {
        report.warnings.push("invalid UTF-8 replaced by U+FFFD".into());
    }
    if source.nul_bytes {
        report.warnings.push("NUL bytes replaced by spaces".into());
    }
    let file_path = file.path.to_string_lossy();
    let window = options.max_file_size.clamp(1, WINDOW_BYTES) as usize;
    let result = catch_unwind(AssertUnwindSafe(|| {
        if source.text.len() as u64 > options.max_file_size {
            let pieces = windows(&source.text, window);
            report.warnings.push(format!(
                "larger than the size limit ({} > {}): compiled in {} windows of at most {}",
                megabytes(report.size),
                megabytes(options.max_file_size),
                pieces.len(),
                megabytes(window as u64)
            ));
            compile_windows(&source, &pieces, file.language, &file_path, &options.config)
        } else {
            compile_text_full(&source, file.language, &file_path, &options.config)
        }
    }));
    report.outcome = match result {
        Ok(Ok(compiled)) => {
            report.notes = compiled.notes;
            report.protection = compiled.protection;
            report.imports = compiled.imports;
            report.literals = compiled.literals;
            Ok(compiled.objects)
        }
        Ok(Err(e)) => Err(Failure::of_error(e)),
        Err(panic) => Err(Failure::Internal(format!("internal error: {}", panic_message(&panic)))),
    };
    report
}

/// Byte ranges of at most `size` bytes covering `text`, each ending at a line end where the
/// window holds one; a single longer line is cut after a `;`, `,`, `}` or space near the
/// window's end where there is one (so most statements stay whole), else at a character
/// boundary.
fn windows(text: &str, size: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end == start {
            // A window smaller than one character: take the character whole.
            end = start + text[start..].chars().next().map_or(1, char::len_utf8);
        } else if end < text.len() {
            if let Some(newline) = text[start..end].rfind('\n') {
                end = start + newline + 1;
            } else {
                let near = end.saturating_sub(size / 16).max(start);
                let tail = &text.as_bytes()[near..end];
                if let Some(cut) = tail.iter().rposition(|b| matches!(b, b';' | b',' | b'}' | b' ')) {
                    end = near + cut + 1;
                }
            }
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Compiles each window of a large file as a text of its own, placed at the window's lines.
fn compile_windows(
    source: &SourceText,
    pieces: &[std::ops::Range<usize>],
    language: Language,
    file_path: &str,
    config: &FeaturizerConfig,
) -> Result<crate::emit::Compiled, Error> {
    let mut whole: Option<crate::emit::Compiled> = None;
    let mut line = 0u32;
    for piece in pieces {
        let text = &source.text[piece.clone()];
        let window =
            SourceText { text: Arc::from(text), invalid_utf8: source.invalid_utf8, nul_bytes: source.nul_bytes };
        let mut compiled = compile_text_full(&window, language, file_path, config)?;
        for object in &mut compiled.objects {
            object.shift_lines(line);
        }
        for note in &mut compiled.notes {
            note.lines = (note.lines.0 + line, note.lines.1 + line);
        }
        line = line.saturating_add(text.bytes().filter(|&b| b == b'\n').count() as u32);
        match whole.as_mut() {
            None => whole = Some(compiled),
            Some(all) => {
                all.objects.append(&mut compiled.objects);
                all.notes.append(&mut compiled.notes);
                all.literals.merge(&compiled.literals);
                for module in compiled.imports {
                    if !all.imports.contains(&module) {
                        all.imports.push(module);
                    }
                }
                if !all.protection.is_protected() && compiled.protection.is_protected() {
                    all.protection = compiled.protection;
                }
            }
        }
    }
    whole.ok_or_else(|| Error::Internal("a large file without windows".into()))
}

/// The file's bytes, or `Err(size)` when it is larger than `limit` (nothing more is read).
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Ok(Err(size));
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Reads and parses files without compiling them: the parser's own throughput, for benchmarks.
/// Returns the number of bytes parsed.
pub fn parse_files(files: &[(PathBuf, Language)], workers: usize) -> Result<u64, Error> {
    let pool = pool(workers)?;
    pool.install(|| {
        files
            .par_iter()
            .map(|(path, language)| {
                let bytes =
                    std::fs::read(path).map_err(|e| Error::Io { path: path.clone(), message: e.to_string() })?;
                let source = SourceText::decode(bytes);
                crate::parse::parse_only(&source.text, *language).map(|n| n as u64)
            })
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> crate::scratch::Scratch {
        crate::scratch::Scratch::new(&format!("compile-{name}"))
    }

    fn sample_files(dir: &Path) -> Vec<(PathBuf, Language)> {
        std::fs::write(dir.join("ok.py"), "import os\nos.system('id')\n").unwrap();
        std::fs::write(dir.join("big.py"), "x = 1\n".repeat(100)).unwrap();
        std::fs::write(dir.join("binary.py"), [0x7f, b'E', b'L', b'F', 0, 0, 0, 1, 2, 3]).unwrap();
        std::fs::write(dir.join("odd.py"), b"x = '\xff'\0\n").unwrap();
        ["ok.py", "big.py", "binary.py", "odd.py", "gone.py"].iter().map(|n| (dir.join(n), Language::Python)).collect()
    }

    #[test]
    fn every_file_gets_a_report() {
        let dir = temp_dir("reports");
        let files = sample_files(&dir);
        let options = CompileOptions { workers: 2, max_file_size: 300, hard_limit: 300, ..Default::default() };
        let reports = compile_files(&files, &options).unwrap();
        assert_eq!(reports.len(), 5);
        assert_eq!(
            reports.iter().map(|r| &r.path).collect::<Vec<_>>(),
            files.iter().map(|(path, _)| path).collect::<Vec<_>>(),
            "a report per file, in the order given"
        );
        assert!(matches!(&reports[0].outcome, Ok(objects) if objects[0].token_string().contains("PROCESS_MANAGEMENT")));
        assert_eq!(reports[1].outcome.as_ref().unwrap_err(), &Failure::TooLarge { size: 600, limit: 300 });
        assert_eq!(reports[2].outcome.as_ref().unwrap_err(), &Failure::Binary);
        assert!(reports[3].outcome.is_ok(), "{:?}", reports[3].outcome);
        assert_eq!(reports[3].warnings.len(), 2);
        assert_eq!(reports[3].warnings, ["invalid UTF-8 replaced by U+FFFD", "NUL bytes replaced by spaces"]);
        let gone = reports[4].outcome.as_ref().unwrap_err();
        assert!(matches!(gone, Failure::Unreadable(_)) && !gone.is_skip(), "{gone:?}");
        assert_eq!(
            reports.iter().map(|r| r.outcome.as_ref().err().map_or("compiled", Failure::kind)).collect::<Vec<_>>(),
            ["compiled", "too_large", "binary", "compiled", "unreadable"]
        );
        assert_eq!(
            reports[1].outcome.as_ref().unwrap_err().to_string(),
            "larger than the hard size limit (0.0 MB > 0.0 MB)"
        );
    }

    #[test]
    fn macos_appledouble_files_are_not_code_but_other_binaries_are_still_unscanned() {
        let dir = temp_dir("appledouble");
        let mut apple = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ".to_vec();
        apple.extend_from_slice(&[0; 40]);
        std::fs::write(dir.join("._index.js"), &apple).unwrap();
        std::fs::write(dir.join("index.js"), &apple).unwrap(); // the same bytes, named as code
        std::fs::write(dir.join("._notes.js"), "module.exports = 1;\n").unwrap(); // text: compiled
        let files: Vec<_> =
            ["._index.js", "index.js", "._notes.js"].iter().map(|n| (dir.join(n), Language::JavaScript)).collect();
        let reports = compile_files(&files, &CompileOptions::default()).unwrap();
        let kinds: Vec<_> =
            reports.iter().map(|r| r.outcome.as_ref().err().map_or("compiled", Failure::kind)).collect();
        assert_eq!(kinds, ["not_code", "binary", "compiled"]);
        let not_code = reports[0].outcome.as_ref().unwrap_err();
        assert!(not_code.is_skip());
        assert_eq!(not_code.to_string(), "not code: macOS AppleDouble metadata");
    }

    #[test]
    fn a_binary_pth_file_is_scanned_for_the_import_lines_site_would_run() {
        let dir = temp_dir("binary-pth");
        // Model weights saved as a zip named `.pth`: data, fully scanned, no warning.
        let mut weights = b"PK\x03\x04\x14\x00\x00\x00archive/data.pkl\x80\x02}q\x00.".to_vec();
        weights.extend((0..=255u8).cycle().take(4096));
        std::fs::write(dir.join("weights.pth"), &weights).unwrap();
        // The same bytes with an `import` line: that line is what Python runs at start-up.
        let mut hidden = weights.clone();
        hidden.extend_from_slice(b"\nimport os; os.system('id')\n");
        hidden.extend((0..=255u8).cycle().take(512));
        std::fs::write(dir.join("hidden.pth"), &hidden).unwrap();
        std::fs::write(dir.join("weights.py"), &weights).unwrap(); // named as source: binary
        let files: Vec<_> =
            ["weights.pth", "hidden.pth", "weights.py"].iter().map(|n| (dir.join(n), Language::Python)).collect();
        let reports = compile_files(&files, &CompileOptions::default()).unwrap();
        let data = reports[0].outcome.as_ref().expect("a binary .pth is read as data");
        assert!(data.iter().all(|o| !o.token_string().contains("PROCESS_MANAGEMENT")));
        assert!(reports[0].warnings.is_empty(), "{:?}", reports[0].warnings);
        let code = reports[1].outcome.as_ref().expect("compiled");
        assert!(code.iter().any(|o| o.token_string().contains("PROCESS_MANAGEMENT")), "{code:?}");
        assert_eq!(reports[2].outcome.as_ref().unwrap_err(), &Failure::Binary);
    }

    #[test]
    fn reading_then_compiling_gives_what_compiling_gives_and_hashes_what_was_read() {
        let dir = temp_dir("read");
        let files = sample_files(&dir);
        let options = CompileOptions { workers: 2, max_file_size: 300, hard_limit: 300, ..Default::default() };
        let read = read_files(&files, options.read_limit(), 2).unwrap();
        let digest = |name: &str| -> [u8; 32] { Sha256::digest(std::fs::read(dir.join(name)).unwrap()).into() };
        assert_eq!(read[0].digest, Some(digest("ok.py")));
        assert_eq!(read[2].digest, Some(digest("binary.py")), "a binary file is read and hashed, not compiled");
        assert_eq!((read[1].digest, read[1].size), (None, 600), "nothing past the limit is read");
        assert_eq!(read[4].digest, None);
        let once = compile_read(read, &options).unwrap();
        let twice = compile_files(&files, &options).unwrap();
        for (a, b) in once.iter().zip(&twice) {
            assert_eq!((&a.path, a.size, &a.warnings), (&b.path, b.size, &b.warnings));
            match (&a.outcome, &b.outcome) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(
                        x.iter().map(|o| o.hash()).collect::<Vec<_>>(),
                        y.iter().map(|o| o.hash()).collect::<Vec<_>>()
                    )
                }
                (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind()),
                other => panic!("outcomes differ: {other:?}"),
            }
        }
    }

    #[test]
    fn a_file_over_the_size_limit_is_compiled_in_windows_at_its_own_lines() {
        let dir = temp_dir("windows");
        let padding = "# padding\n".repeat(400); // 4,000 bytes of comments
        let payload = "import os\ndef run():\n    os.system('echo defanged')\n";
        std::fs::write(dir.join("padded.py"), format!("{padding}{payload}")).unwrap();
        let files = [(dir.join("padded.py"), Language::Python)];
        let options = CompileOptions { workers: 1, max_file_size: 1000, ..Default::default() };
        let report = compile_files(&files, &options).unwrap().remove(0);
        let objects = report.outcome.as_ref().expect("compiled, not skipped");
        let run = objects.iter().find(|o| o.name == "run").expect("the payload past the limit is found");
        assert_eq!(run.lines, (402, 403), "placed at its lines in the whole file");
        assert!(run.token_string().contains("PROCESS_MANAGEMENT"));
        assert_eq!(report.imports, ["os"]);
        assert!(report.warnings[0].starts_with("larger than the size limit"), "{:?}", report.warnings);
        let beyond = CompileOptions { hard_limit: 2000, ..options };
        let skipped = compile_files(&files, &beyond).unwrap().remove(0);
        assert_eq!(skipped.outcome.unwrap_err(), Failure::TooLarge { size: 4052, limit: 2000 });
    }

    #[test]
    fn a_long_line_is_cut_after_a_separator() {
        let line = "x = [".to_string() + &"1, ".repeat(1000) + "]";
        let pieces = windows(&line, 256);
        assert!(pieces.len() > 10);
        for piece in &pieces[..pieces.len() - 1] {
            assert!(line[piece.clone()].ends_with([' ', ',']), "cut after a separator: {:?}", &line[piece.clone()]);
        }
    }

    #[test]
    fn windows_cover_the_text_in_order_at_line_ends_and_character_boundaries() {
        let text = "ab\ncdé\nf\n\u{1F600}\u{1F600}gh";
        for size in 1..=text.len() + 1 {
            let pieces = windows(text, size);
            assert_eq!(pieces.first().map(|p| p.start), Some(0));
            assert_eq!(pieces.last().map(|p| p.end), Some(text.len()));
            for pair in pieces.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "contiguous");
            }
            for piece in &pieces {
                let part = &text[piece.clone()]; // panics if not at character boundaries
                assert!(part.len() <= size || part.chars().count() == 1, "{size}: {part:?}");
            }
        }
    }
}

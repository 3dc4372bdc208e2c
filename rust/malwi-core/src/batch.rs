//! Where files are found and compiled in parallel.
//!
//! Discovery walks directories (sorted, no symlinks followed, VCS folders skipped) and picks
//! files by extension or `#!` line. Compilation runs on a rayon pool with the requested number
//! of workers; every file gets a [`FileReport`], so one unreadable, oversized, binary or
//! crashing file never loses the others.

use std::collections::HashMap;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::config::FeaturizerConfig;
use crate::emit::compile_text;
use crate::error::Error;
use crate::language::Language;
use crate::object::MalwiObject;
use crate::source::{looks_binary, SourceText};

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Directories that never hold the code of a package or project.
const SKIPPED_DIRECTORIES: &[&str] =
    &[".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", ".nox"];

#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Files larger than this are skipped with a warning.
    pub max_file_size: u64,
    pub config: FeaturizerConfig,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { workers: 0, max_file_size: DEFAULT_MAX_FILE_SIZE, config: FeaturizerConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge { size: u64, limit: u64 },
    Binary,
}

#[derive(Debug)]
pub enum Outcome {
    Compiled(Vec<MalwiObject>),
    Skipped(SkipReason),
    Failed(String),
}

#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub language: Language,
    pub size: u64,
    pub outcome: Outcome,
    /// Repairs and oddities worth telling the user about (invalid UTF-8, NUL bytes, syntax errors).
    pub warnings: Vec<String>,
}

/// The files a scan will compile, and what it passed over.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<(PathBuf, Language)>,
    /// Regular files whose extension (or lack of one) is not compiled.
    pub skipped_by_extension: usize,
    /// Symbolic links, which are never followed.
    pub skipped_links: usize,
    /// Entries that could not be listed or inspected.
    pub errors: Vec<(PathBuf, String)>,
}

/// Finds the files to compile under `paths`. `extensions` (without dots) restricts the set;
/// by default every supported extension counts, and extension-less scripts are recognised by
/// their `#!` line.
pub fn discover(paths: &[PathBuf], extensions: Option<&[String]>) -> Result<Discovery, Error> {
    let wanted: Vec<String> = match extensions {
        Some(list) => list.iter().map(|e| e.trim_start_matches('.').to_ascii_lowercase()).collect(),
        None => Language::DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
    };
    for e in &wanted {
        if Language::from_extension(e).is_none() {
            return Err(Error::UnsupportedLanguage(format!(".{e}")));
        }
    }
    let mut discovery = Discovery::default();
    for path in paths {
        let metadata =
            std::fs::symlink_metadata(path).map_err(|e| Error::Io { path: path.clone(), message: e.to_string() })?;
        if metadata.is_dir() {
            walk(path, &wanted, &mut discovery);
        } else {
            classify_file(path, &metadata, &wanted, extensions.is_none(), &mut discovery);
        }
    }
    Ok(discovery)
}

fn walk(root: &Path, wanted: &[String], discovery: &mut Discovery) {
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                discovery.errors.push((dir, e.to_string()));
                continue;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirectories = Vec::new();
        for entry in entries {
            let path = entry.path();
            let metadata = match std::fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(e) => {
                    discovery.errors.push((path, e.to_string()));
                    continue;
                }
            };
            if metadata.is_dir() {
                let name = entry.file_name();
                if !SKIPPED_DIRECTORIES.iter().any(|skip| name == *skip) {
                    subdirectories.push(path);
                }
            } else {
                classify_file(&path, &metadata, wanted, wanted.len() == Language::DEFAULT_EXTENSIONS.len(), discovery);
            }
        }
        // Reverse so that popping visits subdirectories in sorted order.
        pending.extend(subdirectories.into_iter().rev());
    }
}

fn classify_file(
    path: &Path,
    metadata: &std::fs::Metadata,
    wanted: &[String],
    shebangs: bool,
    discovery: &mut Discovery,
) {
    if metadata.file_type().is_symlink() {
        discovery.skipped_links += 1;
        return;
    }
    if !metadata.is_file() {
        discovery.skipped_by_extension += 1;
        return;
    }
    let extension = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    let language = match &extension {
        Some(e) if wanted.iter().any(|w| w == e) => Language::from_extension(e),
        None if shebangs => read_head(path, 256).ok().and_then(|head| Language::from_shebang(&head)),
        _ => None,
    };
    match language {
        Some(language) => discovery.files.push((path.to_path_buf(), language)),
        None => discovery.skipped_by_extension += 1,
    }
}

/// A file's language: by extension, else (for extension-less scripts) by its `#!` line.
pub fn language_of(path: &Path) -> Option<Language> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(extension) => Language::from_extension(extension),
        None => read_head(path, 256).ok().and_then(|head| Language::from_shebang(&head)),
    }
}

fn read_head(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit);
    std::fs::File::open(path)?.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
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

/// Compiles files in parallel, in input order.
pub fn compile_files(files: &[(PathBuf, Language)], options: &ScanOptions) -> Result<Vec<FileReport>, Error> {
    options.config.validate()?;
    let pool = pool(options.workers)?;
    Ok(pool.install(|| files.par_iter().map(|(path, language)| compile_file(path, *language, options)).collect()))
}

/// Reads and compiles one file; never panics, never fails: problems end up in the report.
pub fn compile_file(path: &Path, language: Language, options: &ScanOptions) -> FileReport {
    let mut report = FileReport {
        path: path.to_path_buf(),
        language,
        size: 0,
        outcome: Outcome::Compiled(Vec::new()),
        warnings: Vec::new(),
    };
    let bytes = match read_limited(path, options.max_file_size) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => {
            report.size = size;
            report.outcome = Outcome::Skipped(SkipReason::TooLarge { size, limit: options.max_file_size });
            return report;
        }
        Err(e) => {
            report.outcome = Outcome::Failed(e.to_string());
            return report;
        }
    };
    report.size = bytes.len() as u64;
    if looks_binary(&bytes) {
        report.outcome = Outcome::Skipped(SkipReason::Binary);
        return report;
    }
    let source = SourceText::decode(bytes);
    if source.invalid_utf8 {
        report.warnings.push("invalid UTF-8 replaced by U+FFFD".into());
    }
    if source.nul_bytes {
        report.warnings.push("NUL bytes replaced by spaces".into());
    }
    let file_path = path.to_string_lossy();
    let result = catch_unwind(AssertUnwindSafe(|| compile_text(&source, language, &file_path, &options.config)));
    report.outcome = match result {
        Ok(Ok(objects)) => Outcome::Compiled(objects),
        Ok(Err(e)) => Outcome::Failed(e.to_string()),
        Err(panic) => Outcome::Failed(format!("internal error: {}", panic_message(&panic))),
    };
    report
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("malwi-batch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn discovery_is_sorted_and_skips_what_it_should() {
        let dir = temp_dir("discover");
        std::fs::create_dir_all(dir.join("pkg/.git")).unwrap();
        std::fs::write(dir.join("pkg/.git/hook.py"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/b.py"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/a.js"), "x = 1").unwrap();
        std::fs::write(dir.join("pkg/data.json"), "{}").unwrap();
        std::fs::write(dir.join("pkg/tool"), "#!/usr/bin/env python\nprint(1)\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", dir.join("pkg/link.py")).unwrap();
        let found = discover(std::slice::from_ref(&dir), None).unwrap();
        let names: Vec<_> =
            found.files.iter().map(|(p, _)| p.file_name().unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(names, ["a.js", "b.py", "tool"]);
        assert_eq!(found.skipped_by_extension, 1);
        #[cfg(unix)]
        assert_eq!(found.skipped_links, 1);
        let only_js = discover(std::slice::from_ref(&dir), Some(&["js".to_string()])).unwrap();
        assert_eq!(only_js.files.len(), 1);
        assert!(discover(&[dir.join("missing")], None).is_err());
        assert!(discover(std::slice::from_ref(&dir), Some(&["rb".to_string()])).is_err());
    }

    #[test]
    fn every_file_gets_a_report() {
        let dir = temp_dir("reports");
        std::fs::write(dir.join("ok.py"), "import os\nos.system('id')\n").unwrap();
        std::fs::write(dir.join("big.py"), "x = 1\n".repeat(100)).unwrap();
        std::fs::write(dir.join("binary.py"), [0x7f, b'E', b'L', b'F', 0, 0, 0, 1, 2, 3]).unwrap();
        std::fs::write(dir.join("odd.py"), b"x = '\xff'\0\n").unwrap();
        let files: Vec<_> = ["ok.py", "big.py", "binary.py", "odd.py", "gone.py"]
            .iter()
            .map(|n| (dir.join(n), Language::Python))
            .collect();
        let options = ScanOptions { workers: 2, max_file_size: 300, ..Default::default() };
        let reports = compile_files(&files, &options).unwrap();
        assert_eq!(reports.len(), 5);
        assert!(
            matches!(&reports[0].outcome, Outcome::Compiled(objects) if objects[0].token_string().contains("PROCESS_MANAGEMENT"))
        );
        assert!(matches!(reports[1].outcome, Outcome::Skipped(SkipReason::TooLarge { size: 600, limit: 300 })));
        assert!(matches!(reports[2].outcome, Outcome::Skipped(SkipReason::Binary)));
        assert!(matches!(reports[3].outcome, Outcome::Compiled(_)), "{:?}", reports[3].outcome);
        assert_eq!(reports[3].warnings.len(), 2);
        assert!(matches!(reports[4].outcome, Outcome::Failed(_)));
    }
}

//! `malwi._malwi`: the Python face of malwi-core. Thin on purpose: types, errors, and one helper
//! ([`detached`]) through which every heavy call releases the GIL, catches panics and checks for
//! Ctrl-C. No tree-sitter node ever crosses into Python; only owned results do.

use std::ffi::OsString;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use malwi_core as core;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

create_exception!(_malwi, MalwiError, PyException, "Base class of every error malwi raises.");
create_exception!(_malwi, UnsupportedLanguageError, MalwiError, "A language or file type malwi does not compile.");
create_exception!(_malwi, ConfigError, MalwiError, "An invalid featurizer configuration.");
create_exception!(_malwi, PathError, MalwiError, "A path that does not exist or cannot be read.");
create_exception!(_malwi, ParseError, MalwiError, "tree-sitter produced no tree.");
create_exception!(_malwi, InternalError, MalwiError, "A bug in malwi, caught before it could crash the interpreter.");

fn to_py_err(error: core::Error) -> PyErr {
    let message = error.to_string();
    match error {
        core::Error::UnsupportedLanguage(_) => UnsupportedLanguageError::new_err(message),
        core::Error::Config(_) => ConfigError::new_err(message),
        core::Error::Io { .. } => PathError::new_err(message),
        core::Error::Parse(_) => ParseError::new_err(message),
        core::Error::Internal(_) => InternalError::new_err(message),
    }
}

/// Runs heavy work without the GIL. Panics become `InternalError`, core errors their own
/// exception, and a Ctrl-C pressed meanwhile is raised as `KeyboardInterrupt` afterwards.
fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T, core::Error> + Send) -> PyResult<T> {
    let result = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    py.check_signals()?;
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py_err(error)),
        Err(panic) => Err(InternalError::new_err(format!("internal error: {}", core::panic_message(&panic)))),
    }
}

// ---------------------------------------------------------------------------------------------
// Featurizer configuration

/// The switches that shape malwicode. Immutable; a model records `featurizer_id`.
#[pyclass(frozen, module = "malwi._malwi")]
#[derive(Clone)]
struct FeaturizerConfig {
    inner: core::FeaturizerConfig,
}

#[pymethods]
impl FeaturizerConfig {
    #[new]
    #[pyo3(signature = (*, methods = "separate", lambdas = "separate", disabled_string_classes = Vec::new(), size_buckets = true, short_string_max = 20, max_nesting = None, flow_tokens = false, protector_tokens = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        methods: &str,
        lambdas: &str,
        disabled_string_classes: Vec<String>,
        size_buckets: bool,
        short_string_max: usize,
        max_nesting: Option<u32>,
        flow_tokens: bool,
        protector_tokens: bool,
    ) -> PyResult<Self> {
        let mut inner = core::FeaturizerConfig {
            methods: core::Granularity::from_name(methods).map_err(to_py_err)?,
            lambdas: core::Granularity::from_name(lambdas).map_err(to_py_err)?,
            size_buckets,
            short_string_max,
            flow_tokens,
            protector_tokens,
            ..Default::default()
        };
        if let Some(max_nesting) = max_nesting {
            inner.max_nesting = max_nesting;
        }
        for token in disabled_string_classes {
            let class = core::StringClass::from_token(&token)
                .ok_or_else(|| ConfigError::new_err(format!("unknown string class {token:?}")))?;
            inner.disabled_string_classes.push(class);
        }
        inner.validate().map_err(to_py_err)?;
        Ok(FeaturizerConfig { inner })
    }

    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        core::FeaturizerConfig::from_json(json).map(|inner| FeaturizerConfig { inner }).map_err(to_py_err)
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    #[getter]
    fn featurizer_id(&self) -> String {
        self.inner.featurizer_id()
    }

    #[getter]
    fn version(&self) -> u32 {
        self.inner.version
    }

    #[getter]
    fn methods(&self) -> &'static str {
        self.inner.methods.name()
    }

    #[getter]
    fn lambdas(&self) -> &'static str {
        self.inner.lambdas.name()
    }

    #[getter]
    fn disabled_string_classes(&self) -> Vec<&'static str> {
        self.inner.disabled_string_classes.iter().map(|c| c.token()).collect()
    }

    #[getter]
    fn size_buckets(&self) -> bool {
        self.inner.size_buckets
    }

    #[getter]
    fn short_string_max(&self) -> usize {
        self.inner.short_string_max
    }

    #[getter]
    fn max_nesting(&self) -> u32 {
        self.inner.max_nesting
    }

    #[getter]
    fn flow_tokens(&self) -> bool {
        self.inner.flow_tokens
    }

    #[getter]
    fn protector_tokens(&self) -> bool {
        self.inner.protector_tokens
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<FeaturizerConfig>().is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        let id = self.inner.featurizer_id();
        u64::from_str_radix(&id[id.len() - 12..], 16).unwrap_or(0)
    }

    fn __repr__(&self) -> String {
        format!("FeaturizerConfig({})", self.inner.to_json())
    }
}

fn config_or_default(config: Option<&Bound<'_, FeaturizerConfig>>) -> core::FeaturizerConfig {
    config.map(|c| c.get().inner.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Objects and file reports

/// One compiled object: a module body, function, class, method or lambda.
#[pyclass(frozen, module = "malwi._malwi")]
struct MalwiObject {
    inner: Arc<core::MalwiObject>,
}

#[pymethods]
impl MalwiObject {
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// `module`, `function`, `class`, `method` or `lambda`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.name()
    }

    #[getter]
    fn language(&self) -> &'static str {
        self.inner.language.name()
    }

    #[getter]
    fn file_path(&self) -> &str {
        &self.inner.file_path
    }

    /// `(first_line, last_line)`, 1-based.
    #[getter]
    fn location(&self) -> (u32, u32) {
        self.inner.lines
    }

    #[getter]
    fn source_code(&self) -> &str {
        self.inner.source_code()
    }

    /// For code decoded from a string literal: the decodings applied (`base64 > zlib`), else None.
    #[getter]
    fn decoded_from(&self) -> Option<&str> {
        self.inner.decoded_from()
    }

    /// Data flows from sources to sinks found in the object.
    #[getter]
    fn flows(&self) -> Vec<Flow> {
        self.inner.flows().iter().map(Flow::of).collect()
    }

    #[getter]
    fn token_count(&self) -> usize {
        self.inner.token_count()
    }

    fn tokens(&self) -> Vec<&str> {
        self.inner.tokens().collect()
    }

    fn to_token_string(&self) -> &str {
        self.inner.token_string()
    }

    /// The behaviour categories that occur in the object, sorted.
    fn activities(&self) -> Vec<&str> {
        self.inner.activities()
    }

    /// Hex SHA-256 of the token string.
    fn to_hash(&self) -> &str {
        self.inner.hash()
    }

    /// `[(opcode, (arg, ...)), ...]`
    fn instructions<'py>(&self, py: Python<'py>) -> PyResult<Vec<(&'static str, Bound<'py, PyTuple>)>> {
        let code = self.inner.code();
        code.instructions()
            .map(|instr| Ok((instr.op.name(), PyTuple::new(py, instr.args.iter().map(|arg| code.arg_text(arg)))?)))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "<MalwiObject {} {:?} {}:{}-{} tokens={}>",
            self.inner.kind.name(),
            self.inner.name,
            self.inner.file_path,
            self.inner.lines.0,
            self.inner.lines.1,
            self.inner.token_count()
        )
    }
}

fn wrap_objects(objects: Vec<core::MalwiObject>) -> Vec<MalwiObject> {
    objects.into_iter().map(|o| MalwiObject { inner: Arc::new(o) }).collect()
}

/// A data flow inside one object: sensitive data from a source reaching a sink.
#[pyclass(frozen, get_all, module = "malwi._malwi")]
struct Flow {
    /// `environment`, `sensitive_file`, `credentials`, ... (see the result schema).
    source: &'static str,
    /// `network`, `webhook`, `code_execution`, `process`, `autostart`.
    sink: &'static str,
    source_line: u32,
    sink_line: u32,
    /// The file read or the URL sent to, when the code names it.
    source_detail: Option<String>,
    sink_detail: Option<String>,
}

impl Flow {
    fn of(flow: &core::Flow) -> Flow {
        Flow {
            source: flow.source.name(),
            sink: flow.sink.name(),
            source_line: flow.source_line,
            sink_line: flow.sink_line,
            source_detail: flow.source_detail.clone(),
            sink_detail: flow.sink_detail.clone(),
        }
    }
}

#[pymethods]
impl Flow {
    /// The flow as the JSON result writes it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("source", self.source)?;
        dict.set_item("sink", self.sink)?;
        dict.set_item("source_line", self.source_line)?;
        dict.set_item("sink_line", self.sink_line)?;
        dict.set_item("source_detail", self.source_detail.as_deref())?;
        dict.set_item("sink_detail", self.sink_detail.as_deref())?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        format!("<Flow {} -> {} lines {}-{}>", self.source, self.sink, self.source_line, self.sink_line)
    }
}

/// Something about a file's payloads: compiled code found (reported, never loaded), or payload
/// decoding stopped at a limit.
#[pyclass(frozen, get_all, module = "malwi._malwi")]
struct Note {
    /// `marshal_code` or `decoding_limit`.
    kind: &'static str,
    /// The literal's first and last line.
    lines: (u32, u32),
    detail: String,
    /// For `decoding_limit`: the limit reached, by its constant (`MAX_OUTPUT`, `MAX_LAYERS`, ...).
    limit: Option<&'static str>,
}

impl Note {
    fn of(note: &core::Note) -> Note {
        let kind = match note.kind {
            core::NoteKind::MarshalCode => "marshal_code",
            core::NoteKind::DecodingLimit(_) => "decoding_limit",
        };
        Note {
            kind,
            lines: note.lines,
            detail: note.detail.clone(),
            limit: note.limit_reached().map(core::Limit::name),
        }
    }
}

#[pymethods]
impl Note {
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("kind", self.kind)?;
        dict.set_item("lines", [self.lines.0, self.lines.1])?;
        dict.set_item("detail", &self.detail)?;
        if let Some(limit) = self.limit {
            dict.set_item("limit", limit)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        format!("<Note {} lines {}-{}>", self.kind, self.lines.0, self.lines.1)
    }
}

/// One signal of an obfuscator or protector.
#[pyclass(frozen, get_all, module = "malwi._malwi")]
struct Evidence {
    protector: &'static str,
    line: u32,
    signal: String,
    weight: f64,
}

/// What the protector detection found in a file.
#[pyclass(frozen, get_all, module = "malwi._malwi")]
struct Protection {
    is_protected: bool,
    /// The protector the file is protected by; None below the threshold.
    protector: Option<&'static str>,
    confidence: f64,
    evidence: Vec<Py<Evidence>>,
}

fn rounded(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

impl Protection {
    /// None when nothing was found.
    fn of(py: Python<'_>, detection: &core::Detection) -> PyResult<Option<Protection>> {
        if detection.evidence.is_empty() {
            return Ok(None);
        }
        let evidence = detection
            .evidence
            .iter()
            .map(|e| {
                let item = Evidence {
                    protector: e.protector.name(),
                    line: e.line,
                    signal: e.signal.clone(),
                    weight: rounded(e.weight),
                };
                Py::new(py, item)
            })
            .collect::<PyResult<_>>()?;
        Ok(Some(Protection {
            is_protected: detection.is_protected(),
            protector: detection.protector.filter(|_| detection.is_protected()).map(|p| p.name()),
            confidence: rounded(detection.confidence),
            evidence,
        }))
    }
}

#[pymethods]
impl Protection {
    /// The detection as the JSON result writes it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("is_protected", self.is_protected)?;
        dict.set_item("protector", self.protector)?;
        dict.set_item("confidence", self.confidence)?;
        let evidence = self
            .evidence
            .iter()
            .map(|e| {
                let e = e.get();
                let item = PyDict::new(py);
                item.set_item("protector", e.protector)?;
                item.set_item("line", e.line)?;
                item.set_item("signal", &e.signal)?;
                item.set_item("weight", e.weight)?;
                Ok(item)
            })
            .collect::<PyResult<Vec<_>>>()?;
        dict.set_item("evidence", evidence)?;
        Ok(dict)
    }
}

/// Why a file was not compiled: `kind` is `too_large` (then `size` and `limit`), `binary`,
/// `unreadable`, `parse` or `internal`; `message` says it in words.
#[pyclass(frozen, get_all, module = "malwi._malwi")]
struct Failure {
    kind: &'static str,
    message: String,
    size: Option<u64>,
    limit: Option<u64>,
    /// Passed over on purpose (too large, binary) rather than broken.
    skipped: bool,
}

impl Failure {
    fn of(failure: &core::Failure) -> Failure {
        let (size, limit) = match failure {
            core::Failure::TooLarge { size, limit } => (Some(*size), Some(*limit)),
            _ => (None, None),
        };
        Failure { kind: failure.kind(), message: failure.to_string(), size, limit, skipped: failure.is_skip() }
    }
}

#[pymethods]
impl Failure {
    fn __repr__(&self) -> String {
        format!("<Failure {}: {}>", self.kind, self.message)
    }
}

/// What happened to one file of a batch.
#[pyclass(frozen, module = "malwi._malwi")]
struct FileReport {
    /// The path as the file system has it (bytes that are not UTF-8 kept as surrogate escapes).
    #[pyo3(get)]
    path: OsString,
    #[pyo3(get)]
    language: &'static str,
    #[pyo3(get)]
    size: u64,
    /// Why the file was not compiled; None when it was.
    #[pyo3(get)]
    failure: Option<Py<Failure>>,
    #[pyo3(get)]
    warnings: Vec<String>,
    objects: Vec<Py<MalwiObject>>,
    /// Payloads reported but not decoded and decoding limits hit.
    #[pyo3(get)]
    notes: Vec<Py<Note>>,
    /// The protector detection, None when it found nothing.
    #[pyo3(get)]
    protection: Option<Py<Protection>>,
    /// The modules the file imports or requires by a constant name, in order, each once.
    #[pyo3(get)]
    imports: Vec<String>,
    /// Bytes of its string literals per high nibble (`BYTE_BINS` counts).
    #[pyo3(get)]
    literal_bytes: Vec<u64>,
    /// Per window size of `ENTROPY_WINDOWS`, how many windows of its string literals fall in
    /// each entropy bucket of `ENTROPY_BUCKET_BITS` bits per byte.
    #[pyo3(get)]
    literal_windows: Vec<Vec<u32>>,
}

#[pymethods]
impl FileReport {
    #[getter]
    fn objects<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, MalwiObject>> {
        self.objects.iter().map(|o| o.bind(py).clone()).collect()
    }

    /// `compiled`, `skipped` (too large, binary) or `failed`.
    #[getter]
    fn status(&self) -> &'static str {
        match &self.failure {
            None => "compiled",
            Some(failure) if failure.get().skipped => "skipped",
            Some(_) => "failed",
        }
    }

    /// Why a file was skipped or failed; None when compiled.
    #[getter]
    fn reason(&self) -> Option<String> {
        self.failure.as_ref().map(|f| f.get().message.clone())
    }

    fn __repr__(&self) -> String {
        format!("<FileReport {} {} objects={}>", self.path.to_string_lossy(), self.status(), self.objects.len())
    }
}

fn wrap_report(py: Python<'_>, report: core::FileReport) -> PyResult<FileReport> {
    let (objects, failure) = match report.outcome {
        Ok(objects) => (objects, None),
        Err(failure) => (Vec::new(), Some(Py::new(py, Failure::of(&failure))?)),
    };
    let objects = wrap_objects(objects).into_iter().map(|o| Py::new(py, o)).collect::<PyResult<_>>()?;
    let notes = report.notes.iter().map(|n| Py::new(py, Note::of(n))).collect::<PyResult<_>>()?;
    let protection = Protection::of(py, &report.protection)?.map(|p| Py::new(py, p)).transpose()?;
    Ok(FileReport {
        path: report.path.into_os_string(),
        language: report.language.name(),
        size: report.size,
        failure,
        warnings: report.warnings,
        objects,
        notes,
        protection,
        imports: report.imports,
        literal_bytes: report.literals.bytes.to_vec(),
        literal_windows: report.literals.windows.iter().map(|w| w.to_vec()).collect(),
    })
}

/// Files read once for a scan: their SHA-256 digests are known (the result cache is asked by
/// them) before any is compiled; `compile` then compiles the ones asked for from the bytes read.
/// Each file can be compiled once: its bytes are released when it is.
#[pyclass(frozen, module = "malwi._malwi")]
struct FileBatch {
    files: std::sync::Mutex<Vec<Option<core::ReadFile>>>,
    /// Hex SHA-256 of each file's bytes, None for a file that could not be read or was too large.
    #[pyo3(get)]
    digests: Vec<Option<String>>,
    /// Each file's size in bytes (on disk, for a file too large to read).
    #[pyo3(get)]
    sizes: Vec<u64>,
    /// Files larger than this compile in windows; `hard_limit`: what was read at most.
    max_file_size: u64,
    hard_limit: u64,
}

#[pymethods]
impl FileBatch {
    fn __len__(&self) -> usize {
        self.digests.len()
    }

    /// Compiles the files at `indices` (in parallel, GIL released); one report each, in order.
    #[pyo3(signature = (indices, *, workers = 0, config = None))]
    fn compile(
        &self,
        py: Python<'_>,
        indices: Vec<usize>,
        workers: usize,
        config: Option<&Bound<'_, FeaturizerConfig>>,
    ) -> PyResult<Vec<FileReport>> {
        let mut taken = Vec::with_capacity(indices.len());
        {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            for &index in &indices {
                let slot = files
                    .get_mut(index)
                    .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("file {index} out of range")))?;
                taken.push(slot.take().ok_or_else(|| {
                    pyo3::exceptions::PyValueError::new_err(format!("file {index} was compiled already"))
                })?);
            }
        }
        let options = core::CompileOptions {
            workers,
            max_file_size: self.max_file_size,
            hard_limit: self.hard_limit,
            config: config_or_default(config),
        };
        let reports = detached(py, move || core::compile_read(taken, &options))?;
        reports.into_iter().map(|r| wrap_report(py, r)).collect()
    }
}

/// Reads files (up to the hard limit, at least `max_file_size` bytes each) in parallel and
/// hashes them: a `FileBatch`, whose files larger than `max_file_size` compile in windows.
#[pyfunction]
#[pyo3(signature = (files, *, workers = 0, max_file_size = core::DEFAULT_MAX_FILE_SIZE, hard_limit = core::HARD_FILE_LIMIT))]
fn read_files(
    py: Python<'_>,
    files: &Bound<'_, PyAny>,
    workers: usize,
    max_file_size: u64,
    hard_limit: u64,
) -> PyResult<FileBatch> {
    let files = file_list(files)?;
    let limit = hard_limit.max(max_file_size);
    let read = detached(py, move || core::read_files(&files, limit, workers))?;
    let digests = read.iter().map(|f| f.digest.map(hex)).collect();
    let sizes = read.iter().map(|f| f.size).collect();
    Ok(FileBatch {
        files: std::sync::Mutex::new(read.into_iter().map(Some).collect()),
        digests,
        sizes,
        max_file_size,
        hard_limit: limit,
    })
}

fn hex(bytes: [u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files a scan would compile.
#[pyclass(frozen, module = "malwi._malwi")]
struct Discovery {
    /// `[(path, language), ...]` in scan order.
    #[pyo3(get)]
    files: Vec<(OsString, &'static str)>,
    #[pyo3(get)]
    skipped_by_extension: usize,
    #[pyo3(get)]
    skipped_links: usize,
    /// Entries passed over by a `.malwiignore` or exclude pattern (a pruned directory counts once).
    #[pyo3(get)]
    skipped_ignored: usize,
    /// `.malwiignore` files below a scanned root, not honoured (they could hide a dependency).
    #[pyo3(get)]
    ignored_ignore_files: Vec<OsString>,
    /// `[(path, message), ...]` for entries that could not be listed and bad `.malwiignore` lines.
    #[pyo3(get)]
    errors: Vec<(OsString, String)>,
    /// `[(path, kind, disguised), ...]`: files skipped by extension whose content is an archive
    /// (`zip`, `gzip`, `bzip2`, `xz`, `tar`); `disguised` when the name does not say archive.
    #[pyo3(get)]
    archives: Vec<(OsString, &'static str, bool)>,
    /// Files that mark a package's folder or an installed distribution: `setup.py`,
    /// `pyproject.toml`, `setup.cfg`, `package.json`, `*.dist-info/RECORD`,
    /// `*.egg-info/installed-files.txt`.
    #[pyo3(get)]
    manifests: Vec<OsString>,
    /// Compiled Python (`.pyc`/`.pyo`, outside `__pycache__`) with no `.py` beside it: not scannable.
    #[pyo3(get)]
    sourceless: Vec<OsString>,
}

#[pymethods]
impl Discovery {
    fn __repr__(&self) -> String {
        format!(
            "<Discovery files={} skipped_by_extension={} skipped_ignored={}>",
            self.files.len(),
            self.skipped_by_extension,
            self.skipped_ignored
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Featurization: vocabulary ids, windows, batches, stage-1 n-grams

/// Token strings from `MalwiObject`s (shared, not copied) or from plain strings.
enum TokenSource {
    Objects(Vec<Arc<core::MalwiObject>>),
    Strings(Vec<String>),
}

impl TokenSource {
    fn extract(items: &Bound<'_, PyAny>) -> PyResult<TokenSource> {
        let mut objects = Vec::new();
        let mut strings = Vec::new();
        for item in items.try_iter()? {
            let item = item?;
            if let Ok(object) = item.cast::<MalwiObject>() {
                objects.push(object.get().inner.clone());
            } else {
                strings.push(item.extract::<String>()?);
            }
        }
        match (objects.is_empty(), strings.is_empty()) {
            (_, true) => Ok(TokenSource::Objects(objects)),
            (true, false) => Ok(TokenSource::Strings(strings)),
            (false, false) => Err(PyTypeError::new_err("pass MalwiObjects or token strings, not a mix")),
        }
    }

    fn tokens(&self) -> Vec<core::featurize::Tokens<'_>> {
        match self {
            TokenSource::Objects(objects) => objects.iter().map(|o| core::featurize::Tokens::Code(o.code())).collect(),
            TokenSource::Strings(strings) => strings.iter().map(|s| core::featurize::Tokens::Text(s)).collect(),
        }
    }
}

fn le_bytes<'py, T: Copy>(py: Python<'py>, values: &[T], to_bytes: impl Fn(T) -> Vec<u8>) -> Bound<'py, PyBytes> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(values));
    for &value in values {
        out.extend(to_bytes(value));
    }
    PyBytes::new(py, &out)
}

/// The model's closed vocabulary, read from a `tokenizers` `tokenizer.json` (WordLevel).
#[pyclass(frozen, module = "malwi._malwi")]
struct Vocabulary {
    inner: Arc<core::featurize::Vocabulary>,
}

#[pymethods]
impl Vocabulary {
    #[new]
    fn new(tokenizer_json: &str) -> PyResult<Self> {
        let inner = core::featurize::Vocabulary::from_tokenizer_json(tokenizer_json).map_err(to_py_err)?;
        Ok(Vocabulary { inner: Arc::new(inner) })
    }

    /// SHA-256 of the vocabulary (id and token of every entry).
    #[getter]
    fn hash(&self) -> &str {
        self.inner.hash()
    }

    /// One more than the highest id: the rows an embedding table needs (ids may have gaps).
    #[getter]
    fn id_space(&self) -> usize {
        self.inner.id_space()
    }

    #[getter]
    fn pad_id(&self) -> u32 {
        self.inner.pad
    }

    fn id(&self, token: &str) -> u32 {
        self.inner.id(token)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Cuts objects (or token strings) into `[CLS] … [SEP]` windows of ids.
    #[pyo3(signature = (items, *, max_length, stride, max_windows))]
    fn encode(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        max_length: usize,
        stride: usize,
        max_windows: usize,
    ) -> PyResult<Encoding> {
        let source = TokenSource::extract(items)?;
        let spec = core::featurize::WindowSpec { max_length, stride, max_windows };
        spec.validate().map_err(to_py_err)?;
        let vocabulary = self.inner.clone();
        let encoding = detached(py, move || Ok(core::featurize::encode(&source.tokens(), &vocabulary, spec)))?;
        Ok(Encoding { inner: encoding, pad: self.inner.pad })
    }
}

/// Windows of ids, stored flat; arrays come out as little-endian bytes for `numpy.frombuffer`.
#[pyclass(frozen, module = "malwi._malwi")]
struct Encoding {
    inner: core::featurize::Encoding,
    pad: u32,
}

#[pymethods]
impl Encoding {
    #[getter]
    fn window_count(&self) -> usize {
        self.inner.window_count()
    }

    /// Length of each window (`int32`).
    fn lengths<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let lengths: Vec<i32> = self.inner.starts.windows(2).map(|w| (w[1] - w[0]) as i32).collect();
        le_bytes(py, &lengths, |v| v.to_le_bytes().to_vec())
    }

    /// Object index of each window (`int32`).
    fn objects<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        le_bytes(py, &self.inner.objects, |v| (v as i32).to_le_bytes().to_vec())
    }

    /// A padded batch of windows: `(input_ids, attention_mask, rows, columns)`, both `int64`.
    fn pack<'py>(
        &self,
        py: Python<'py>,
        windows: Vec<usize>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, usize, usize)> {
        if let Some(&bad) = windows.iter().find(|&&w| w >= self.inner.window_count()) {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!("window {bad} out of range")));
        }
        let (ids, mask, rows, columns) = self.inner.pack(&windows, self.pad);
        Ok((
            le_bytes(py, &ids, |v| v.to_le_bytes().to_vec()),
            le_bytes(py, &mask, |v| v.to_le_bytes().to_vec()),
            rows,
            columns,
        ))
    }
}

/// Hashed `min_order..=max_order`-gram features of token strings as CSR: `(indices uint32,
/// indptr int64)` (indices may repeat within a row; training counts or binarizes them).
#[pyfunction]
#[pyo3(signature = (items, *, bits, max_order, min_order = 1))]
fn ngram_features<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    bits: u32,
    max_order: usize,
    min_order: usize,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    if bits == 0 || bits > 26 || max_order == 0 || min_order == 0 || min_order > max_order {
        return Err(ConfigError::new_err("bits must be 1..=26 and 1 <= min_order <= max_order"));
    }
    let source = TokenSource::extract(items)?;
    let (indices, indptr) = detached(py, move || {
        let mut indices = Vec::new();
        let mut indptr = vec![0i64];
        for tokens in source.tokens() {
            core::featurize::ngram_features(tokens, bits, min_order, max_order, &mut indices);
            indptr.push(indices.len() as i64);
        }
        Ok((indices, indptr))
    })?;
    Ok((le_bytes(py, &indices, |v| v.to_le_bytes().to_vec()), le_bytes(py, &indptr, |v| v.to_le_bytes().to_vec())))
}

/// The stage-1 model: logistic regression over hashed n-gram presence.
#[pyclass(frozen, module = "malwi._malwi")]
struct LinearModel {
    inner: Arc<core::featurize::LinearModel>,
}

#[pymethods]
impl LinearModel {
    /// `weights`: `2^bits` little-endian `float32` values.
    #[new]
    #[pyo3(signature = (weights, *, bias, bits, max_order))]
    fn new(weights: &[u8], bias: f32, bits: u32, max_order: usize) -> PyResult<Self> {
        if !weights.len().is_multiple_of(4) {
            return Err(ConfigError::new_err("weights must be float32 bytes"));
        }
        let weights = weights.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let inner = core::featurize::LinearModel::new(weights, bias, bits, max_order).map_err(to_py_err)?;
        Ok(LinearModel { inner: Arc::new(inner) })
    }

    /// Probabilities for objects or token strings (`float32` bytes), in parallel.
    #[pyo3(signature = (items, *, workers = 0))]
    fn score<'py>(&self, py: Python<'py>, items: &Bound<'py, PyAny>, workers: usize) -> PyResult<Bound<'py, PyBytes>> {
        let source = TokenSource::extract(items)?;
        let model = self.inner.clone();
        let scores = detached(py, move || core::parallel_map(&source.tokens(), workers, |t| model.score(*t)))?;
        Ok(le_bytes(py, &scores, |v| v.to_le_bytes().to_vec()))
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

/// Source as `str` or `bytes`; lone surrogates in `str` are replaced, never refused.
fn source_bytes(source: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = source.cast::<PyString>() {
        return Ok(text.to_string_lossy().into_owned().into_bytes());
    }
    if let Ok(bytes) = source.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!("source must be str or bytes, not {}", source.get_type().name()?)))
}

/// Compiles one source text into its objects (`<module>` first).
#[pyfunction]
#[pyo3(signature = (source, language, *, file_path = "<string>", config = None))]
fn compile_source(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    language: &str,
    file_path: &str,
    config: Option<&Bound<'_, FeaturizerConfig>>,
) -> PyResult<Vec<MalwiObject>> {
    let bytes = source_bytes(source)?;
    let language = core::Language::from_name(language).map_err(to_py_err)?;
    let config = config_or_default(config);
    let file_path = file_path.to_string();
    let objects = detached(py, move || core::compile_source(&bytes, language, &file_path, &config))?;
    Ok(wrap_objects(objects))
}

/// Lists the files to compile under the given files and directories. Walks honour `.malwiignore`
/// files (unless `ignore_files` is false) and `exclude`, gitignore patterns relative to
/// `exclude_base` (default: the current directory). Named paths are never ignored. Turn
/// `ignore_files` off for untrusted trees: their own `.malwiignore` could hide code. Files
/// skipped by extension of up to `max_archive_size` bytes (0: none) are sniffed for archive
/// magic and listed in `archives`.
#[pyfunction]
#[pyo3(signature = (
    paths, *, extensions = None, exclude = None, exclude_base = None, ignore_files = true,
    max_archive_size = core::DEFAULT_MAX_ARCHIVE_SIZE
))]
fn discover(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    extensions: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    exclude_base: Option<PathBuf>,
    ignore_files: bool,
    max_archive_size: u64,
) -> PyResult<Discovery> {
    let options = core::DiscoverOptions {
        extensions,
        exclude: exclude.unwrap_or_default(),
        exclude_base,
        ignore_files,
        max_archive_size,
    };
    let found = detached(py, move || core::discover_with(&paths, &options))?;
    Ok(Discovery {
        files: found.files.into_iter().map(|(p, l)| (p.into_os_string(), l.name())).collect(),
        skipped_by_extension: found.skipped_by_extension,
        skipped_links: found.skipped_links,
        skipped_ignored: found.skipped_ignored,
        ignored_ignore_files: found.ignored_ignore_files.into_iter().map(PathBuf::into_os_string).collect(),
        errors: found.errors.into_iter().map(|(p, e)| (p.into_os_string(), e)).collect(),
        archives: found.archives.into_iter().map(|(p, k, d)| (p.into_os_string(), k, d)).collect(),
        manifests: found.manifests.into_iter().map(PathBuf::into_os_string).collect(),
        sourceless: found.sourceless.into_iter().map(PathBuf::into_os_string).collect(),
    })
}

/// `(path, language)` pairs from paths (language by extension, then `#!` line) or pairs.
fn file_list(files: &Bound<'_, PyAny>) -> PyResult<Vec<(PathBuf, core::Language)>> {
    let mut out = Vec::new();
    for item in files.try_iter()? {
        let item = item?;
        if let Ok((path, language)) = item.extract::<(PathBuf, String)>() {
            out.push((path, core::Language::from_name(&language).map_err(to_py_err)?));
            continue;
        }
        let path: PathBuf = item.extract()?;
        let language = core::language_of(&path).ok_or_else(|| {
            UnsupportedLanguageError::new_err(format!("{}: not a Python or JavaScript file", path.display()))
        })?;
        out.push((path, language));
    }
    Ok(out)
}

/// Compiles files in parallel with the GIL released; one report per file, in input order.
#[pyfunction]
#[pyo3(signature = (files, *, workers = 0, max_file_size = core::DEFAULT_MAX_FILE_SIZE, hard_limit = core::HARD_FILE_LIMIT, config = None))]
fn compile_files(
    py: Python<'_>,
    files: &Bound<'_, PyAny>,
    workers: usize,
    max_file_size: u64,
    hard_limit: u64,
    config: Option<&Bound<'_, FeaturizerConfig>>,
) -> PyResult<Vec<FileReport>> {
    let files = file_list(files)?;
    let options = core::CompileOptions { workers, max_file_size, hard_limit, config: config_or_default(config) };
    let reports = detached(py, move || core::compile_files(&files, &options))?;
    reports.into_iter().map(|r| wrap_report(py, r)).collect()
}

/// Parses files without compiling them and returns the bytes parsed (the benchmark baseline).
#[pyfunction]
#[pyo3(signature = (files, *, workers = 0))]
fn parse_files(py: Python<'_>, files: &Bound<'_, PyAny>, workers: usize) -> PyResult<u64> {
    let files = file_list(files)?;
    detached(py, move || core::parse_files(&files, workers))
}

/// Renders reports as the `tokens` or `code` dump, as UTF-8 bytes ready for a binary stream:
/// per object a header line (`# path:first-last kind name`), then its tokens or its source.
/// Written in one pass from the typed code (no token string is kept per object): on a large
/// tree it is megabytes, and the scan is measured as a user meets it, output included.
#[pyfunction]
fn render<'py>(py: Python<'py>, reports: Vec<Bound<'py, FileReport>>, format: &str) -> PyResult<Bound<'py, PyBytes>> {
    let source = match format {
        "tokens" => false,
        "code" => true,
        other => return Err(ConfigError::new_err(format!("render format must be tokens or code, not {other:?}"))),
    };
    let objects: Vec<&core::MalwiObject> =
        reports.iter().flat_map(|r| r.get().objects.iter().map(|o| &*o.get().inner)).collect();
    // One pass: token strings are written straight from the typed code, never kept per object.
    let estimate: usize = objects.iter().map(|o| o.source_code().len().min(1 << 20) + 64).sum();
    let mut out: Vec<u8> = Vec::with_capacity(estimate);
    for object in &objects {
        let _ = writeln!(
            out,
            "# {}:{}-{} {} {}",
            object.file_path,
            object.lines.0,
            object.lines.1,
            object.kind.name(),
            object.name
        );
        if source {
            let code = object.source_code();
            out.extend_from_slice(code.as_bytes());
            if !code.ends_with('\n') {
                out.push(b'\n');
            }
        } else {
            let _ = object.code().write_tokens(&mut out);
            out.push(b'\n');
        }
    }
    Ok(PyBytes::new(py, &out))
}

/// The archive format a file's first bytes start with (`zip`, `gzip`, `bzip2`, `xz`, `tar`), by
/// magic number, or None (a tar needs its first 262 bytes).
#[pyfunction]
fn archive_kind(head: &[u8]) -> Option<&'static str> {
    core::archive_kind(head)
}

/// Every token the emitter produces itself: opcodes, categories, string classes, size buckets.
#[pyfunction]
fn reserved_tokens() -> Vec<&'static str> {
    core::reserved_tokens()
}

/// Category names with their descriptions, from the pattern database.
#[pyfunction]
fn categories() -> Vec<(&'static str, &'static str)> {
    core::PatternDatabase::embedded().categories.iter().map(|c| (c.name.as_str(), c.description.as_str())).collect()
}

/// The taint engine's source and sink kinds (`Flow.source`, `Flow.sink`), in its order.
#[pyfunction]
fn flow_kinds() -> (Vec<&'static str>, Vec<&'static str>) {
    (core::SourceKind::ALL.iter().map(|k| k.name()).collect(), core::SinkKind::ALL.iter().map(|k| k.name()).collect())
}

#[pymodule]
fn _malwi(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FEATURIZER_VERSION", core::FEATURIZER_VERSION)?;
    m.add("PATTERN_DATABASE_VERSION", core::PatternDatabase::embedded().version.as_str())?;
    m.add("DEFAULT_MAX_FILE_SIZE", core::DEFAULT_MAX_FILE_SIZE)?;
    m.add("HARD_FILE_LIMIT", core::HARD_FILE_LIMIT)?;
    m.add("CODE_STRING_CHAIN", core::CODE_STRING)?;
    m.add("BYTE_BINS", core::BYTE_BINS)?;
    m.add("ENTROPY_WINDOWS", core::ENTROPY_WINDOWS.to_vec())?;
    m.add("ENTROPY_BUCKET_BITS", core::ENTROPY_BUCKET_BITS)?;
    m.add("ENTROPY_BUCKETS", core::ENTROPY_BUCKETS)?;
    // File names that say "archive" (one list, shared with discovery).
    m.add("ARCHIVE_SUFFIXES", core::ARCHIVE_SUFFIXES.to_vec())?;
    m.add("DEFAULT_MAX_ARCHIVE_SIZE", core::DEFAULT_MAX_ARCHIVE_SIZE)?;
    m.add("DEFAULT_EXTENSIONS", core::Language::DEFAULT_EXTENSIONS.to_vec())?;
    // The registry's DDL ships inside the extension: an installed malwi has no data/ folder.
    m.add("REGISTRY_CONFIG", include_str!("../../../data/models/model_registry_config.toml"))?;
    m.add_class::<FeaturizerConfig>()?;
    m.add_class::<MalwiObject>()?;
    m.add_class::<FileReport>()?;
    m.add_class::<FileBatch>()?;
    m.add_class::<Failure>()?;
    m.add_class::<Flow>()?;
    m.add_class::<Note>()?;
    m.add_class::<Protection>()?;
    m.add_class::<Evidence>()?;
    m.add_class::<Discovery>()?;
    m.add_class::<Vocabulary>()?;
    m.add_class::<Encoding>()?;
    m.add_class::<LinearModel>()?;
    m.add_function(wrap_pyfunction!(ngram_features, m)?)?;
    m.add_function(wrap_pyfunction!(compile_source, m)?)?;
    m.add_function(wrap_pyfunction!(compile_files, m)?)?;
    m.add_function(wrap_pyfunction!(read_files, m)?)?;
    m.add_function(wrap_pyfunction!(archive_kind, m)?)?;
    m.add_function(wrap_pyfunction!(discover, m)?)?;
    m.add_function(wrap_pyfunction!(parse_files, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(reserved_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(categories, m)?)?;
    m.add_function(wrap_pyfunction!(flow_kinds, m)?)?;
    m.add("MalwiError", py.get_type::<MalwiError>())?;
    m.add("UnsupportedLanguageError", py.get_type::<UnsupportedLanguageError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("PathError", py.get_type::<PathError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

//! `malwi._malwi`: the Python face of malwi-core. Thin on purpose: types, errors, and one helper
//! ([`detached`]) through which every heavy call releases the GIL, catches panics and checks for
//! Ctrl-C. No tree-sitter node ever crosses into Python; only owned results do.

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
        Err(panic) => Err(InternalError::new_err(format!("internal error: {}", core::batch::panic_message(&panic)))),
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
            let class = core::strings::StringClass::from_token(&token)
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

    /// Data flows from sources to sinks found in the object, as dicts: `source`, `sink`,
    /// `source_line`, `sink_line`, `source_detail`, `sink_detail` (file or URL, or None).
    #[getter]
    fn flows<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .flows()
            .iter()
            .map(|flow| {
                let dict = PyDict::new(py);
                dict.set_item("source", flow.source.name())?;
                dict.set_item("sink", flow.sink.name())?;
                dict.set_item("source_line", flow.source_line)?;
                dict.set_item("sink_line", flow.sink_line)?;
                dict.set_item("source_detail", flow.source_detail.as_deref())?;
                dict.set_item("sink_detail", flow.sink_detail.as_deref())?;
                Ok(dict)
            })
            .collect()
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
    fn activities(&self) -> Vec<&'static str> {
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

/// What happened to one file of a batch.
#[pyclass(frozen, module = "malwi._malwi")]
struct FileReport {
    #[pyo3(get)]
    path: String,
    #[pyo3(get)]
    language: &'static str,
    #[pyo3(get)]
    size: u64,
    /// `compiled`, `skipped` or `failed`.
    #[pyo3(get)]
    status: &'static str,
    /// Why a file was skipped or failed; `None` when compiled.
    #[pyo3(get)]
    reason: Option<String>,
    #[pyo3(get)]
    warnings: Vec<String>,
    objects: Vec<Py<MalwiObject>>,
    notes: Vec<core::payloads::Note>,
    protection: core::protectors::Detection,
}

#[pymethods]
impl FileReport {
    #[getter]
    fn objects<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, MalwiObject>> {
        self.objects.iter().map(|o| o.bind(py).clone()).collect()
    }

    /// Payloads reported but not decoded and decoding limits hit: dicts with `kind`
    /// (`marshal_code`, `decoding_limit`), `lines` (first, last) and `detail`.
    #[getter]
    fn notes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.notes
            .iter()
            .map(|note| {
                let dict = PyDict::new(py);
                dict.set_item("kind", note_kind(note.kind))?;
                dict.set_item("lines", [note.lines.0, note.lines.1])?;
                dict.set_item("detail", &note.detail)?;
                Ok(dict)
            })
            .collect()
    }

    /// The protector detection: None when nothing was found, else a dict with `is_protected`,
    /// `protector` (None below the threshold), `confidence` and `evidence` (dicts with
    /// `protector`, `line`, `signal`, `weight`).
    #[getter]
    fn protection<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let detection = &self.protection;
        if detection.evidence.is_empty() {
            return Ok(None);
        }
        let round = |x: f32| (f64::from(x) * 10_000.0).round() / 10_000.0;
        let dict = PyDict::new(py);
        dict.set_item("is_protected", detection.is_protected())?;
        dict.set_item("protector", detection.protector.filter(|_| detection.is_protected()).map(|p| p.name()))?;
        dict.set_item("confidence", round(detection.confidence))?;
        let evidence = detection
            .evidence
            .iter()
            .map(|e| {
                let item = PyDict::new(py);
                item.set_item("protector", e.protector.name())?;
                item.set_item("line", e.line)?;
                item.set_item("signal", &e.signal)?;
                item.set_item("weight", round(e.weight))?;
                Ok(item)
            })
            .collect::<PyResult<Vec<_>>>()?;
        dict.set_item("evidence", evidence)?;
        Ok(Some(dict))
    }

    fn __repr__(&self) -> String {
        format!("<FileReport {} {} objects={}>", self.path, self.status, self.objects.len())
    }
}

fn note_kind(kind: core::payloads::NoteKind) -> &'static str {
    match kind {
        core::payloads::NoteKind::MarshalCode => "marshal_code",
        core::payloads::NoteKind::DecodingLimit => "decoding_limit",
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

fn wrap_report(py: Python<'_>, report: core::FileReport) -> PyResult<FileReport> {
    let (status, reason, objects) = match report.outcome {
        core::Outcome::Compiled(objects) => ("compiled", None, objects),
        core::Outcome::Skipped(core::SkipReason::TooLarge { size, limit }) => (
            "skipped",
            Some(format!("larger than the size limit ({} > {})", megabytes(size), megabytes(limit))),
            Vec::new(),
        ),
        core::Outcome::Skipped(core::SkipReason::Binary) => ("skipped", Some("binary file".to_string()), Vec::new()),
        core::Outcome::Failed(message) => ("failed", Some(message), Vec::new()),
    };
    let objects = wrap_objects(objects).into_iter().map(|o| Py::new(py, o)).collect::<PyResult<_>>()?;
    Ok(FileReport {
        path: report.path.to_string_lossy().into_owned(),
        language: report.language.name(),
        size: report.size,
        status,
        reason,
        warnings: report.warnings,
        objects,
        notes: report.notes,
        protection: report.protection,
    })
}

/// The files a scan would compile.
#[pyclass(frozen, module = "malwi._malwi")]
struct Discovery {
    /// `[(path, language), ...]` in scan order.
    #[pyo3(get)]
    files: Vec<(String, &'static str)>,
    #[pyo3(get)]
    skipped_by_extension: usize,
    #[pyo3(get)]
    skipped_links: usize,
    /// Entries passed over by a `.malwiignore` or exclude pattern (a pruned directory counts once).
    #[pyo3(get)]
    skipped_ignored: usize,
    /// `.malwiignore` files below a scanned root, not honoured (they could hide a dependency).
    #[pyo3(get)]
    ignored_ignore_files: Vec<String>,
    /// `[(path, message), ...]` for entries that could not be listed and bad `.malwiignore` lines.
    #[pyo3(get)]
    errors: Vec<(String, String)>,
    /// `[(path, kind, disguised), ...]`: files skipped by extension whose content is an archive
    /// (`zip`, `gzip`, `bzip2`, `xz`, `tar`); `disguised` when the name does not say archive.
    #[pyo3(get)]
    archives: Vec<(String, &'static str, bool)>,
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
        let scores = detached(py, move || core::batch::parallel_map(&source.tokens(), workers, |t| model.score(*t)))?;
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
        files: found.files.iter().map(|(p, l)| (p.to_string_lossy().into_owned(), l.name())).collect(),
        skipped_by_extension: found.skipped_by_extension,
        skipped_links: found.skipped_links,
        skipped_ignored: found.skipped_ignored,
        ignored_ignore_files: found.ignored_ignore_files.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
        errors: found.errors.into_iter().map(|(p, e)| (p.to_string_lossy().into_owned(), e)).collect(),
        archives: found.archives.into_iter().map(|(p, k, d)| (p.to_string_lossy().into_owned(), k, d)).collect(),
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
        let language = core::batch::language_of(&path).ok_or_else(|| {
            UnsupportedLanguageError::new_err(format!("{}: not a Python or JavaScript file", path.display()))
        })?;
        out.push((path, language));
    }
    Ok(out)
}

/// Compiles files in parallel with the GIL released; one report per file, in input order.
#[pyfunction]
#[pyo3(signature = (files, *, workers = 0, max_file_size = core::batch::DEFAULT_MAX_FILE_SIZE, config = None))]
fn compile_files(
    py: Python<'_>,
    files: &Bound<'_, PyAny>,
    workers: usize,
    max_file_size: u64,
    config: Option<&Bound<'_, FeaturizerConfig>>,
) -> PyResult<Vec<FileReport>> {
    let files = file_list(files)?;
    let options = core::ScanOptions { workers, max_file_size, config: config_or_default(config) };
    let reports = detached(py, move || core::compile_files(&files, &options))?;
    reports.into_iter().map(|r| wrap_report(py, r)).collect()
}

/// Parses files without compiling them and returns the bytes parsed (the benchmark baseline).
#[pyfunction]
#[pyo3(signature = (files, *, workers = 0))]
fn parse_files(py: Python<'_>, files: &Bound<'_, PyAny>, workers: usize) -> PyResult<u64> {
    let files = file_list(files)?;
    detached(py, move || core::batch::parse_files(&files, workers))
}

/// Renders reports as the `tokens` or `code` dump, as UTF-8 bytes ready for a binary stream:
/// per object a header line (`# path:first-last kind name`), then its tokens or its source.
/// The output is sized first and written once, straight into the `bytes` object: on a large
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
    let mut headers = Vec::with_capacity(objects.len());
    let mut total = 0;
    for object in &objects {
        let header = format!(
            "# {}:{}-{} {} {}\n",
            object.file_path,
            object.lines.0,
            object.lines.1,
            object.kind.name(),
            object.name
        );
        let body = if source { object.source_code() } else { object.token_string() };
        total += header.len() + body.len() + usize::from(!body.ends_with('\n'));
        headers.push(header);
    }
    PyBytes::new_with(py, total, |buffer| {
        let mut at = 0;
        for (object, header) in objects.iter().zip(&headers) {
            let body = if source { object.source_code() } else { object.token_string() };
            for part in [header.as_bytes(), body.as_bytes()] {
                buffer[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            if !body.ends_with('\n') {
                buffer[at] = b'\n';
                at += 1;
            }
        }
        Ok(())
    })
}

/// Every token the emitter produces itself: opcodes, categories, string classes, size buckets.
#[pyfunction]
fn reserved_tokens() -> Vec<&'static str> {
    core::vocabulary::reserved_tokens()
}

/// Category names with their descriptions, from the pattern database.
#[pyfunction]
fn categories() -> Vec<(&'static str, &'static str)> {
    core::patterns::PatternDatabase::embedded()
        .categories
        .iter()
        .map(|c| (c.name.as_str(), c.description.as_str()))
        .collect()
}

#[pymodule]
fn _malwi(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FEATURIZER_VERSION", core::FEATURIZER_VERSION)?;
    m.add("PATTERN_DATABASE_VERSION", core::patterns::PatternDatabase::embedded().version.as_str())?;
    m.add("DEFAULT_MAX_FILE_SIZE", core::batch::DEFAULT_MAX_FILE_SIZE)?;
    m.add("DEFAULT_MAX_ARCHIVE_SIZE", core::DEFAULT_MAX_ARCHIVE_SIZE)?;
    m.add("DEFAULT_EXTENSIONS", core::Language::DEFAULT_EXTENSIONS.to_vec())?;
    // The registry's DDL ships inside the extension: an installed malwi has no data/ folder.
    m.add("REGISTRY_CONFIG", include_str!("../../../data/models/model_registry_config.toml"))?;
    m.add_class::<FeaturizerConfig>()?;
    m.add_class::<MalwiObject>()?;
    m.add_class::<FileReport>()?;
    m.add_class::<Discovery>()?;
    m.add_class::<Vocabulary>()?;
    m.add_class::<Encoding>()?;
    m.add_class::<LinearModel>()?;
    m.add_function(wrap_pyfunction!(ngram_features, m)?)?;
    m.add_function(wrap_pyfunction!(compile_source, m)?)?;
    m.add_function(wrap_pyfunction!(compile_files, m)?)?;
    m.add_function(wrap_pyfunction!(discover, m)?)?;
    m.add_function(wrap_pyfunction!(parse_files, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(reserved_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(categories, m)?)?;
    m.add("MalwiError", py.get_type::<MalwiError>())?;
    m.add("UnsupportedLanguageError", py.get_type::<UnsupportedLanguageError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("PathError", py.get_type::<PathError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

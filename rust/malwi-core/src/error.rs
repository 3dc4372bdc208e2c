//! The one error type of the core. The Python binding maps each variant to its own exception.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A language name or file extension malwi does not compile.
    UnsupportedLanguage(String),
    /// An invalid featurizer configuration or pattern database.
    Config(String),
    /// A path that cannot be read.
    Io { path: PathBuf, message: String },
    /// tree-sitter produced no tree (it was cancelled or ran out of its time budget).
    Parse(String),
    /// A bug in malwi (a caught panic): reported, never silently turned into a clean result.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedLanguage(what) => {
                write!(f, "unsupported language {what:?} (expected python, javascript, typescript or tsx)")
            }
            Error::Config(message) => f.write_str(message),
            Error::Io { path, message } => write!(f, "{}: {message}", path.display()),
            Error::Parse(message) => write!(f, "parse failed: {message}"),
            Error::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl std::error::Error for Error {}

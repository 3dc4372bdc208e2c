//! The languages malwi compiles and how a file's language is recognised.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::patterns::ApiLanguage;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::Python, Language::JavaScript, Language::TypeScript, Language::Tsx];

    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
        }
    }

    pub fn from_name(name: &str) -> Result<Language, Error> {
        match name.to_ascii_lowercase().as_str() {
            "python" | "py" => Ok(Language::Python),
            "javascript" | "js" | "node" => Ok(Language::JavaScript),
            "typescript" | "ts" => Ok(Language::TypeScript),
            "tsx" => Ok(Language::Tsx),
            _ => Err(Error::UnsupportedLanguage(name.to_string())),
        }
    }

    /// Extensions malwi compiles by default, without the dot. `.pth` files are Python: the
    /// interpreter runs their `import` lines at every start-up (see `source::pth_code`).
    pub const DEFAULT_EXTENSIONS: &'static [&'static str] =
        &["py", "pyw", "pth", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"];

    pub fn from_extension(extension: &str) -> Option<Language> {
        match extension.to_ascii_lowercase().as_str() {
            "py" | "pyw" | "pth" => Some(Language::Python),
            "js" | "mjs" | "cjs" | "jsx" => Some(Language::JavaScript),
            "ts" | "mts" | "cts" => Some(Language::TypeScript),
            "tsx" => Some(Language::Tsx),
            _ => None,
        }
    }

    /// Scripts without an extension (`bin/tool`) are recognised by their `#!` line.
    pub fn from_shebang(head: &[u8]) -> Option<Language> {
        let line = head.strip_prefix(b"#!")?;
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        let line = String::from_utf8_lossy(line);
        if line.contains("python") {
            Some(Language::Python)
        } else if line.contains("node") || line.contains("deno") || line.contains("bun") {
            Some(Language::JavaScript)
        } else {
            None
        }
    }

    pub(crate) fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }

    /// TypeScript shares JavaScript's API tables: it runs on the same runtimes.
    pub fn api_language(self) -> ApiLanguage {
        match self {
            Language::Python => ApiLanguage::Python,
            _ => ApiLanguage::JavaScript,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extensions() {
        for language in Language::ALL {
            assert_eq!(Language::from_name(language.name()).unwrap(), language);
        }
        assert_eq!(Language::from_extension("PY"), Some(Language::Python));
        assert_eq!(Language::from_extension("cjs"), Some(Language::JavaScript));
        assert_eq!(Language::from_extension("rb"), None);
        assert!(Language::from_name("cobol").is_err());
    }

    #[test]
    fn shebangs() {
        assert_eq!(Language::from_shebang(b"#!/usr/bin/env python3\nprint(1)"), Some(Language::Python));
        assert_eq!(Language::from_shebang(b"#!/usr/bin/env node\n"), Some(Language::JavaScript));
        assert_eq!(Language::from_shebang(b"#!/bin/sh\n"), None);
        assert_eq!(Language::from_shebang(b"print(1)"), None);
    }
}

//! Where qualified API names are mapped to behaviour categories.
//!
//! The pattern database (`data/patterns/pattern_database.json`) is compiled into the library and
//! parsed once. Each language has its own table: `eval` is an API in JavaScript and in Python,
//! `exec` only in Python, `child_process.exec` only in JavaScript.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;

use crate::error::Error;

const EMBEDDED_DATABASE: &str = include_str!("../../../data/patterns/pattern_database.json");

/// Namespaces whose members are globals: `builtins.exec` is `exec`, `window.eval` is `eval`.
const PYTHON_NAMESPACES: &[&str] = &["builtins", "__builtins__", "__builtin__"];
const JAVASCRIPT_NAMESPACES: &[&str] = &["globalThis", "global", "window", "self"];

#[derive(Deserialize)]
struct RawDatabase {
    version: String,
    categories: std::collections::BTreeMap<String, RawCategory>,
}

#[derive(Deserialize)]
struct RawCategory {
    description: String,
    patterns: Vec<RawPattern>,
}

#[derive(Deserialize)]
struct RawPattern {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    language: Option<String>,
    confidence: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiLanguage {
    Python,
    JavaScript,
}

pub struct Category {
    pub name: String,
    pub description: String,
}

/// The lookup tables of one language.
#[derive(Default)]
pub struct LanguageApis {
    exact: FxHashMap<String, u16>,
    modules: FxHashMap<String, u16>,
    /// Every dotted prefix of every name: a path outside this set can never reach a category.
    prefixes: FxHashSet<String>,
    namespaces: &'static [&'static str],
}

pub struct PatternDatabase {
    pub version: String,
    pub categories: Vec<Category>,
    python: LanguageApis,
    javascript: LanguageApis,
    pattern_count: [usize; 2],
    category_index: FxHashMap<String, u16>,
}

impl PatternDatabase {
    /// The database compiled into this build, parsed on first use.
    pub fn embedded() -> &'static PatternDatabase {
        static DATABASE: OnceLock<PatternDatabase> = OnceLock::new();
        DATABASE.get_or_init(|| {
            PatternDatabase::from_json(EMBEDDED_DATABASE).expect("the embedded pattern database is valid")
        })
    }

    pub fn from_json(json: &str) -> Result<PatternDatabase, Error> {
        let raw: RawDatabase =
            serde_json::from_str(json).map_err(|e| Error::Config(format!("invalid pattern database: {e}")))?;
        let mut db = PatternDatabase {
            version: raw.version,
            categories: Vec::new(),
            python: LanguageApis { namespaces: PYTHON_NAMESPACES, ..Default::default() },
            javascript: LanguageApis { namespaces: JAVASCRIPT_NAMESPACES, ..Default::default() },
            pattern_count: [0, 0],
            category_index: FxHashMap::default(),
        };
        let mut ids = FxHashSet::default();
        for (name, category) in raw.categories {
            if !is_category_name(&name) {
                return Err(Error::Config(format!("category {name:?} is not an UPPER_SNAKE identifier")));
            }
            let index = db.categories.len() as u16;
            for pattern in category.patterns {
                if !ids.insert(pattern.id.clone()) {
                    return Err(Error::Config(format!("duplicate pattern id {:?}", pattern.id)));
                }
                if !(0.0..=1.0).contains(&pattern.confidence) {
                    return Err(Error::Config(format!("pattern {:?}: confidence outside 0..1", pattern.id)));
                }
                let (apis, slot) = match pattern.language.as_deref() {
                    Some("python") => (&mut db.python, 0),
                    Some("javascript") => (&mut db.javascript, 1),
                    other => {
                        return Err(Error::Config(format!(
                            "pattern {:?}: language must be python or javascript, not {other:?}",
                            pattern.id
                        )))
                    }
                };
                let table = match pattern.kind.as_str() {
                    "api" => &mut apis.exact,
                    "module" => &mut apis.modules,
                    other => return Err(Error::Config(format!("pattern {:?}: unknown type {other:?}", pattern.id))),
                };
                if table.insert(pattern.name.clone(), index).is_some() {
                    return Err(Error::Config(format!("{:?} is listed twice", pattern.name)));
                }
                for (dot, _) in pattern.name.match_indices('.') {
                    apis.prefixes.insert(pattern.name[..dot].to_string());
                }
                apis.prefixes.insert(pattern.name);
                db.pattern_count[slot] += 1;
            }
            db.category_index.insert(name.clone(), index);
            db.categories.push(Category { name, description: category.description });
        }
        for apis in [&mut db.python, &mut db.javascript] {
            for ns in apis.namespaces {
                apis.prefixes.insert((*ns).to_string());
            }
        }
        Ok(db)
    }

    pub fn apis(&self, language: ApiLanguage) -> &LanguageApis {
        match language {
            ApiLanguage::Python => &self.python,
            ApiLanguage::JavaScript => &self.javascript,
        }
    }

    pub fn pattern_count(&self, language: ApiLanguage) -> usize {
        self.pattern_count[language as usize]
    }

    pub fn category_names(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|c| c.name.as_str())
    }

    fn category_name(&self, index: u16) -> &str {
        &self.categories[index as usize].name
    }

    /// The category named by a token, if the token is one.
    pub fn category(&'static self, token: &str) -> Option<&'static str> {
        if !token.as_bytes().first().is_some_and(u8::is_ascii_uppercase) {
            return None;
        }
        self.category_index.get(token).map(|&i| self.category_name(i))
    }
}

fn is_category_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_uppercase()
        && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

impl LanguageApis {
    fn db() -> &'static PatternDatabase {
        PatternDatabase::embedded()
    }

    /// Category of exactly this qualified name (`os.system`, `eval`).
    pub fn exact(&self, qualified: &str) -> Option<&'static str> {
        self.exact.get(qualified).map(|&i| Self::db().category_name(i))
    }

    /// Category of a module pattern naming exactly this module (`axios` called as a function).
    pub fn module_itself(&self, qualified: &str) -> Option<&'static str> {
        self.modules.get(qualified).map(|&i| Self::db().category_name(i))
    }

    /// Category of the longest module pattern that strictly contains this name (`socket.AF_INET`).
    pub fn enclosing_module(&self, qualified: &str) -> Option<&'static str> {
        let mut end = qualified.len();
        while let Some(dot) = qualified[..end].rfind('.') {
            if let Some(&i) = self.modules.get(&qualified[..dot]) {
                return Some(Self::db().category_name(i));
            }
            end = dot;
        }
        None
    }

    /// Whether resolving further along this path can still reach a category.
    pub fn is_known_path(&self, qualified: &str) -> bool {
        self.prefixes.contains(qualified)
            || self.modules.contains_key(qualified)
            || self.enclosing_module(qualified).is_some()
    }

    /// `builtins` / `window`-style namespaces whose members are plain globals.
    pub fn is_global_namespace(&self, name: &str) -> bool {
        self.namespaces.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_database_is_large_enough() {
        let db = PatternDatabase::embedded();
        assert!(db.pattern_count(ApiLanguage::Python) >= 450, "{}", db.pattern_count(ApiLanguage::Python));
        assert!(db.pattern_count(ApiLanguage::JavaScript) >= 150);
        for required in [
            "PROCESS_MANAGEMENT",
            "DYNAMIC_CODE_EXECUTION",
            "NETWORK_HTTP_REQUEST",
            "ENCODING_DECODING",
            "FILESYSTEM_DELETION",
            "ENVIRONMENT_VARIABLE_ACCESS",
            "SYSINFO_HOST",
            "PERSISTENCE",
            "CREDENTIAL_ACCESS",
            "BROWSER_DATA_ACCESS",
            "CRYPTO_WALLET",
            "CLIPBOARD_ACCESS",
            "KEYLOGGING",
        ] {
            assert!(db.category_names().any(|c| c == required), "{required} missing");
        }
    }

    #[test]
    fn tables_are_per_language() {
        let db = PatternDatabase::embedded();
        let py = db.apis(ApiLanguage::Python);
        let js = db.apis(ApiLanguage::JavaScript);
        assert_eq!(py.exact("os.system"), Some("PROCESS_MANAGEMENT"));
        assert_eq!(py.exact("exec"), Some("DYNAMIC_CODE_EXECUTION"));
        assert_eq!(js.exact("exec"), None);
        assert_eq!(js.exact("child_process.exec"), Some("PROCESS_MANAGEMENT"));
        assert_eq!(py.exact("child_process.exec"), None);
        assert_eq!(js.exact("eval"), Some("DYNAMIC_CODE_EXECUTION"));
    }

    #[test]
    fn module_patterns() {
        let db = PatternDatabase::embedded();
        let py = db.apis(ApiLanguage::Python);
        assert_eq!(py.enclosing_module("socket.AF_INET"), Some("NETWORK_SOCKET"));
        assert_eq!(py.enclosing_module("socket"), None);
        assert!(py.is_known_path("os"));
        assert!(py.is_known_path("ctypes.windll.kernel32"));
        assert!(py.is_known_path("requests.adapters.HTTPAdapter"));
        assert!(!py.is_known_path("mypackage.helpers"));
        let js = db.apis(ApiLanguage::JavaScript);
        assert_eq!(js.module_itself("axios"), Some("NETWORK_HTTP_REQUEST"));
        assert!(js.is_global_namespace("globalThis"));
    }

    #[test]
    fn bad_databases_are_refused() {
        let dup = r#"{"version":"1.0.0","categories":{"A":{"description":"d","patterns":[
            {"id":"x","name":"os.system","type":"api","language":"python","confidence":0.5},
            {"id":"x","name":"os.popen","type":"api","language":"python","confidence":0.5}]}}}"#;
        assert!(PatternDatabase::from_json(dup).is_err());
        let no_language = r#"{"version":"1.0.0","categories":{"A":{"description":"d","patterns":[
            {"id":"x","name":"os.system","type":"api","confidence":0.5}]}}}"#;
        assert!(PatternDatabase::from_json(no_language).is_err());
        let lower = r#"{"version":"1.0.0","categories":{"a":{"description":"d","patterns":[]}}}"#;
        assert!(PatternDatabase::from_json(lower).is_err());
    }
}

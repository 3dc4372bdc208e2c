//! The featurizer configuration: every switch that changes the emitted malwicode.
//!
//! A model is only valid for the exact token format it was trained on, so the configuration is
//! versioned and fingerprinted: [`FeaturizerConfig::featurizer_id`] changes whenever the version or
//! any switch changes, and a model records the id it was trained with.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::malwicode::StringClass;

/// Version of the emission algorithm. Bump it whenever emitted tokens change for the same input
/// and the same switches (new opcode, different lowering, new pattern-database categories...).
pub const FEATURIZER_VERSION: u32 = 1;

/// Whether methods (or lambdas) become objects of their own or stay inside their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A separate object; the parent only shows `MAKE_FUNCTION name`.
    Separate,
    /// Emitted inside the parent object, right after the definition.
    Inline,
}

impl Granularity {
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Separate => "separate",
            Granularity::Inline => "inline",
        }
    }

    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name {
            "separate" => Ok(Granularity::Separate),
            "inline" => Ok(Granularity::Inline),
            other => Err(Error::Config(format!("granularity must be 'separate' or 'inline', not {other:?}"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeaturizerConfig {
    /// Must equal [`FEATURIZER_VERSION`]; a config written for another emitter is refused.
    pub version: u32,
    /// Methods of classes: own objects (`Class.method`) or inside the class object.
    pub methods: Granularity,
    /// Lambdas, arrow functions and function expressions: own objects or inside their parent.
    pub lambdas: Granularity,
    /// String classes that are switched off; a switched-off class falls through to the next one.
    pub disabled_string_classes: Vec<StringClass>,
    /// Emit `STRING_SIZE_S|M|L` after long-string classes.
    pub size_buckets: bool,
    /// Strings up to this many characters stay verbatim (unless a semantic class matches).
    pub short_string_max: usize,
    /// Nesting depth beyond which a subtree is emitted flat (leaves only) after `DEEP_NESTING`.
    pub max_nesting: u32,
    /// Start each object with a `FLOW_<SOURCE>_TO_<SINK>` token per data flow found in it
    /// (see [`crate::taint`]). Left out of the JSON when off, so older ids stay valid.
    #[serde(skip_serializing_if = "is_false")]
    pub flow_tokens: bool,
    /// Start a file's `<module>` object with a `PROTECTOR_<NAME>` token when an obfuscator or
    /// protector is recognised (see [`crate::protectors`]).
    #[serde(skip_serializing_if = "is_false")]
    pub protector_tokens: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Default for FeaturizerConfig {
    fn default() -> Self {
        FeaturizerConfig {
            version: FEATURIZER_VERSION,
            methods: Granularity::Separate,
            lambdas: Granularity::Separate,
            disabled_string_classes: Vec::new(),
            size_buckets: true,
            short_string_max: 20,
            max_nesting: 400,
            flow_tokens: false,
            protector_tokens: false,
        }
    }
}

impl FeaturizerConfig {
    /// Parses and validates a JSON configuration.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let config: FeaturizerConfig =
            serde_json::from_str(json).map_err(|e| Error::Config(format!("invalid featurizer config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), Error> {
        if self.version != FEATURIZER_VERSION {
            return Err(Error::Config(format!(
                "featurizer config version {} does not match this malwi's featurizer version {}",
                self.version, FEATURIZER_VERSION
            )));
        }
        if self.disabled_string_classes.contains(&StringClass::Plain) {
            return Err(Error::Config("STRING is the fallback class and cannot be switched off".into()));
        }
        if self.max_nesting == 0 {
            return Err(Error::Config("max_nesting must be at least 1".into()));
        }
        Ok(())
    }

    /// Canonical JSON: fields in declaration order, disabled classes sorted and deduplicated.
    pub fn to_json(&self) -> String {
        let mut canonical = self.clone();
        canonical.disabled_string_classes.sort();
        canonical.disabled_string_classes.dedup();
        serde_json::to_string(&canonical).expect("config serializes")
    }

    /// `v<version>-<12 hex digits of the canonical JSON's SHA-256>`: what a model records.
    pub fn featurizer_id(&self) -> String {
        let digest = Sha256::digest(self.to_json().as_bytes());
        format!("v{}-{}", self.version, &hex::encode(digest)[..12])
    }

    pub fn class_enabled(&self, class: StringClass) -> bool {
        !self.disabled_string_classes.contains(&class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_through_json() {
        let config = FeaturizerConfig::default();
        let back = FeaturizerConfig::from_json(&config.to_json()).unwrap();
        assert_eq!(config, back);
    }

    #[test]
    fn id_changes_with_any_switch() {
        let base = FeaturizerConfig::default();
        let mut inline = base.clone();
        inline.methods = Granularity::Inline;
        let mut no_email = base.clone();
        no_email.disabled_string_classes.push(StringClass::Email);
        let ids = [base.featurizer_id(), inline.featurizer_id(), no_email.featurizer_id()];
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        let flows = FeaturizerConfig { flow_tokens: true, ..base.clone() };
        let protectors = FeaturizerConfig { protector_tokens: true, ..base.clone() };
        assert_ne!(flows.featurizer_id(), ids[0]);
        assert_ne!(protectors.featurizer_id(), flows.featurizer_id());
        assert!(ids[0].starts_with(&format!("v{FEATURIZER_VERSION}-")));
    }

    #[test]
    fn switches_that_are_off_keep_the_ids_of_older_configs() {
        let json = FeaturizerConfig::default().to_json();
        assert!(!json.contains("flow_tokens") && !json.contains("protector_tokens"), "{json}");
    }

    #[test]
    fn id_ignores_order_of_disabled_classes() {
        let a = FeaturizerConfig {
            disabled_string_classes: vec![StringClass::Email, StringClass::Ip],
            ..Default::default()
        };
        let b = FeaturizerConfig {
            disabled_string_classes: vec![StringClass::Ip, StringClass::Email, StringClass::Ip],
            ..Default::default()
        };
        assert_eq!(a.featurizer_id(), b.featurizer_id());
    }

    #[test]
    fn wrong_version_and_unknown_fields_are_refused() {
        assert!(FeaturizerConfig::from_json(r#"{"version": 999}"#).is_err());
        assert!(FeaturizerConfig::from_json(r#"{"colour": "blue"}"#).is_err());
        assert!(FeaturizerConfig::from_json(r#"{"disabled_string_classes": ["STRING"]}"#).is_err());
        let partial = FeaturizerConfig::from_json(r#"{"methods": "inline"}"#).unwrap();
        assert_eq!(partial.methods, Granularity::Inline);
        assert_eq!(partial.short_string_max, 20);
    }
}

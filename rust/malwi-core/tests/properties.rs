//! proptest properties of the compiler and the string classifier.

use malwi_core::malwicode::write_verbatim;
use malwi_core::{classify, StringToken};
use malwi_core::{compile_source, FeaturizerConfig, Language};
use proptest::prelude::*;

fn language() -> impl Strategy<Value = Language> {
    prop::sample::select(Language::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_compile_to_well_formed_objects(source in prop::collection::vec(any::<u8>(), 0..600), language in language()) {
        let objects = compile_source(&source, language, "p", &FeaturizerConfig::default()).unwrap();
        prop_assert_eq!(&objects[0].name, "<module>");
        for object in &objects {
            prop_assert!(object.tokens().all(|t| !t.is_empty() && !t.contains(char::is_whitespace)));
            prop_assert!(object.lines.0 >= 1 && object.lines.0 <= object.lines.1);
        }
    }

    #[test]
    fn compilation_is_deterministic(source in ".{0,300}", language in language()) {
        let config = FeaturizerConfig::default();
        let a = compile_source(source.as_bytes(), language, "p", &config).unwrap();
        let b = compile_source(source.as_bytes(), language, "p", &config).unwrap();
        let tokens = |objects: &[malwi_core::MalwiObject]| objects.iter().map(|o| o.token_string().to_string()).collect::<Vec<_>>();
        prop_assert_eq!(tokens(&a), tokens(&b));
    }

    #[test]
    fn short_unclassified_strings_round_trip_through_verbatim(value in "\\PC{0,20}") {
        let config = FeaturizerConfig::default();
        if classify(&value, &config) == StringToken::Verbatim {
            let mut token = String::new();
            write_verbatim(&mut token, &value);
            prop_assert!(token.starts_with('\'') && token.ends_with('\''));
            prop_assert!(!token.contains(char::is_whitespace));
        }
    }

    #[test]
    fn long_strings_always_get_a_class_and_a_bucket(value in "\\PC{21,300}") {
        match classify(&value, &FeaturizerConfig::default()) {
            StringToken::Class(_, _) => {}
            StringToken::Verbatim => prop_assert!(false, "a long string stayed verbatim"),
        }
    }

    #[test]
    fn ip_addresses_are_ips_or_local(a in 0u8..=255, b in 0u8..=255, c in 0u8..=255, d in 0u8..=255) {
        let token = classify(&format!("{a}.{b}.{c}.{d}"), &FeaturizerConfig::default());
        let class = match token { StringToken::Class(class, _) => class.token(), StringToken::Verbatim => "verbatim" };
        prop_assert!(class == "STRING_IP" || class == "STRING_LOCALHOST", "{}", class);
    }
}

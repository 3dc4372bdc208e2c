//! Every token the emitter itself produces, defined once: opcodes, categories, string classes.
//! The model's vocabulary must contain all of them; user text can never produce one.

use crate::malwicode::Op;
use crate::malwicode::{SizeBucket, StringClass};
use crate::patterns::PatternDatabase;

pub fn reserved_tokens() -> Vec<&'static str> {
    let mut tokens: Vec<&'static str> = Op::ALL.iter().map(|op| op.name()).collect();
    tokens.extend(PatternDatabase::embedded().category_names());
    tokens.extend(StringClass::ALL.iter().map(|c| c.token()));
    tokens.extend(SizeBucket::TOKENS);
    tokens.extend(crate::taint::flow_tokens());
    tokens.extend(crate::protectors::tokens());
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_tokens_are_unique() {
        let tokens = reserved_tokens();
        let unique: std::collections::HashSet<_> = tokens.iter().collect();
        assert_eq!(unique.len(), tokens.len(), "an opcode, category or class name is used twice");
    }
}

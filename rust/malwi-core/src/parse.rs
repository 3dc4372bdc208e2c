//! tree-sitter parsing with one parser per language per thread (parsers are reused, not rebuilt).

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

use crate::error::Error;
use crate::language::Language;

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 4]> = const { RefCell::new([None, None, None, None]) };
}

fn slot(language: Language) -> usize {
    match language {
        Language::Python => 0,
        Language::JavaScript => 1,
        Language::TypeScript => 2,
        Language::Tsx => 3,
    }
}

pub fn parse(text: &str, language: Language) -> Result<Tree, Error> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = &mut parsers[slot(language)];
        if parser.is_none() {
            let mut fresh = Parser::new();
            fresh
                .set_language(&language.grammar())
                .map_err(|e| Error::Parse(format!("grammar of {} cannot load: {e}", language.name())))?;
            *parser = Some(fresh);
        }
        let parser = parser.as_mut().expect("parser was just created");
        parser
            .parse(text.as_bytes(), None)
            .ok_or_else(|| Error::Parse(format!("tree-sitter returned no tree for {} input", language.name())))
    })
}

/// Parse only, for measuring the parser's own throughput beside full compilation.
pub fn parse_only(text: &str, language: Language) -> Result<usize, Error> {
    let tree = parse(text, language)?;
    Ok(tree.root_node().end_byte())
}

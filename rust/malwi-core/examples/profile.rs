//! `cargo run --profile profiling --example profile -- DIR [rounds]`: parses every `.py` file
//! under DIR once, then times emission alone (the part of compilation that is malwi's own) and
//! parsing alone, on one thread. For perf/callgrind sessions on the emitter.

use std::time::Instant;

use malwi_core::{discover, emit_tree, FeaturizerConfig, Language, SourceText};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("a directory");
    let rounds: usize = args.next().map_or(3, |r| r.parse().expect("a number"));
    let found = discover(&[dir.into()], Some(&["py".to_string()])).expect("discovery");
    let sources: Vec<SourceText> =
        found.files.iter().map(|(p, _)| SourceText::decode(std::fs::read(p).expect("readable"))).collect();
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    let config = FeaturizerConfig::default();
    if std::env::var_os("WALK_ONLY").is_some() {
        let trees: Vec<_> = sources.iter().map(|s| malwi_core::parse(&s.text, Language::Python).unwrap()).collect();
        let mut visited = 0usize;
        for tree in &trees {
            visited +=
                if std::env::var_os("BY_INDEX").is_some() { walk_index(tree.root_node()) } else { walk_once(tree) };
        }
        println!("visited {visited}");
        return;
    }
    if std::env::var_os("EMIT_ONLY").is_some() {
        let trees: Vec<_> = sources.iter().map(|s| malwi_core::parse(&s.text, Language::Python).unwrap()).collect();
        for _ in 0..rounds {
            for (tree, source) in trees.iter().zip(&sources) {
                emit_tree(tree, source, Language::Python, "x.py", &config);
            }
        }
        return;
    }
    for _ in 0..rounds {
        let start = Instant::now();
        let trees: Vec<_> = sources.iter().map(|s| malwi_core::parse(&s.text, Language::Python).unwrap()).collect();
        let parse = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut objects = 0;
        for (tree, source) in trees.iter().zip(&sources) {
            objects += emit_tree(tree, source, Language::Python, "x.py", &config).len();
        }
        let emit = start.elapsed().as_secs_f64();
        println!(
            "{} files {bytes} bytes {objects} objects: parse {parse:.3}s emit {emit:.3}s (emit/parse {:.1}%)",
            sources.len(),
            100.0 * emit / parse
        );
    }
}

/// One pre-order walk over every node with a single cursor: the floor for any tree consumer.
#[inline(never)]
fn walk_once(tree: &tree_sitter::Tree) -> usize {
    let mut cursor = tree.walk();
    let mut visited = 0;
    'visit: loop {
        visited += cursor.node().kind_id() as usize & 1;
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'visit;
            }
            if !cursor.goto_parent() {
                break 'visit;
            }
        }
    }
    visited
}

/// The same walk through `child(i)`: O(i) per call, but cheap per step for small nodes.
#[inline(never)]
fn walk_index(root: tree_sitter::Node<'_>) -> usize {
    let mut visited = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        visited += node.kind_id() as usize & 1;
        let count = node.child_count();
        if count > 16 {
            let start = stack.len();
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
            stack[start..].reverse();
            continue;
        }
        for i in (0..count).rev() {
            if let Some(child) = node.child(i) {
                stack.push(child);
            }
        }
    }
    visited
}

//! Constant folding of string expressions, for payload decoding.
//!
//! Obfuscators build their payload instead of writing it: `''.join(chr(c) for c in [105, ...])`,
//! `"aW1w" + "b3J0"`, `s[::-1]`, `bytes.fromhex("...")`, `String.fromCharCode(105, ...)`,
//! `"...".split("").reverse().join("")`, `unescape("%69%6d...")`, `'%s%s' % ('aW1w', 'b3J0')`,
//! `'{}{}'.format(...)`, `` `${'aW1w'}${'b3J0'}` ``, `Buffer.from([105, ...])`. [`python`] and [`javascript`]
//! compute the value of such an expression from its syntax tree when every leaf is a literal;
//! anything else (a name, a call of something unknown) gives `None` at once. Bounded in nodes
//! visited and in the size of what is built, so a hostile expression cannot make it slow.

use tree_sitter::Node;

use crate::language::Language;

use crate::literals::{decode_javascript, decode_python, python_literal};
use crate::payloads::MAX_OUTPUT;

/// Nodes one folding may visit.
const MAX_NODES: usize = 50_000;
const MAX_DEPTH: usize = 200;
/// Nodes all foldings of one file may visit together: a file of 10,000 expressions each just
/// under `MAX_NODES` must not take minutes. Past it the file's remaining expressions are not
/// folded, and a decoding-limit note says so.
pub(crate) const MAX_FILE_NODES: usize = 2_000_000;

/// What names hold, for folding `getattr(os, a + 'tem')` after `a = 'sys'`: the emitter's
/// constant bindings.
pub(crate) type Constants<'c> = &'c dyn Fn(&str) -> Option<String>;

/// A folded value: text, or a list of items (a list literal, the argument of `join`).
#[derive(Clone, Debug)]
enum Folded {
    Str(String),
    Int(i64),
    List(Vec<Folded>),
}

struct Folder<'s, 'c> {
    src: &'s str,
    visited: usize,
    /// Nodes this folding may still visit (the lesser of MAX_NODES and the file's budget).
    limit: usize,
    constants: Option<Constants<'c>>,
    /// An operation only obfuscation needs was folded (character codes, hex, reversal,
    /// percent-decoding); plain concatenation of literals is not one.
    obfuscated: bool,
    /// The loop variable of a comprehension being folded, with its current value.
    variable: Option<(&'s str, i64)>,
}

/// The string a Python expression evaluates to, when it is built from literals only, and
/// whether obfuscation built it (see `Folder::obfuscated`).
#[cfg(test)]
pub(crate) fn python(node: Node<'_>, src: &str) -> Option<(String, bool)> {
    evaluate(node, src, Language::Python, None, &mut MAX_NODES.clone())
}

/// The same for a JavaScript expression.
#[cfg(test)]
pub(crate) fn javascript(node: Node<'_>, src: &str) -> Option<(String, bool)> {
    evaluate(node, src, Language::JavaScript, None, &mut MAX_NODES.clone())
}

/// The string an expression of `language` evaluates to (see [`python`]), with names resolved
/// through `constants` and the nodes visited taken from `budget`.
pub(crate) fn evaluate(
    node: Node<'_>,
    src: &str,
    language: Language,
    constants: Option<Constants<'_>>,
    budget: &mut usize,
) -> Option<(String, bool)> {
    let mut folder =
        Folder { src, visited: 0, limit: MAX_NODES.min(*budget), constants, obfuscated: false, variable: None };
    let folded = if language == Language::Python { folder.py(node, 0) } else { folder.js(node, 0) };
    *budget = budget.saturating_sub(folder.visited);
    match folded? {
        Folded::Str(text) => Some((text, folder.obfuscated)),
        _ => None,
    }
}

/// The functions and methods that folding evaluates.
const PYTHON_CALLS: [&str; 13] = [
    "chr",
    "str",
    "bytes",
    "bytearray",
    "reversed",
    "map",
    "fromhex",
    "join",
    "decode",
    "encode",
    "strip",
    "replace",
    "format",
];
const JAVASCRIPT_CALLS: [&str; 11] = [
    "unescape",
    "decodeURIComponent",
    "decodeURI",
    "String",
    "fromCharCode",
    "split",
    "reverse",
    "join",
    "concat",
    "toString",
    "from",
];

/// Whether a node may fold, judged from its kind, its first child and the start of its text:
/// the emitter asks for every call, operator and subscript, and most (`f(x)`, `a + 1`, `x[0]`)
/// are decided here at the cost of one child lookup.
pub(crate) fn worth_folding(node: Node<'_>, src: &str, language: Language) -> bool {
    let python = language == Language::Python;
    let text = src.get(node.byte_range()).unwrap_or("");
    match (node.kind(), python) {
        ("call", true) | ("call_expression", false) => {
            // The callee is the first child: its last name decides.
            let Some(callee) = node.child(0).and_then(|c| src.get(c.byte_range())) else { return false };
            let name = callee.rsplit('.').next().unwrap_or("").trim();
            if python {
                PYTHON_CALLS.contains(&name)
            } else {
                JAVASCRIPT_CALLS.contains(&name)
            }
        }
        // The leftmost operand must be a literal (or `chr(`/`String.fromCharCode(`) for the
        // expression to fold at all.
        // A template literal with substitutions (constants, perhaps).
        ("template_string", false) => text.contains("${"),
        ("binary_operator" | "subscript", true) | ("binary_expression", false) => {
            let start = text.trim_start_matches('(');
            let unprefixed = start.trim_start_matches(['b', 'B', 'r', 'R', 'u', 'U']);
            unprefixed.starts_with(['\'', '"', '`'])
                || start.starts_with("chr(")
                || start.starts_with("String.fromCharCode(")
        }
        _ => false,
    }
}

fn chr(code: i64) -> Option<char> {
    char::from_u32(u32::try_from(code).ok()?)
}

fn checked(text: String) -> Option<Folded> {
    (text.len() <= MAX_OUTPUT).then_some(Folded::Str(text))
}

fn join(items: &[Folded], separator: &str) -> Option<Folded> {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        match item {
            Folded::Str(text) => out.push_str(text),
            _ => return None,
        }
        if out.len() > MAX_OUTPUT {
            return None;
        }
    }
    Some(Folded::Str(out))
}

fn int_op(operator: &str, a: i64, b: i64) -> Option<i64> {
    match operator {
        "+" => a.checked_add(b),
        "-" => a.checked_sub(b),
        "*" => a.checked_mul(b),
        "//" | "/" if b != 0 => Some(a.div_euclid(b)),
        "%" if b != 0 => Some(a.rem_euclid(b)),
        "^" => Some(a ^ b),
        "&" => Some(a & b),
        "|" => Some(a | b),
        "<<" if (0..63).contains(&b) => a.checked_shl(b as u32),
        ">>" if (0..63).contains(&b) => Some(a >> b),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let clean = text.replace('_', "").to_ascii_lowercase();
    if let Some(hex) = clean.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(octal) = clean.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok();
    }
    if let Some(binary) = clean.strip_prefix("0b") {
        return i64::from_str_radix(binary, 2).ok();
    }
    clean.parse().ok()
}

/// `%69%6d` → `im` (JavaScript's `unescape`/`decodeURIComponent`, also `%u0069`).
fn percent_decode(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut bytes = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        if let Some(hex) =
            tail.strip_prefix('u').and_then(|t| t.get(..4)).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
            rest = &tail[5..];
            continue;
        }
        // A run of %XX bytes is one UTF-8 sequence.
        bytes.clear();
        let mut run = &rest[at..];
        while let Some(hex) =
            run.strip_prefix('%').and_then(|t| t.get(..2)).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            run = &run[3..];
        }
        if bytes.is_empty() {
            out.push('%');
            rest = tail;
        } else {
            out.push_str(&String::from_utf8_lossy(&bytes));
            rest = run;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// A value as `str()` or a template literal would write it.
fn to_text(value: &Folded) -> Option<String> {
    match value {
        Folded::Str(text) => Some(text.clone()),
        Folded::Int(n) => Some(n.to_string()),
        Folded::List(_) => None,
    }
}

/// Python's `format % args` for `%s`, `%d`, `%i`, `%x`, `%c`, `%r` and `%%`, without flags or
/// widths; the arguments must be used up exactly. The bool: `%c` made characters from codes.
fn percent_format(format: &str, args: &[Folded]) -> Option<(String, bool)> {
    let mut out = String::with_capacity(format.len());
    let mut args = args.iter();
    let mut chars = format.chars();
    let mut codes = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' => out.push_str(&to_text(args.next()?)?),
            'd' | 'i' => match args.next()? {
                Folded::Int(n) => out.push_str(&n.to_string()),
                _ => return None,
            },
            'x' => match args.next()? {
                Folded::Int(n) if *n >= 0 => out.push_str(&format!("{n:x}")),
                _ => return None,
            },
            'c' => match args.next()? {
                Folded::Int(code) => {
                    codes = true;
                    out.push(chr(*code)?);
                }
                Folded::Str(text) if text.chars().count() == 1 => out.push_str(text),
                _ => return None,
            },
            'r' => match args.next()? {
                Folded::Str(text) if !text.contains(['\'', '\\']) && !text.chars().any(char::is_control) => {
                    out.push('\'');
                    out.push_str(text);
                    out.push('\'');
                }
                Folded::Int(n) => out.push_str(&n.to_string()),
                _ => return None,
            },
            _ => return None,
        }
        if out.len() > MAX_OUTPUT {
            return None;
        }
    }
    args.next().is_none().then_some((out, codes))
}

/// Python's `template.format(*positional, **named)` for `{}`, `{0}`, `{name}` (with `!s`, no
/// format spec), `{{` and `}}`.
fn brace_format(template: &str, positional: &[Folded], named: &[(&str, Folded)]) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut next = 0;
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            out.push(tail.as_bytes()[0] as char);
            rest = after;
            continue;
        }
        let close = tail.strip_prefix('{')?.find('}')? + 1;
        let field = &tail[1..close];
        let field = field.strip_suffix("!s").unwrap_or(field);
        let value = if field.is_empty() {
            next += 1;
            positional.get(next - 1)?
        } else if let Ok(index) = field.parse::<usize>() {
            positional.get(index)?
        } else {
            &named.iter().find(|(name, _)| *name == field)?.1
        };
        out.push_str(&to_text(value)?);
        if out.len() > MAX_OUTPUT {
            return None;
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

impl<'s> Folder<'s, '_> {
    fn enter(&mut self, depth: usize) -> Option<()> {
        self.visited += 1;
        (self.visited <= self.limit && depth <= MAX_DEPTH).then_some(())
    }

    /// A name's constant value, from the emitter's bindings.
    fn constant(&self, name: &str) -> Option<Folded> {
        self.constants.and_then(|lookup| lookup(name)).map(Folded::Str)
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn named(node: Node<'_>) -> Vec<Node<'_>> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor).filter(|n| !n.is_extra()).collect()
    }

    // --- Python --------------------------------------------------------------------------------

    fn py(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        self.enter(depth)?;
        match node.kind() {
            "string" => match python_literal(self.text(node)) {
                Some(text) => Some(Folded::Str(text.into_owned())),
                None => self.py_fstring(node, depth),
            },
            "concatenated_string" => {
                let parts = Self::named(node).into_iter().map(|n| self.py(n, depth + 1)).collect::<Option<Vec<_>>>()?;
                join(&parts, "")
            }
            "integer" => Some(Folded::Int(parse_int(self.text(node))?)),
            "identifier" => match self.variable {
                Some((name, value)) if name == self.text(node) => Some(Folded::Int(value)),
                _ => self.constant(self.text(node)),
            },
            "parenthesized_expression" => self.py(*Self::named(node).first()?, depth + 1),
            "unary_operator" => match self.py(node.child_by_field_name("argument")?, depth + 1)? {
                Folded::Int(value) if self.text(node).starts_with('-') => Some(Folded::Int(value.checked_neg()?)),
                Folded::Int(value) if self.text(node).starts_with('~') => Some(Folded::Int(!value)),
                _ => None,
            },
            "list" | "tuple" | "set" => Some(Folded::List(
                Self::named(node).into_iter().map(|n| self.py(n, depth + 1)).collect::<Option<Vec<_>>>()?,
            )),
            "binary_operator" => {
                let operator = self.text(node.child_by_field_name("operator")?);
                let left = self.py(node.child_by_field_name("left")?, depth + 1)?;
                let right = self.py(node.child_by_field_name("right")?, depth + 1)?;
                match (left, right) {
                    (Folded::Str(a), Folded::Str(b)) if operator == "+" => checked(a + &b),
                    (Folded::Str(format), args) if operator == "%" => {
                        let args = match args {
                            Folded::List(items) => items,
                            single => vec![single],
                        };
                        let (text, codes) = percent_format(&format, &args)?;
                        self.obfuscated |= codes;
                        Some(Folded::Str(text))
                    }
                    (Folded::Str(a), Folded::Int(n)) | (Folded::Int(n), Folded::Str(a)) if operator == "*" => {
                        let count = usize::try_from(n).ok()?;
                        (a.len().checked_mul(count)? <= MAX_OUTPUT).then(|| Folded::Str(a.repeat(count)))
                    }
                    (Folded::Int(a), Folded::Int(b)) => Some(Folded::Int(int_op(operator, a, b)?)),
                    _ => None,
                }
            }
            "subscript" => {
                let value = self.py(node.child_by_field_name("value")?, depth + 1)?;
                let slice = node.child_by_field_name("subscript")?;
                let Folded::Str(text) = value else { return None };
                self.py_slice(&text, slice, depth)
            }
            "call" => self.py_call(node, depth),
            "list_comprehension" | "generator_expression" => self.py_comprehension(node, depth),
            _ => None,
        }
    }

    /// `s[::-1]`, `s[a:b]`, `s[a:b:c]` with constant bounds (characters, as Python slices).
    fn py_slice(&mut self, text: &str, slice: Node<'_>, depth: usize) -> Option<Folded> {
        if slice.kind() != "slice" {
            return None;
        }
        let mut bounds: [Option<i64>; 3] = [None; 3];
        let mut index = 0;
        let mut cursor = slice.walk();
        for child in slice.children(&mut cursor) {
            if child.kind() == ":" {
                index += 1;
            } else if child.is_named() {
                let Folded::Int(value) = self.py(child, depth + 1)? else { return None };
                *bounds.get_mut(index)? = Some(value);
            }
        }
        let chars: Vec<char> = text.chars().collect();
        let length = chars.len() as i64;
        let step = bounds[2].unwrap_or(1);
        self.obfuscated |= step < 0;
        let clamp = |v: i64, low: i64, high: i64| if v < 0 { (v + length).max(low) } else { v.min(high) };
        let picked: String = if step > 0 {
            let start = bounds[0].map_or(0, |v| clamp(v, 0, length));
            let stop = bounds[1].map_or(length, |v| clamp(v, 0, length));
            (start..stop).step_by(step as usize).filter_map(|i| chars.get(i as usize)).collect()
        } else if step < 0 {
            let start = bounds[0].map_or(length - 1, |v| clamp(v, -1, length - 1));
            let stop = bounds[1].map_or(-1, |v| clamp(v, -1, length - 1));
            let mut out = String::new();
            let mut i = start;
            while i > stop {
                out.extend(chars.get(i as usize));
                i += step;
            }
            out
        } else {
            return None;
        };
        Some(Folded::Str(picked))
    }

    /// An f-string whose replacement fields are constants (`f'{a}tem'` after `a = 'sys'`);
    /// a conversion or format spec is not folded.
    fn py_fstring(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        let text = self.text(node);
        let quote = text.find(['\'', '"'])?;
        let prefix = text[..quote].to_ascii_lowercase();
        if !prefix.contains('f') || prefix.contains('b') || prefix.contains('t') {
            return None;
        }
        let raw = prefix.contains('r');
        let mut out = String::new();
        for child in Self::named(node) {
            match child.kind() {
                "string_start" | "string_end" => {}
                "string_content" => {
                    // `{{` and `}}` are literal braces; escapes decode as in any string.
                    let body = self.text(child).replace("{{", "{").replace("}}", "}");
                    out.push_str(&decode_python(&body, raw, false));
                }
                "interpolation" => {
                    let parts = Self::named(child);
                    let [expression] = parts[..] else { return None };
                    out.push_str(&to_text(&self.py(expression, depth + 1)?)?);
                }
                _ => return None,
            }
            if out.len() > MAX_OUTPUT {
                return None;
            }
        }
        checked(out)
    }

    fn py_call(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        let function = node.child_by_field_name("function")?;
        // Most calls are of something else: decided by the name alone, before any allocation.
        let name = match function.kind() {
            "identifier" => self.text(function),
            "attribute" => self.text(function.child_by_field_name("attribute")?),
            _ => return None,
        };
        if !PYTHON_CALLS.contains(&name) {
            return None;
        }
        let arguments = node.child_by_field_name("arguments")?;
        let args: Vec<Node<'_>> =
            if arguments.kind() == "generator_expression" { vec![arguments] } else { Self::named(arguments) };
        match function.kind() {
            "identifier" => match (self.text(function), args.as_slice()) {
                ("chr", [arg]) => match self.py(*arg, depth + 1)? {
                    Folded::Int(code) => {
                        self.obfuscated = true;
                        Some(Folded::Str(chr(code)?.to_string()))
                    }
                    _ => None,
                },
                ("str", [arg]) => match self.py(*arg, depth + 1)? {
                    text @ Folded::Str(_) => Some(text),
                    _ => None,
                },
                ("bytes" | "bytearray", [arg]) => match self.py(*arg, depth + 1)? {
                    Folded::List(items) => {
                        let text: Option<String> = items
                            .iter()
                            .map(|i| if let Folded::Int(b) = i { u8::try_from(*b).ok().map(char::from) } else { None })
                            .collect();
                        Some(Folded::Str(text?))
                    }
                    _ => None,
                },
                ("reversed", [arg]) => match self.py(*arg, depth + 1).inspect(|_| self.obfuscated = true)? {
                    Folded::Str(text) => {
                        Some(Folded::List(text.chars().rev().map(|c| Folded::Str(c.to_string())).collect()))
                    }
                    Folded::List(mut items) => {
                        items.reverse();
                        Some(Folded::List(items))
                    }
                    _ => None,
                },
                ("map", [function, list]) if self.text(*function) == "chr" => {
                    match self.py(*list, depth + 1).inspect(|_| self.obfuscated = true)? {
                        Folded::List(items) => Some(Folded::List(
                            items
                                .into_iter()
                                .map(|i| {
                                    if let Folded::Int(code) = i {
                                        chr(code).map(|c| Folded::Str(c.to_string()))
                                    } else {
                                        None
                                    }
                                })
                                .collect::<Option<Vec<_>>>()?,
                        )),
                        _ => None,
                    }
                }
                _ => None,
            },
            "attribute" => {
                let method = self.text(function.child_by_field_name("attribute")?);
                let object = function.child_by_field_name("object")?;
                if method == "fromhex" && self.text(object) == "bytes" {
                    let Folded::Str(hex) = self.py(*args.first()?, depth + 1)? else { return None };
                    let compact: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                    if !compact.len().is_multiple_of(2) {
                        return None;
                    }
                    let text: Option<String> = compact
                        .chunks(2)
                        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok().map(char::from))
                        .collect();
                    self.obfuscated = true;
                    return Some(Folded::Str(text?));
                }
                if method == "format" {
                    // The arguments first: usually names, which end it before the template is read.
                    let mut positional = Vec::new();
                    let mut named = Vec::new();
                    for arg in &args {
                        if arg.kind() == "keyword_argument" {
                            let name = self.text(arg.child_by_field_name("name")?);
                            named.push((name, self.py(arg.child_by_field_name("value")?, depth + 1)?));
                        } else {
                            positional.push(self.py(*arg, depth + 1)?);
                        }
                    }
                    let Folded::Str(template) = self.py(object, depth + 1)? else { return None };
                    return Some(Folded::Str(brace_format(&template, &positional, &named)?));
                }
                let target = self.py(object, depth + 1)?;
                match (method, target, args.as_slice()) {
                    ("join", Folded::Str(separator), [arg]) => match self.py(*arg, depth + 1)? {
                        Folded::List(items) => join(&items, &separator),
                        Folded::Str(text) => {
                            checked(text.chars().map(String::from).collect::<Vec<_>>().join(&separator))
                        }
                        Folded::Int(_) => None,
                    },
                    ("decode" | "encode" | "strip", text @ Folded::Str(_), _) => Some(text),
                    ("replace", Folded::Str(text), [old, new]) => {
                        let (Folded::Str(old), Folded::Str(new)) =
                            (self.py(*old, depth + 1)?, self.py(*new, depth + 1)?)
                        else {
                            return None;
                        };
                        if old.is_empty() {
                            return None;
                        }
                        checked(text.replace(&old, &new))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `[chr(c ^ 7) for c in [110, ...]]` and the generator form, with one `for` over a literal.
    fn py_comprehension(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        let body = node.child_by_field_name("body")?;
        let clauses = Self::named(node);
        let [_, clause] = clauses.as_slice() else { return None };
        if clause.kind() != "for_in_clause" {
            return None;
        }
        let variable = clause.child_by_field_name("left")?;
        if variable.kind() != "identifier" {
            return None;
        }
        let name = self.text(variable);
        let Folded::List(items) = self.py(clause.child_by_field_name("right")?, depth + 1)? else { return None };
        let saved = self.variable;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let Folded::Int(value) = item else {
                self.variable = saved;
                return None;
            };
            self.variable = Some((name, value));
            let folded = self.py(body, depth + 1);
            match folded {
                Some(value) => out.push(value),
                None => {
                    self.variable = saved;
                    return None;
                }
            }
        }
        self.variable = saved;
        Some(Folded::List(out))
    }

    // --- JavaScript ----------------------------------------------------------------------------

    fn js(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        self.enter(depth)?;
        match node.kind() {
            "string" => {
                let text = self.text(node);
                Some(Folded::Str(decode_javascript(text.get(1..text.len().saturating_sub(1))?).into_owned()))
            }
            "template_string" => {
                // The text between substitutions, and each substitution's constant value.
                let mut out = String::new();
                let mut position = node.start_byte() + 1;
                for child in Self::named(node) {
                    if child.kind() != "template_substitution" {
                        continue;
                    }
                    out.push_str(&decode_javascript(self.src.get(position..child.start_byte())?));
                    let [expression] = Self::named(child)[..] else { return None };
                    out.push_str(&to_text(&self.js(expression, depth + 1)?)?);
                    if out.len() > MAX_OUTPUT {
                        return None;
                    }
                    position = child.end_byte();
                }
                let end = node.end_byte().saturating_sub(1).max(position);
                out.push_str(&decode_javascript(self.src.get(position..end)?));
                checked(out)
            }
            "number" => Some(Folded::Int(parse_int(self.text(node))?)),
            "identifier" => self.constant(self.text(node)),
            "parenthesized_expression" => self.js(*Self::named(node).first()?, depth + 1),
            "array" => Some(Folded::List(
                Self::named(node).into_iter().map(|n| self.js(n, depth + 1)).collect::<Option<Vec<_>>>()?,
            )),
            "unary_expression" => match self.js(node.child_by_field_name("argument")?, depth + 1)? {
                Folded::Int(value) if self.text(node).starts_with('-') => Some(Folded::Int(value.checked_neg()?)),
                _ => None,
            },
            "binary_expression" => {
                let operator = self.text(node.child_by_field_name("operator")?);
                let left = self.js(node.child_by_field_name("left")?, depth + 1)?;
                let right = self.js(node.child_by_field_name("right")?, depth + 1)?;
                match (left, right) {
                    (Folded::Str(a), Folded::Str(b)) if operator == "+" => checked(a + &b),
                    (Folded::Int(a), Folded::Int(b)) => Some(Folded::Int(int_op(operator, a, b)?)),
                    _ => None,
                }
            }
            "call_expression" => self.js_call(node, depth),
            _ => None,
        }
    }

    fn js_call(&mut self, node: Node<'_>, depth: usize) -> Option<Folded> {
        let function = node.child_by_field_name("function")?;
        let name = match function.kind() {
            "identifier" => self.text(function),
            "member_expression" => self.text(function.child_by_field_name("property")?),
            _ => return None,
        };
        if !JAVASCRIPT_CALLS.contains(&name) {
            return None;
        }
        let args = Self::named(node.child_by_field_name("arguments")?);
        match function.kind() {
            "identifier" => match (self.text(function), args.as_slice()) {
                ("unescape" | "decodeURIComponent" | "decodeURI", [arg]) => match self.js(*arg, depth + 1)? {
                    Folded::Str(text) => {
                        self.obfuscated |= text.contains('%');
                        Some(Folded::Str(percent_decode(&text)?))
                    }
                    _ => None,
                },
                ("String", [arg]) => match self.js(*arg, depth + 1)? {
                    text @ Folded::Str(_) => Some(text),
                    _ => None,
                },
                _ => None,
            },
            "member_expression" => {
                let method = self.text(function.child_by_field_name("property")?);
                let object = function.child_by_field_name("object")?;
                if method == "from" && self.text(object) == "Buffer" {
                    // `Buffer.from(s, 'base64')` naming a module (`require(Buffer.from(...)
                    // .toString())`): decoded here when resolving a name; for payloads it is
                    // left to the literal's own decoding.
                    if let ([data, encoding], Some(_)) = (args.as_slice(), self.constants) {
                        let (Folded::Str(data), Folded::Str(encoding)) =
                            (self.js(*data, depth + 1)?, self.js(*encoding, depth + 1)?)
                        else {
                            return None;
                        };
                        let bytes = match encoding.as_str() {
                            "base64" => crate::payloads::base64_decode(data.as_bytes())?,
                            "hex" => hex::decode(data.as_bytes()).ok()?,
                            _ => return None,
                        };
                        self.obfuscated = true;
                        return checked(String::from_utf8(bytes).ok()?);
                    }
                    // `Buffer.from([105, 109, ...])`: bytes from their codes.
                    let [array] = args.as_slice() else { return None };
                    let Folded::List(items) = self.js(*array, depth + 1)? else { return None };
                    let text: Option<String> = items
                        .iter()
                        .map(|i| if let Folded::Int(b) = i { u8::try_from(*b).ok().map(char::from) } else { None })
                        .collect();
                    self.obfuscated = true;
                    return Some(Folded::Str(text?));
                }
                if method == "fromCharCode" && self.text(object) == "String" {
                    let text: Option<String> = args
                        .iter()
                        .map(|a| match self.js(*a, depth + 1)? {
                            Folded::Int(code) => chr(code),
                            _ => None,
                        })
                        .collect();
                    self.obfuscated = true;
                    return Some(Folded::Str(text?));
                }
                let target = self.js(object, depth + 1)?;
                match (method, target, args.as_slice()) {
                    ("split", Folded::Str(text), [separator]) => match self.js(*separator, depth + 1)? {
                        Folded::Str(separator) if separator.is_empty() => {
                            Some(Folded::List(text.chars().map(|c| Folded::Str(c.to_string())).collect()))
                        }
                        Folded::Str(separator) => Some(Folded::List(
                            text.split(separator.as_str()).map(|p| Folded::Str(p.to_string())).collect(),
                        )),
                        _ => None,
                    },
                    ("reverse", Folded::List(mut items), []) => {
                        self.obfuscated = true;
                        items.reverse();
                        Some(Folded::List(items))
                    }
                    ("join", Folded::List(items), []) => join(&items, ","),
                    ("join", Folded::List(items), [separator]) => match self.js(*separator, depth + 1)? {
                        Folded::Str(separator) => join(&items, &separator),
                        _ => None,
                    },
                    ("concat", Folded::Str(mut text), rest) => {
                        for arg in rest {
                            let Folded::Str(more) = self.js(*arg, depth + 1)? else { return None };
                            text.push_str(&more);
                        }
                        checked(text)
                    }
                    ("toString", text @ Folded::Str(_), []) => Some(text),
                    ("toString", text @ Folded::Str(_), [encoding]) => match self.js(*encoding, depth + 1)? {
                        Folded::Str(name) if matches!(name.as_str(), "utf8" | "utf-8" | "latin1" | "binary") => {
                            Some(text)
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(source: &str, language: Language) -> Option<String> {
        let tree = crate::parse::parse(source, language).unwrap();
        // The expression of the first statement.
        let statement = tree.root_node().named_child(0)?;
        let expression = statement.named_child(0)?;
        let folded = match language {
            Language::Python => python(expression, source),
            _ => javascript(expression, source),
        };
        folded.map(|(text, _)| text)
    }

    /// `fold` with constant names and a budget, returning what is left of the budget.
    fn fold_with(source: &str, language: Language, names: &[(&str, &str)], budget: usize) -> (Option<String>, usize) {
        let tree = crate::parse::parse(source, language).unwrap();
        let statement = tree.root_node().named_child(0).unwrap();
        let expression = statement.named_child(0).unwrap();
        let lookup = |name: &str| names.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        let mut left = budget;
        let folded = evaluate(expression, source, language, Some(&lookup), &mut left);
        (folded.map(|(text, _)| text), left)
    }

    #[test]
    fn names_bound_to_constants_and_fstrings_fold_when_resolving_names() {
        let names = [("a", "sys"), ("m", "child")];
        assert_eq!(fold_with("a + 'tem'", Language::Python, &names, MAX_NODES).0.as_deref(), Some("system"));
        assert_eq!(fold_with("f'{a}tem'", Language::Python, &names, MAX_NODES).0.as_deref(), Some("system"));
        assert_eq!(fold_with("f'{{{a}}}'", Language::Python, &names, MAX_NODES).0.as_deref(), Some("{sys}"));
        assert_eq!(fold_with("f'{a!r}'", Language::Python, &names, MAX_NODES).0, None, "conversions are not folded");
        assert_eq!(fold_with("f'{b}tem'", Language::Python, &names, MAX_NODES).0, None, "unknown names are not");
        assert_eq!(
            fold_with("`${m}_process`", Language::JavaScript, &names, MAX_NODES).0.as_deref(),
            Some("child_process")
        );
        let buffer = "Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()";
        assert_eq!(fold_with(buffer, Language::JavaScript, &names, MAX_NODES).0.as_deref(), Some("child_process"));
        assert_eq!(fold(buffer, Language::JavaScript), None, "for payloads, left to the literal's decoding");
    }

    #[test]
    fn folding_spends_one_budget_for_the_whole_file() {
        let source = format!("{}'x'", "'a' + ".repeat(150));
        let (folded, left) = fold_with(&source, Language::Python, &[], MAX_FILE_NODES);
        assert_eq!(folded.map(|t| t.len()), Some(151));
        let spent = MAX_FILE_NODES - left;
        assert!(spent > 150, "each node visited is paid for: {spent}");
        // With less budget than the expression needs, it is not folded and the budget is gone.
        let (folded, left) = fold_with(&source, Language::Python, &[], spent / 2);
        assert_eq!((folded, left), (None, 0));
    }

    #[test]
    fn python_folding_rules() {
        let py = |s: &str| fold(s, Language::Python);
        assert_eq!(py("'aW1w' + 'b3J0'").as_deref(), Some("aW1wb3J0"));
        assert_eq!(py("'tropmi'[::-1]").as_deref(), Some("import"));
        assert_eq!(py("'abcdef'[1:4]").as_deref(), Some("bcd"));
        assert_eq!(py("'abcdef'[-2:]").as_deref(), Some("ef"));
        assert_eq!(py("''.join(chr(c) for c in [105, 109, 112])").as_deref(), Some("imp"));
        assert_eq!(py("''.join([chr(c ^ 1) for c in [104, 108, 113]])").as_deref(), Some("imp"));
        assert_eq!(py("''.join(map(chr, [111, 115]))").as_deref(), Some("os"));
        assert_eq!(py("chr(0x69) + chr(109)").as_deref(), Some("im"));
        assert_eq!(py("bytes.fromhex('696d706f7274').decode()").as_deref(), Some("import"));
        assert_eq!(py("bytes([111, 115]).decode('utf-8')").as_deref(), Some("os"));
        assert_eq!(py("''.join(reversed('so'))").as_deref(), Some("os"));
        assert_eq!(py("'o-s'.replace('-', '')").as_deref(), Some("os"));
        assert_eq!(py("'ab' * 3").as_deref(), Some("ababab"));
    }

    #[test]
    fn python_formatting_with_constants() {
        let py = |s: &str| fold(s, Language::Python);
        assert_eq!(py("'%s%s' % ('aW1w', 'b3J0')").as_deref(), Some("aW1wb3J0"));
        assert_eq!(py("'%s' % 'x'").as_deref(), Some("x"));
        assert_eq!(
            py("'%s-%d-%i-%x-%c-%c-%r-%%' % ('a', 10, -3, 255, 105, 'j', 'b')").as_deref(),
            Some("a-10--3-ff-i-j-'b'-%")
        );
        assert_eq!(py("'{}{}'.format('aW1w', 'b3J0')").as_deref(), Some("aW1wb3J0"));
        assert_eq!(py("'{1}{0}'.format('a', 'b')").as_deref(), Some("ba"));
        assert_eq!(py("'{a}{b!s}'.format(a='x', b=1)").as_deref(), Some("x1"));
        assert_eq!(py("'{{}}{}}}'.format('a')").as_deref(), Some("{}a}"));
        assert_eq!(py("('%s' + '%s') % ('a', 'b')").as_deref(), Some("ab"));
        for refused in [
            "'%s %s' % ('a',)",
            "'%s' % ('a', 'b')",
            "'%5s' % 'a'",
            "'%(a)s' % {'a': 'b'}",
            "'%d' % 'a'",
            "'%s' % name",
            "'{:>5}'.format('a')",
            "'{}'.format(x)",
            "'{}{}'.format('a')",
            "'{}'.format(*args)",
            "'{a}'.format(**kwargs)",
            "'{'.format('a')",
            "'}'.format('a')",
        ] {
            assert_eq!(py(refused), None, "{refused}");
        }
    }

    #[test]
    fn python_refuses_what_is_not_constant() {
        let py = |s: &str| fold(s, Language::Python);
        assert_eq!(py("name + 'x'"), None);
        assert_eq!(py("''.join(chr(c) for c in data)"), None);
        assert_eq!(py("f'{x}' + 'y'"), None);
        assert_eq!(py("open('f').read()"), None);
        assert_eq!(py("'x' * 10000000000"), None, "bounded");
    }

    #[test]
    fn javascript_folding_rules() {
        let js = |s: &str| fold(s, Language::JavaScript);
        assert_eq!(js("'aW1w' + \"b3J0\"").as_deref(), Some("aW1wb3J0"));
        assert_eq!(js("String.fromCharCode(114, 101, 113)").as_deref(), Some("req"));
        assert_eq!(js("'edoc'.split('').reverse().join('')").as_deref(), Some("code"));
        assert_eq!(js("['a', 'b'].join('')").as_deref(), Some("ab"));
        assert_eq!(js("unescape('%69%6d%70')").as_deref(), Some("imp"));
        assert_eq!(js("decodeURIComponent('%E2%9C%93ok')").as_deref(), Some("✓ok"));
        assert_eq!(js("'a'.concat('b', `c`)").as_deref(), Some("abc"));
        assert_eq!(js("x + 'y'"), None);
        assert_eq!(js("`a${b}`"), None);
    }

    #[test]
    fn javascript_templates_and_buffers() {
        let js = |s: &str| fold(s, Language::JavaScript);
        assert_eq!(js("`${'aW1w'}${\"b3J0\"}`").as_deref(), Some("aW1wb3J0"));
        assert_eq!(js("`a${1 + 2}b\\n${`c${'d'}`}`").as_deref(), Some("a3b\ncd"));
        assert_eq!(js("`plain`").as_deref(), Some("plain"));
        assert_eq!(js("`${x}`"), None);
        assert_eq!(js("`${[1, 2]}`"), None);
        assert_eq!(js("Buffer.from([111, 115]).toString()").as_deref(), Some("os"));
        assert_eq!(js("Buffer.from([111, 115]).toString('utf8')").as_deref(), Some("os"));
        assert_eq!(js("Buffer.from([111, 115]).toString('base64')"), None);
        assert_eq!(js("Buffer.from([111, 256])"), None);
        assert_eq!(js("Buffer.from('aGk=', 'base64')"), None, "left to the literal's decoding");
        assert_eq!(js("Other.from([111])"), None);
    }

    #[test]
    fn only_obfuscating_operations_count_as_obfuscation() {
        let obfuscated = |s: &str, language: Language| {
            let tree = crate::parse::parse(s, language).unwrap();
            let expression = tree.root_node().named_child(0).unwrap().named_child(0).unwrap();
            match language {
                Language::Python => python(expression, s),
                _ => javascript(expression, s),
            }
            .unwrap()
            .1
        };
        assert!(!obfuscated("'def f():\\n' + '    pass'", Language::Python));
        assert!(!obfuscated("', '.join(['a', 'b'])", Language::Python));
        assert!(obfuscated("'so'[::-1]", Language::Python));
        assert!(obfuscated("''.join(chr(c) for c in [111])", Language::Python));
        assert!(!obfuscated("'a' + 'b'", Language::JavaScript));
        assert!(obfuscated("String.fromCharCode(111)", Language::JavaScript));
        assert!(!obfuscated("'%s%s' % ('a', 'b')", Language::Python));
        assert!(!obfuscated("'{}'.format('a')", Language::Python));
        assert!(obfuscated("'%c%c' % (111, 115)", Language::Python));
        assert!(!obfuscated("`${'a'}b`", Language::JavaScript));
        assert!(obfuscated("Buffer.from([111, 115]).toString()", Language::JavaScript));
    }

    #[test]
    fn percent_decoding_keeps_stray_percent_signs() {
        assert_eq!(percent_decode("100% %u0041%41").as_deref(), Some("100% AA"));
    }
}

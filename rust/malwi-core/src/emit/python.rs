//! Python parse trees to malwicode.

use std::borrow::Cow;

use smallvec::SmallVec;
use tree_sitter::Node;
use unicode_normalization::UnicodeNormalization;

use super::grammar::{self, PyGrammar, PyKind};
use super::{in_definition, nested, Context, Core, Emit, Placement, Qual, Value};
use crate::language::Language;
use crate::literals::{decode_python, python_literal};
use crate::malwicode::Op;

pub(crate) struct PythonEmitter<'c, 's> {
    core: &'c mut Core<'s>,
    g: &'static PyGrammar,
}

impl<'s> Emit<'s> for PythonEmitter<'_, 's> {
    fn core(&mut self) -> &mut Core<'s> {
        self.core
    }
}

/// A string literal (or several adjacent ones) split into text and interpolations.
struct StringParts<'s> {
    /// The text, with each interpolation replaced by `{}`.
    template: String,
    interpolations: SmallVec<[Node<'s>; 2]>,
}

impl<'c, 's> PythonEmitter<'c, 's> {
    pub fn new(core: &'c mut Core<'s>) -> Self {
        PythonEmitter { core, g: grammar::python() }
    }

    #[inline]
    fn kind(&self, node: Node<'_>) -> PyKind {
        self.g.kind(node)
    }

    fn field(&self, node: Node<'s>, field: u16) -> Option<Node<'s>> {
        node.child_by_field_id(field)
    }

    /// An identifier as Python reads it: NFKC-normalised, so `ｅｘｅｃ` and `𝐞𝐱𝐞𝐜` are `exec`
    /// (PEP 3131), as the interpreter will run them.
    fn name(&self, node: Node<'_>) -> Cow<'s, str> {
        let text = self.text(node);
        if text.is_ascii() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.nfkc().collect())
        }
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.core.text(node)
    }

    pub fn module(&mut self, root: Node<'s>) {
        self.statements(root);
    }

    fn statements(&mut self, node: Node<'s>) {
        for child in self.core.kids(node) {
            self.statement(child);
        }
    }

    /// A block, or whatever stands where a block should be (error recovery).
    fn block(&mut self, node: Option<Node<'s>>) {
        let Some(node) = node else { return };
        if self.kind(node) == PyKind::Block {
            self.statements(node);
        } else {
            self.statement(node);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements

    fn statement(&mut self, node: Node<'s>) {
        self.core.mark_statement(node);
        nested(
            self,
            |e| {
                e.flat(node);
            },
            |e| e.statement_inner(node),
        )
    }

    fn statement_inner(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        match self.kind(node) {
            PyKind::Module | PyKind::Block => self.statements(node),
            PyKind::ExpressionStatement => self.expression_statement(node),
            PyKind::Assignment => self.assignment(node),
            PyKind::AugmentedAssignment => self.augmented_assignment(node),
            PyKind::If => self.if_statement(node),
            PyKind::For => self.for_statement(node),
            PyKind::While => {
                self.expr(self.field(node, f.condition));
                self.core.op(Op::PopJumpIfFalse);
                self.block(self.field(node, f.body));
                self.core.op(Op::JumpBackward);
                if let Some(alternative) = self.field(node, f.alternative) {
                    self.block(self.field(alternative, f.body));
                }
            }
            PyKind::Try => self.try_statement(node),
            PyKind::With => self.with_statement(node),
            PyKind::Match => self.match_statement(node),
            PyKind::FunctionDefinition => self.function_definition(node, node, &[]),
            PyKind::ClassDefinition => self.class_definition(node, node, &[]),
            PyKind::DecoratedDefinition => {
                let decorators: SmallVec<[Node<'s>; 2]> =
                    self.core.kids(node).into_iter().filter(|k| self.kind(*k) == PyKind::Decorator).collect();
                match self.field(node, f.definition) {
                    Some(def) if self.kind(def) == PyKind::ClassDefinition => {
                        self.class_definition(def, node, &decorators)
                    }
                    Some(def) => self.function_definition(def, node, &decorators),
                    None => self.generic(node),
                }
            }
            PyKind::Return => {
                match self.core.kids(node).first() {
                    Some(&value) => {
                        self.value(value);
                    }
                    None => self.core.op_arg(Op::LoadConst, "None"),
                }
                self.core.op(Op::ReturnValue);
            }
            PyKind::Raise => {
                let cause = self.field(node, f.cause);
                let mut count = 0;
                for child in self.core.kids(node) {
                    if Some(child) != cause {
                        count += self.value_count(child);
                    }
                }
                if let Some(cause) = cause {
                    self.expr(Some(cause));
                    count += 1;
                }
                self.core.op_count(Op::RaiseVarargs, count);
            }
            PyKind::Assert => {
                let kids = self.core.kids(node);
                self.expr(kids.first().copied());
                self.core.op(Op::PopJumpIfTrue);
                self.core.op(Op::LoadAssertionError);
                if let Some(&message) = kids.get(1) {
                    self.expr(Some(message));
                    self.core.op_count(Op::Call, 1);
                }
                self.core.op_count(Op::RaiseVarargs, 1);
            }
            PyKind::Delete => {
                for target in self.core.kids(node) {
                    self.delete_target(target);
                }
            }
            PyKind::Global | PyKind::Nonlocal => {
                let op = if self.kind(node) == PyKind::Global { Op::Global } else { Op::Nonlocal };
                for name in self.core.kids(node) {
                    let name = self.text(name);
                    self.core.op_name(op, name);
                    self.core.bind_local(name);
                }
            }
            PyKind::Pass => self.core.op(Op::Nop),
            PyKind::Break => self.core.op(Op::BreakLoop),
            PyKind::Continue => self.core.op(Op::ContinueLoop),
            PyKind::Import => self.import(node),
            PyKind::ImportFrom => self.import_from(node),
            PyKind::FutureImport => {
                self.core.op_name(Op::ImportName, "__future__");
                for name in self.core.field_all(node, f.name) {
                    let name = self.dotted(name);
                    self.core.op_name(Op::ImportFrom, &name);
                    self.core.op(Op::PopTop);
                }
            }
            PyKind::Print => self.print_statement(node),
            PyKind::Exec => {
                // Python 2 `exec code in globals, locals`: the call to the `exec` builtin.
                self.core.load_name("exec", true);
                let mut count = 0;
                for child in self.core.kids(node) {
                    self.expr(Some(child));
                    count += 1;
                }
                self.core.op_count(Op::Call, count);
                self.core.op(Op::PopTop);
            }
            PyKind::TypeAlias => {
                self.expr(self.field(node, f.right));
                if let Some(left) = self.field(node, f.left) {
                    let name = self.first_identifier(left).unwrap_or("_");
                    self.core.op_name(Op::StoreName, name);
                    self.core.bind_local(name);
                }
            }
            PyKind::Comment => {}
            _ => {
                // An expression where a statement was expected (error recovery, `print x` forms).
                self.expr(Some(node));
                self.core.op(Op::PopTop);
            }
        }
    }

    fn expression_statement(&mut self, node: Node<'s>) {
        let kids = self.core.kids(node);
        match kids.as_slice() {
            [single] => match self.kind(*single) {
                PyKind::Assignment => self.assignment(*single),
                PyKind::AugmentedAssignment => self.augmented_assignment(*single),
                _ => {
                    self.expr(Some(*single));
                    self.core.op(Op::PopTop);
                }
            },
            many => {
                for &child in many {
                    self.expr(Some(child));
                }
                self.core.op_count(Op::BuildTuple, many.len());
                self.core.op(Op::PopTop);
            }
        }
    }

    /// `a = b = value`, `a, b = value`, `x: int = value`, `x: int`.
    fn assignment(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut targets: SmallVec<[Node<'s>; 2]> = SmallVec::new();
        let mut current = node;
        let mut annotation = None;
        let value = loop {
            if current == node {
                annotation = self.field(current, f.type_);
            }
            if let Some(left) = self.field(current, f.left) {
                targets.push(left);
            }
            match self.field(current, f.right) {
                Some(right) if self.kind(right) == PyKind::Assignment => current = right,
                other => break other,
            }
        };
        let hint = match targets.as_slice() {
            [single] if self.kind(*single) == PyKind::Identifier => Some(self.text(*single)),
            _ => None,
        };
        if let Some(value) = value {
            let value = if self.kind(value) == PyKind::AugmentedAssignment {
                self.augmented_assignment(value);
                Value::Unknown
            } else {
                self.value_named(value, hint)
            };
            let single = targets.len() == 1;
            for &target in &targets {
                self.store(target, if single { &value } else { &Value::Unknown });
            }
        }
        if let Some(annotation) = annotation {
            self.expr(Some(annotation));
            self.core.op(Op::StoreAnnotation);
        }
    }

    fn augmented_assignment(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let (Some(left), right) = (self.field(node, f.left), self.field(node, f.right)) else {
            return self.generic(node);
        };
        let operator = self.field(node, f.operator).map_or("?=", |o| o.kind());
        match self.kind(left) {
            PyKind::Identifier => {
                let name = self.text(left);
                self.core.load_name(name, false);
                self.value_opt(right);
                self.core.op_arg(Op::BinaryOp, operator);
                self.core.op_name(Op::StoreName, name);
                self.core.bind_local(name);
            }
            PyKind::Attribute => {
                let object = self.expr(self.field(left, f.object));
                let attr = self.field(left, f.attribute).map_or("", |a| self.text(a));
                self.core.load_attr(object.clone(), attr, false);
                self.value_opt(right);
                self.core.op_arg(Op::BinaryOp, operator);
                self.core.attr_op(Op::StoreAttr, &object, attr);
            }
            PyKind::Subscript => {
                self.subscript_operands(left);
                self.core.op(Op::BinarySubscr);
                self.value_opt(right);
                self.core.op_arg(Op::BinaryOp, operator);
                self.core.op(Op::StoreSubscr);
            }
            _ => {
                // Not a simple target (error recovery): emitted once, nothing stored.
                self.expr(Some(left));
                self.value_opt(right);
                self.core.op_arg(Op::BinaryOp, operator);
            }
        }
    }

    /// Stores the value on top of the stack into an assignment target.
    fn store(&mut self, target: Node<'s>, value: &Value) {
        let f = &self.g.fields;
        match self.kind(target) {
            PyKind::Identifier => {
                let name = self.name(target);
                self.core.op_name(Op::StoreName, &name);
                self.core.bind(&name, value);
            }
            PyKind::Attribute => {
                let object = self.expr(self.field(target, f.object));
                let attr = self.field(target, f.attribute).map_or(Cow::Borrowed(""), |a| self.name(a));
                self.core.store_attr(&object, &attr, value);
            }
            PyKind::Subscript => {
                self.subscript_operands(target);
                self.core.op(Op::StoreSubscr);
            }
            PyKind::PatternList
            | PyKind::TuplePattern
            | PyKind::ListPattern
            | PyKind::ExpressionList
            | PyKind::Tuple
            | PyKind::List => {
                let parts = self.core.kids(target);
                let starred =
                    parts.iter().any(|p| matches!(self.kind(*p), PyKind::ListSplatPattern | PyKind::ListSplat));
                self.core.op_count(if starred { Op::UnpackEx } else { Op::UnpackSequence }, parts.len());
                for part in parts {
                    self.store(part, &Value::Unknown);
                }
            }
            PyKind::ListSplatPattern | PyKind::ListSplat | PyKind::Parenthesized | PyKind::AsPatternTarget => {
                if let Some(&inner) = self.core.kids(target).first() {
                    self.store(inner, value);
                }
            }
            _ => {
                self.expr(Some(target));
                self.core.op(Op::PopTop);
            }
        }
    }

    fn delete_target(&mut self, target: Node<'s>) {
        let f = &self.g.fields;
        match self.kind(target) {
            PyKind::Identifier => {
                let name = self.text(target);
                self.core.op_name(Op::DeleteName, name);
            }
            PyKind::Attribute => {
                let object = self.expr(self.field(target, f.object));
                let attr = self.field(target, f.attribute).map_or("", |a| self.text(a));
                self.core.attr_op(Op::DeleteAttr, &object, attr);
            }
            PyKind::Subscript => {
                self.subscript_operands(target);
                self.core.op(Op::DeleteSubscr);
            }
            PyKind::ExpressionList | PyKind::Tuple | PyKind::List | PyKind::Parenthesized => {
                for part in self.core.kids(target) {
                    self.delete_target(part);
                }
            }
            _ => {
                self.expr(Some(target));
                self.core.op(Op::PopTop);
            }
        }
    }

    fn if_statement(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let condition = self.field(node, f.condition);
        let consequence = self.field(node, f.consequence);
        self.expr(condition);
        self.core.op(Op::PopJumpIfFalse);
        self.block(consequence);
        let alternatives: SmallVec<[Node<'s>; 4]> = self
            .core
            .kids(node)
            .into_iter()
            .filter(|k| matches!(self.kind(*k), PyKind::Elif | PyKind::Else) && Some(*k) != consequence)
            .collect();
        for alternative in alternatives {
            self.core.op(Op::JumpForward);
            match self.kind(alternative) {
                PyKind::Elif => {
                    self.expr(self.field(alternative, f.condition));
                    self.core.op(Op::PopJumpIfFalse);
                    self.block(self.field(alternative, f.consequence));
                }
                _ => self.block(self.field(alternative, f.body)),
            }
        }
    }

    fn for_statement(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let is_async = self.core.has_token(node, "async");
        self.value_opt(self.field(node, f.right));
        self.core.op(if is_async { Op::GetAiter } else { Op::GetIter });
        self.core.op(Op::ForIter);
        if let Some(left) = self.field(node, f.left) {
            self.store(left, &Value::Unknown);
        }
        self.block(self.field(node, f.body));
        self.core.op(Op::JumpBackward);
        self.core.op(Op::EndFor);
        if let Some(alternative) = self.field(node, f.alternative) {
            self.block(self.field(alternative, f.body));
        }
    }

    fn try_statement(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let body = self.field(node, f.body);
        self.core.op(Op::SetupFinally);
        self.block(body);
        self.core.op(Op::PopBlock);
        for clause in self.core.kids(node) {
            if Some(clause) == body {
                continue;
            }
            match self.kind(clause) {
                PyKind::Except => {
                    self.core.op(Op::PushExcInfo);
                    let kids = self.core.fields(clause);
                    let mut alias = kids.iter().find(|(field, _)| *field == f.alias).map(|(_, n)| *n);
                    let mut types: SmallVec<[Node<'s>; 2]> = SmallVec::new();
                    for (_, value) in kids.iter().filter(|(field, _)| *field == f.value) {
                        // `except (A, B) as e` parses as one `as_pattern` holding types and alias.
                        if self.kind(*value) == PyKind::AsPattern {
                            for (field, part) in self.core.fields(*value) {
                                if field == f.alias {
                                    alias = Some(part);
                                } else {
                                    types.push(part);
                                }
                            }
                        } else {
                            types.push(*value);
                        }
                    }
                    if !types.is_empty() {
                        for &t in &types {
                            self.expr(Some(t));
                        }
                        if types.len() > 1 {
                            self.core.op_count(Op::BuildTuple, types.len());
                        }
                        self.core.op(Op::CheckExcMatch);
                        self.core.op(Op::PopJumpIfFalse);
                    }
                    if let Some(alias) = alias {
                        self.store(alias, &Value::Unknown);
                    }
                    for (_, child) in kids.iter().filter(|(field, _)| *field == 0) {
                        self.block(Some(*child));
                    }
                    self.core.op(Op::PopExcept);
                }
                PyKind::Else => {
                    self.core.op(Op::JumpForward);
                    self.block(self.field(clause, f.body));
                }
                PyKind::Finally => {
                    self.core.op(Op::BeginFinally);
                    for child in self.core.kids(clause) {
                        self.block(Some(child));
                    }
                    self.core.op(Op::EndFinally);
                }
                _ => self.statement(clause),
            }
        }
    }

    fn with_statement(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let op = if self.core.has_token(node, "async") { Op::BeforeAsyncWith } else { Op::BeforeWith };
        let mut items = 0;
        for clause in self.core.kids(node) {
            if self.kind(clause) != PyKind::WithClause {
                continue;
            }
            for item in self.core.kids(clause) {
                let value = if self.kind(item) == PyKind::WithItem { self.field(item, f.value) } else { Some(item) };
                let Some(value) = value else { continue };
                if self.kind(value) == PyKind::AsPattern {
                    let parts = self.core.fields(value);
                    for (_, expr) in parts.iter().filter(|(field, _)| *field != f.alias) {
                        self.expr(Some(*expr));
                    }
                    self.core.op(op);
                    match parts.iter().find(|(field, _)| *field == f.alias) {
                        Some((_, alias)) => self.store(*alias, &Value::Unknown),
                        None => self.core.op(Op::PopTop),
                    }
                } else {
                    self.expr(Some(value));
                    self.core.op(op);
                    self.core.op(Op::PopTop);
                }
                items += 1;
            }
        }
        self.block(self.field(node, f.body));
        for _ in 0..items {
            self.core.op(Op::EndWith);
        }
    }

    fn match_statement(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let subjects = self.core.field_all(node, f.subject);
        let subjects: SmallVec<[Node<'s>; 2]> = subjects.into_iter().filter(|s| s.is_named()).collect();
        for &subject in &subjects {
            self.expr(Some(subject));
        }
        if subjects.len() > 1 {
            self.core.op_count(Op::BuildTuple, subjects.len());
        }
        let Some(body) = self.field(node, f.body) else { return };
        for case in self.core.kids(body) {
            if self.kind(case) != PyKind::CaseClause {
                self.statement(case);
                continue;
            }
            self.core.op_count(Op::Copy, 1);
            let parts = self.core.fields(case);
            let patterns: SmallVec<[Node<'s>; 2]> =
                parts.iter().filter(|(field, _)| *field == 0).map(|(_, n)| *n).collect();
            for &pattern in &patterns {
                self.pattern(pattern);
            }
            if patterns.len() > 1 {
                self.core.op_count(Op::MatchSequence, patterns.len());
            }
            if let Some((_, guard)) = parts.iter().find(|(field, _)| *field == f.guard) {
                for condition in self.core.kids(*guard) {
                    self.expr(Some(condition));
                }
                self.core.op(Op::PopJumpIfFalse);
            }
            self.block(self.field(case, f.consequence));
            self.core.op(Op::JumpForward);
        }
        self.core.op(Op::PopTop);
    }

    /// A `case` pattern: captures store, values compare, structures match.
    fn pattern(&mut self, node: Node<'s>) {
        nested(
            self,
            |e| {
                e.flat(node);
            },
            |e| e.pattern_inner(node),
        )
    }

    fn pattern_inner(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        match self.kind(node) {
            PyKind::CasePattern => {
                for part in self.core.kids(node) {
                    self.pattern(part);
                }
            }
            PyKind::DottedName => {
                let names = self.core.kids(node);
                if let [single] = names.as_slice() {
                    let name = self.text(*single);
                    if name != "_" {
                        self.core.op_name(Op::StoreName, name);
                        self.core.bind_local(name);
                    }
                } else {
                    self.dotted_load(node);
                    self.core.op_arg(Op::CompareOp, "==");
                }
            }
            PyKind::Identifier | PyKind::SplatPattern => {
                let name = if self.kind(node) == PyKind::Identifier {
                    self.text(node)
                } else {
                    self.first_identifier(node).unwrap_or("_")
                };
                if name != "_" {
                    self.core.op_name(Op::StoreName, name);
                    self.core.bind_local(name);
                }
            }
            PyKind::ClassPattern => {
                let mut arguments = 0;
                for (i, part) in self.core.kids(node).into_iter().enumerate() {
                    if i == 0 && self.kind(part) == PyKind::DottedName {
                        self.dotted_load(part);
                    } else {
                        self.pattern(part);
                        arguments += 1;
                    }
                }
                self.core.op_count(Op::MatchClass, arguments);
            }
            PyKind::ListPattern | PyKind::TuplePattern => {
                let parts = self.core.kids(node);
                for &part in &parts {
                    self.pattern(part);
                }
                self.core.op_count(Op::MatchSequence, parts.len());
            }
            PyKind::DictPattern => {
                let mut keys = 0;
                for (field, part) in self.core.fields(node) {
                    if field == f.key {
                        self.expr(Some(part));
                        keys += 1;
                    } else {
                        self.pattern(part);
                    }
                }
                self.core.op_count(Op::MatchMapping, keys);
            }
            PyKind::KeywordPattern => {
                let parts = self.core.kids(node);
                if let Some(&value) = parts.get(1) {
                    self.pattern(value);
                }
                let keyword = parts.first().map_or("_", |k| self.text(*k));
                self.core.op_name(Op::KwNames, keyword);
            }
            PyKind::UnionPattern => {
                for (i, part) in self.core.kids(node).into_iter().enumerate() {
                    self.pattern(part);
                    if i > 0 {
                        self.core.op_arg(Op::BinaryOp, "|");
                    }
                }
            }
            PyKind::AsPattern => {
                let parts = self.core.fields(node);
                for (_, part) in parts.iter().filter(|(field, _)| *field != f.alias) {
                    self.pattern(*part);
                }
                if let Some((_, alias)) = parts.iter().find(|(field, _)| *field == f.alias) {
                    if let Some(name) = self.first_identifier(*alias) {
                        self.core.op_name(Op::StoreName, name);
                        self.core.bind_local(name);
                    }
                }
            }
            _ => {
                self.expr(Some(node));
                self.core.op_arg(Op::CompareOp, "==");
            }
        }
    }

    fn function_definition(&mut self, node: Node<'s>, span: Node<'s>, decorators: &[Node<'s>]) {
        let f = &self.g.fields;
        let name = self.field(node, f.name).map_or("_", |n| self.text(n));
        for &decorator in decorators {
            for expression in self.core.kids(decorator) {
                self.expr(Some(expression));
            }
        }
        let parameters = self.field(node, f.parameters);
        if let Some(parameters) = parameters {
            self.parameter_defaults(parameters);
        }
        if let Some(returns) = self.field(node, f.return_type) {
            self.expr(Some(returns));
            self.core.op(Op::StoreAnnotation);
        }
        self.core.op_name(Op::MakeFunction, name);
        for _ in decorators {
            self.core.op_count(Op::Call, 1);
        }
        self.core.op_name(Op::StoreName, name);
        self.core.bind_local(name);
        let placement = self.core.function_placement(name);
        let body = self.field(node, f.body);
        in_definition(self, placement, span, Context::Function, |e| {
            if let Some(parameters) = parameters {
                e.bind_parameters(parameters);
            }
            e.block(body);
        });
    }

    /// Default values and annotations of parameters are evaluated where the function is defined.
    fn parameter_defaults(&mut self, parameters: Node<'s>) {
        let f = &self.g.fields;
        for parameter in self.core.kids(parameters) {
            let kind = self.kind(parameter);
            if !matches!(kind, PyKind::DefaultParameter | PyKind::TypedDefaultParameter | PyKind::TypedParameter) {
                continue;
            }
            if let Some(annotation) = self.field(parameter, f.type_) {
                self.expr(Some(annotation));
                self.core.op(Op::StoreAnnotation);
            }
            if let Some(default) = self.field(parameter, f.value) {
                self.expr(Some(default));
            }
        }
    }

    fn bind_parameters(&mut self, parameters: Node<'s>) {
        let f = &self.g.fields;
        for parameter in self.core.kids(parameters) {
            match self.kind(parameter) {
                PyKind::Identifier => {
                    let name = self.text(parameter);
                    self.core.bind_local(name);
                }
                PyKind::DefaultParameter | PyKind::TypedDefaultParameter => {
                    if let Some(name) = self.field(parameter, f.name) {
                        self.bind_pattern_names(name);
                    }
                }
                PyKind::TypedParameter
                | PyKind::ListSplatPattern
                | PyKind::DictionarySplatPattern
                | PyKind::TuplePattern => {
                    for part in self.core.kids(parameter) {
                        if self.kind(part) != PyKind::Type {
                            self.bind_pattern_names(part);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn bind_pattern_names(&mut self, node: Node<'s>) {
        if self.kind(node) == PyKind::Identifier {
            let name = self.text(node);
            self.core.bind_local(name);
        } else {
            for part in self.core.kids(node) {
                self.bind_pattern_names(part);
            }
        }
    }

    fn class_definition(&mut self, node: Node<'s>, span: Node<'s>, decorators: &[Node<'s>]) {
        let f = &self.g.fields;
        let name = self.field(node, f.name).map_or("_", |n| self.text(n));
        for &decorator in decorators {
            for expression in self.core.kids(decorator) {
                self.expr(Some(expression));
            }
        }
        self.core.op(Op::LoadBuildClass);
        self.core.op_name(Op::MakeFunction, name);
        match self.field(node, f.superclasses) {
            Some(arguments) => self.arguments(arguments, &Value::Unknown).emit_call(self.core),
            None => self.core.op_count(Op::Call, 0),
        }
        for _ in decorators {
            self.core.op_count(Op::Call, 1);
        }
        self.core.op_name(Op::StoreName, name);
        self.core.bind_local(name);
        let placement = self.core.class_placement(name);
        let separate = matches!(placement, Placement::Separate { .. });
        let body = self.field(node, f.body);
        let context = Context::Class { name: name.to_string(), separate };
        in_definition(self, placement, span, context, |e| e.block(body));
    }

    fn import(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        for name in self.core.field_all(node, f.name) {
            let (module, alias) = match self.kind(name) {
                PyKind::AliasedImport => (
                    self.field(name, f.name).map(|n| self.dotted(n)).unwrap_or_default(),
                    self.field(name, f.alias).map(|a| self.text(a)),
                ),
                _ => (self.dotted(name), None),
            };
            self.core.op_name(Op::ImportName, &module);
            match alias {
                Some(alias) => {
                    self.core.op_name(Op::StoreName, alias);
                    self.bind_module(alias, &module);
                }
                None => {
                    // `import a.b.c` binds `a`.
                    let top = module.split('.').next().unwrap_or(&module).to_string();
                    self.core.op_name(Op::StoreName, &top);
                    self.bind_module(&top, &top);
                }
            }
        }
    }

    /// Binds an imported module; only paths the pattern database knows are canonicalized.
    fn bind_module(&mut self, name: &str, module: &str) {
        if self.core.apis.is_known_path(module) {
            let root_len = module.find('.').unwrap_or(module.len());
            self.core.bind_import(name, Qual { name: module.to_string(), root_len });
        } else {
            self.core.bind_local(name);
        }
    }

    fn import_from(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let module_node = self.field(node, f.module_name);
        let module = module_node.map(|m| self.dotted(m)).unwrap_or_default();
        let relative = module.starts_with('.');
        self.core.op_name(Op::ImportName, &module);
        let module_value = if relative || !self.core.apis.is_known_path(&module) {
            Value::Unknown
        } else {
            let root_len = module.find('.').unwrap_or(module.len());
            Value::Qual { qual: Qual { name: module.clone(), root_len }, categorized: false, instance: false }
        };
        let names = self.core.field_all(node, f.name);
        if names.is_empty() {
            self.core.op(Op::ImportStar);
            return;
        }
        for name in names {
            let (imported, alias) = match self.kind(name) {
                PyKind::AliasedImport => (
                    self.field(name, f.name).map(|n| self.dotted(n)).unwrap_or_default(),
                    self.field(name, f.alias).map(|a| self.text(a).to_string()),
                ),
                _ => (self.dotted(name), None),
            };
            // `from . import helpers` / `from tests import evil` may import a module
            // (`.helpers`, `tests.evil`); resolution later finds out whether it is one.
            let separator = if module.is_empty() || module.ends_with('.') { "" } else { "." };
            self.core.note_import(&format!("{module}{separator}{imported}"));
            let value = self.core.attr_op(Op::ImportFrom, &module_value, &imported);
            let alias = alias.unwrap_or_else(|| imported.clone());
            self.core.op_name(Op::StoreName, &alias);
            match value {
                Value::Qual { qual, .. } => self.core.bind_import(&alias, qual),
                _ => self.core.bind_local(&alias),
            }
        }
    }

    /// Python 2 `print a, b` / `print >>f, a` as the call it is (`>>f` is the `file=` keyword).
    fn print_statement(&mut self, node: Node<'s>) {
        self.core.load_name("print", true);
        let mut count = 0;
        let mut target = None;
        for child in self.core.kids(node) {
            if self.kind(child) == PyKind::Chevron {
                target = Some(child);
            } else {
                self.expr(Some(child));
                count += 1;
            }
        }
        if let Some(target) = target {
            for stream in self.core.kids(target) {
                self.expr(Some(stream));
            }
            self.core.op_name(Op::KwNames, "file");
            count += 1;
        }
        self.core.op_count(Op::Call, count);
        self.core.op(Op::PopTop);
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn expr(&mut self, node: Option<Node<'s>>) -> Value {
        match node {
            Some(node) => nested(self, |e| e.flat(node), |e| e.expr_inner(node, false, None)),
            None => Value::Unknown,
        }
    }

    fn callee(&mut self, node: Node<'s>) -> Value {
        nested(self, |e| e.flat(node), |e| e.expr_inner(node, true, None))
    }

    /// An expression that may be a bare tuple (`return a, b`), naming lambdas after their target.
    fn value_named(&mut self, node: Node<'s>, hint: Option<&str>) -> Value {
        match self.kind(node) {
            PyKind::ExpressionList | PyKind::PatternList => {
                let parts = self.core.kids(node);
                for &part in &parts {
                    self.expr(Some(part));
                }
                self.core.op_count(Op::BuildTuple, parts.len());
                Value::Unknown
            }
            PyKind::Lambda => nested(self, |e| e.flat(node), |e| e.lambda(node, hint)),
            _ => self.expr(Some(node)),
        }
    }

    fn value(&mut self, node: Node<'s>) -> Value {
        self.value_named(node, None)
    }

    fn value_opt(&mut self, node: Option<Node<'s>>) -> Value {
        node.map_or(Value::Unknown, |n| self.value(n))
    }

    /// How many values an expression puts on the stack as a `raise` operand.
    fn value_count(&mut self, node: Node<'s>) -> usize {
        if self.kind(node) == PyKind::ExpressionList {
            let parts = self.core.kids(node);
            for &part in &parts {
                self.expr(Some(part));
            }
            parts.len()
        } else {
            self.expr(Some(node));
            1
        }
    }

    fn expr_inner(&mut self, node: Node<'s>, callee: bool, hint: Option<&str>) -> Value {
        let f = &self.g.fields;
        match self.kind(node) {
            PyKind::Identifier => {
                let name = self.name(node);
                self.core.load_name(&name, callee)
            }
            PyKind::Attribute => {
                let object = self.expr(self.field(node, f.object));
                let attr = self.field(node, f.attribute).map_or(Cow::Borrowed(""), |a| self.name(a));
                self.core.load_attr(object, &attr, callee)
            }
            PyKind::Call => {
                self.core.fold_payload(node, Language::Python);
                if let Some(value) = self.built_getattr(node, callee) {
                    return value;
                }
                self.call(node)
            }
            PyKind::Subscript => {
                if let Some(value) = self.namespace_subscript(node, callee) {
                    return value;
                }
                self.core.fold_payload(node, Language::Python);
                self.subscript_operands(node);
                self.core.op(Op::BinarySubscr);
                Value::Unknown
            }
            PyKind::Slice => {
                self.slice(node);
                Value::Unknown
            }
            PyKind::BinaryOperator => {
                self.core.fold_payload(node, Language::Python);
                self.binary_chain(node);
                Value::Unknown
            }
            PyKind::BooleanOperator => {
                self.boolean_chain(node);
                Value::Unknown
            }
            PyKind::Comparison => {
                // Operands are the named children, operators the anonymous ones.
                let operators = self.core.anonymous_kinds(node);
                for (i, operand) in self.core.kids(node).into_iter().enumerate() {
                    self.expr(Some(operand));
                    if i > 0 {
                        let operator = operators.get(i - 1).map_or("==", |o| comparison_token(o));
                        self.core.op_arg(Op::CompareOp, operator);
                    }
                }
                Value::Unknown
            }
            PyKind::Not => {
                self.expr(self.field(node, f.argument));
                self.core.op_arg(Op::UnaryOp, "not");
                Value::Unknown
            }
            PyKind::Unary => {
                self.expr(self.field(node, f.argument));
                let operator = self.field(node, f.operator).map_or("-", |o| o.kind());
                self.core.op_arg(Op::UnaryOp, operator);
                Value::Unknown
            }
            PyKind::Conditional => {
                let parts = self.core.kids(node);
                self.expr(parts.get(1).copied());
                self.core.op(Op::PopJumpIfFalse);
                self.expr(parts.first().copied());
                self.core.op(Op::JumpForward);
                self.expr(parts.get(2).copied());
                Value::Unknown
            }
            PyKind::NamedExpression => {
                let value = self.expr(self.field(node, f.value));
                self.core.op_count(Op::Copy, 1);
                let name = self.field(node, f.name).map_or("_", |n| self.text(n));
                self.core.op_name(Op::StoreName, name);
                self.core.bind(name, &value);
                value
            }
            PyKind::Lambda => self.lambda(node, hint),
            PyKind::Await => {
                for part in self.core.kids(node) {
                    self.expr(Some(part));
                }
                self.core.op(Op::GetAwaitable);
                Value::Unknown
            }
            PyKind::Yield => {
                let from = self.core.has_token(node, "from");
                match self.core.kids(node).first() {
                    Some(&value) => {
                        self.value(value);
                    }
                    None => self.core.op_arg(Op::LoadConst, "None"),
                }
                self.core.op(if from { Op::YieldFrom } else { Op::YieldValue });
                Value::Unknown
            }
            PyKind::List | PyKind::Tuple | PyKind::Set | PyKind::ExpressionList | PyKind::PatternList => {
                let op = match self.kind(node) {
                    PyKind::List => Op::BuildList,
                    PyKind::Set => Op::BuildSet,
                    _ => Op::BuildTuple,
                };
                let parts = self.core.kids(node);
                for &part in &parts {
                    self.element(part);
                }
                self.core.op_count(op, parts.len());
                Value::Unknown
            }
            PyKind::Dictionary => {
                let mut pairs = 0;
                for part in self.core.kids(node) {
                    if self.kind(part) == PyKind::Pair {
                        self.expr(self.field(part, f.key));
                        self.expr(self.field(part, f.value));
                        pairs += 1;
                    } else {
                        self.element(part);
                    }
                }
                self.core.op_count(Op::BuildMap, pairs);
                Value::Unknown
            }
            PyKind::Pair => {
                self.expr(self.field(node, f.key));
                self.expr(self.field(node, f.value));
                Value::Unknown
            }
            PyKind::ListComprehension
            | PyKind::SetComprehension
            | PyKind::DictionaryComprehension
            | PyKind::GeneratorExpression => {
                self.comprehension(node);
                Value::Unknown
            }
            PyKind::ListSplat | PyKind::ParenthesizedListSplat | PyKind::DictionarySplat => {
                self.element(node);
                Value::Unknown
            }
            PyKind::Parenthesized => match self.core.kids(node).first() {
                Some(&inner) => nested(self, |e| e.flat(inner), |e| e.expr_inner(inner, callee, hint)),
                None => {
                    self.core.op_count(Op::BuildTuple, 0);
                    Value::Unknown
                }
            },
            PyKind::String | PyKind::ConcatenatedString => self.string(node),
            PyKind::Integer | PyKind::Float => {
                self.core.load_number(self.text(node));
                Value::Unknown
            }
            PyKind::True => self.constant("True"),
            PyKind::False => self.constant("False"),
            PyKind::None => self.constant("None"),
            PyKind::Ellipsis => self.constant("..."),
            PyKind::KeywordArgument => self.expr(self.field(node, f.value)),
            PyKind::DottedName => {
                self.dotted_load(node);
                Value::Unknown
            }
            PyKind::AsPattern => {
                let parts = self.core.fields(node);
                let mut value = Value::Unknown;
                for (_, part) in parts.iter().filter(|(field, _)| *field != f.alias) {
                    value = self.expr(Some(*part));
                }
                if let Some((_, alias)) = parts.iter().find(|(field, _)| *field == f.alias) {
                    self.store(*alias, &Value::Unknown);
                }
                value
            }
            PyKind::Comment => Value::Unknown,
            _ => {
                self.generic(node);
                Value::Unknown
            }
        }
    }

    fn constant(&mut self, token: &str) -> Value {
        self.core.op_arg(Op::LoadConst, token);
        Value::Unknown
    }

    /// A list/tuple/set element or call argument that may be starred.
    fn element(&mut self, node: Node<'s>) {
        match self.kind(node) {
            PyKind::ListSplat | PyKind::ParenthesizedListSplat => {
                for inner in self.core.kids(node) {
                    self.expr(Some(inner));
                }
                self.core.op_count(Op::ListExtend, 1);
            }
            PyKind::DictionarySplat => {
                for inner in self.core.kids(node) {
                    self.expr(Some(inner));
                }
                self.core.op_count(Op::DictMerge, 1);
            }
            _ => {
                self.expr(Some(node));
            }
        }
    }

    /// `a + b - c`: left-deep chains are walked in a loop, so long chains need no recursion.
    fn binary_chain(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut pending: SmallVec<[(Option<Node<'s>>, &'s str); 8]> = SmallVec::new();
        let mut current = node;
        while self.kind(current) == PyKind::BinaryOperator {
            let operator = self.field(current, f.operator).map_or("?", |o| o.kind());
            pending.push((self.field(current, f.right), operator));
            match self.field(current, f.left) {
                Some(left) => current = left,
                None => break,
            }
        }
        self.expr(Some(current));
        for (right, operator) in pending.into_iter().rev() {
            self.expr(right);
            self.core.op_arg(Op::BinaryOp, operator);
        }
    }

    fn boolean_chain(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut pending: SmallVec<[(Option<Node<'s>>, Op); 8]> = SmallVec::new();
        let mut current = node;
        while self.kind(current) == PyKind::BooleanOperator {
            let op = match self.field(current, f.operator).map(|o| o.kind()) {
                Some("or") => Op::JumpIfTrueOrPop,
                _ => Op::JumpIfFalseOrPop,
            };
            pending.push((self.field(current, f.right), op));
            match self.field(current, f.left) {
                Some(left) => current = left,
                None => break,
            }
        }
        self.expr(Some(current));
        for (right, op) in pending.into_iter().rev() {
            self.core.op(op);
            self.expr(right);
        }
    }

    fn call(&mut self, node: Node<'s>) -> Value {
        let f = &self.g.fields;
        let callee = match self.field(node, f.function) {
            Some(function) => self.callee(function),
            None => Value::Unknown,
        };
        if callee.qual().is_some_and(|q| q.name == "marshal.loads") {
            // What its literals decode to is compiled code: reported, never decoded further.
            self.core.marshal_until = self.core.marshal_until.max(node.end_byte());
        }
        let Some(arguments) = self.field(node, f.arguments) else {
            self.core.op_count(Op::Call, 0);
            return Value::Unknown;
        };
        if self.kind(arguments) == PyKind::GeneratorExpression {
            self.comprehension(arguments);
            self.core.op_count(Op::Call, 1);
            return self.core.call_result(&callee, None, None);
        }
        self.core.enter_call(&callee, arguments);
        let call = self.arguments(arguments, &callee);
        call.emit_call(self.core);
        let second = match (&call.first, &call.second) {
            (Some(first), Some(Value::Str(name))) => Some((first, name.as_str())),
            _ => None,
        };
        self.core.call_result(&callee, call.first.as_ref().and_then(|v| v.string()), second)
    }

    /// `getattr(X, name)` whose name is built at run time from constants (`'sys' + 'tem'`,
    /// `'metsys'[::-1]`, `'{}{}'.format(...)`, a name bound to a constant) is `X.name`, and is
    /// emitted as the plain attribute would be: building the name must not hide what it
    /// names. With a plain literal it stays a `getattr` call, as the model learned it.
    fn built_getattr(&mut self, node: Node<'s>, callee: bool) -> Option<Value> {
        let f = &self.g.fields;
        let function = self.field(node, f.function)?;
        if self.kind(function) != PyKind::Identifier || self.text(function) != "getattr" {
            return None;
        }
        let arguments = self.field(node, f.arguments)?;
        let parts = self.core.kids(arguments);
        let [object, name] = parts[..] else { return None };
        if !matches!(
            self.kind(name),
            PyKind::BinaryOperator
                | PyKind::Call
                | PyKind::Subscript
                | PyKind::Identifier
                | PyKind::String
                | PyKind::Parenthesized
        ) || matches!(self.kind(object), PyKind::KeywordArgument | PyKind::ListSplat | PyKind::DictionarySplat)
        {
            return None;
        }
        let name = self.core.built_string(name, Language::Python).filter(|n| is_identifier(n))?;
        Some(self.member_of(object, &name, callee))
    }

    /// `object.name` for a lookup by name: on a namespace of globals (`__builtins__`,
    /// `globals()`, `vars()`) the name itself, else the attribute of the object.
    fn member_of(&mut self, object: Node<'s>, name: &str, callee: bool) -> Value {
        match self.namespace(object) {
            Some(Namespace::Globals) => self.core.load_name(name, callee),
            Some(Namespace::Modules) => self.core.load_name(name.split('.').next().unwrap_or(name), callee),
            Some(Namespace::MembersOf(inner)) => {
                let value = self.expr(Some(inner));
                self.core.load_attr(value, name, callee)
            }
            None => {
                let value = self.expr(Some(object));
                self.core.load_attr(value, name, callee)
            }
        }
    }

    /// What a subscripted or `getattr`-ed object is, when it is a table of names: the module's
    /// or the builtins' globals, `sys.modules`, or the attributes of some object
    /// (`vars(os)`, `os.__dict__`).
    fn namespace(&mut self, node: Node<'s>) -> Option<Namespace<'s>> {
        let f = &self.g.fields;
        let text: String = self.text(node).chars().filter(|c| !c.is_whitespace()).collect();
        match text.as_str() {
            "globals()"
            | "locals()"
            | "vars()"
            | "__builtins__"
            | "__builtins__.__dict__"
            | "builtins.__dict__"
            | "__builtin__.__dict__"
            | "vars(__builtins__)"
            | "vars(builtins)"
            | "builtins"
            | "__builtin__" => {
                return Some(Namespace::Globals);
            }
            "sys.modules" => return Some(Namespace::Modules),
            _ => {}
        }
        match self.kind(node) {
            // `os.__dict__`
            PyKind::Attribute if self.field(node, f.attribute).is_some_and(|a| self.text(a) == "__dict__") => {
                self.field(node, f.object).map(Namespace::MembersOf)
            }
            // `vars(os)`
            PyKind::Call => {
                let function = self.field(node, f.function)?;
                if self.kind(function) != PyKind::Identifier || self.text(function) != "vars" {
                    return None;
                }
                let arguments = self.field(node, f.arguments)?;
                match self.core.kids(arguments)[..] {
                    [only] if matches!(self.kind(only), PyKind::Identifier | PyKind::Attribute) => {
                        Some(Namespace::MembersOf(only))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `globals()['exec']`, `__builtins__.__dict__['ex' + 'ec']`, `vars(os)['system']`,
    /// `sys.modules['os']`: a lookup in a table of names is the name it looks up, emitted as
    /// the plain name or attribute would be.
    fn namespace_subscript(&mut self, node: Node<'s>, callee: bool) -> Option<Value> {
        let f = &self.g.fields;
        let object = self.field(node, f.value)?;
        let namespace = self.namespace(object)?;
        let keys: SmallVec<[Node<'s>; 2]> = self.core.kids(node).into_iter().filter(|k| *k != object).collect();
        let [key] = keys[..] else { return None };
        let plain = if self.kind(key) == PyKind::String { self.plain_string(key) } else { None };
        let name = match plain {
            Some(plain) => plain.into_owned(),
            None => self.core.built_string(key, Language::Python)?,
        };
        let valid = match namespace {
            Namespace::Modules => name.split('.').all(is_identifier),
            _ => is_identifier(&name),
        };
        valid.then(|| self.member_of(object, &name, callee))
    }

    /// Emits call arguments; `getattr(obj, 'name')`-style names resolve on `obj`.
    fn arguments(&mut self, node: Node<'s>, callee: &Value) -> CallShape {
        let f = &self.g.fields;
        let attribute_by_name =
            callee.qual().is_some_and(|q| matches!(q.name.as_str(), "getattr" | "setattr" | "hasattr" | "delattr"));
        let mut shape = CallShape::default();
        for argument in self.core.kids(node) {
            match self.kind(argument) {
                PyKind::KeywordArgument => {
                    self.expr(self.field(argument, f.value));
                    let name = self.field(argument, f.name).map_or("_", |n| self.text(n));
                    shape.keywords.push(name.to_string());
                }
                PyKind::ListSplat | PyKind::DictionarySplat | PyKind::ParenthesizedListSplat => {
                    self.element(argument);
                    shape.starred = true;
                }
                _ => {
                    let value = match (shape.count, &shape.first) {
                        (1, Some(object)) if attribute_by_name && self.kind(argument) == PyKind::String => {
                            let object = object.clone();
                            let name = self.plain_string_value(argument);
                            match name {
                                Some(name) => {
                                    self.core.load_attr_string(&object, &name);
                                    Value::Str(name)
                                }
                                None => self.expr(Some(argument)),
                            }
                        }
                        _ => {
                            let value = self.expr(Some(argument));
                            // `importlib.import_module('o' + 's')`: the module a built name names.
                            match value {
                                Value::Unknown if shape.count < 2 && !matches!(self.kind(argument), PyKind::String) => {
                                    self.core
                                        .built_string(argument, Language::Python)
                                        .map_or(Value::Unknown, Value::Str)
                                }
                                other => other,
                            }
                        }
                    };
                    match shape.count {
                        0 => shape.first = Some(value),
                        1 => shape.second = Some(value),
                        _ => {}
                    }
                }
            }
            shape.count += 1;
        }
        shape
    }

    fn subscript_operands(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let value = self.field(node, f.value);
        self.expr(value);
        let parts: SmallVec<[Node<'s>; 2]> = self.core.kids(node).into_iter().filter(|k| Some(*k) != value).collect();
        for &part in &parts {
            self.expr(Some(part));
        }
        if parts.len() > 1 {
            self.core.op_count(Op::BuildTuple, parts.len());
        }
    }

    /// `a:b:c` with missing parts as `None`.
    fn slice(&mut self, node: Node<'s>) {
        let mut segments: SmallVec<[Option<Node<'s>>; 3]> = SmallVec::from_elem(None, 1);
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if !child.is_named() && child.kind() == ":" {
                    segments.push(None);
                } else if child.is_named() && !child.is_extra() {
                    *segments.last_mut().unwrap() = Some(child);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        let count = segments.len();
        for segment in segments {
            match segment {
                Some(part) => {
                    self.expr(Some(part));
                }
                None => self.core.op_arg(Op::LoadConst, "None"),
            }
        }
        self.core.op_count(Op::BuildSlice, count);
    }

    fn comprehension(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let kind = self.kind(node);
        match kind {
            PyKind::ListComprehension => self.core.op_count(Op::BuildList, 0),
            PyKind::SetComprehension => self.core.op_count(Op::BuildSet, 0),
            PyKind::DictionaryComprehension => self.core.op_count(Op::BuildMap, 0),
            _ => {}
        }
        self.core.push_scope();
        let parts = self.core.fields(node);
        let mut loops = 0;
        for &(field, clause) in &parts {
            if field == f.body {
                continue;
            }
            match self.kind(clause) {
                PyKind::ForInClause => {
                    let iterables: SmallVec<[Node<'s>; 2]> =
                        self.core.field_all(clause, f.right).into_iter().filter(|n| n.is_named()).collect();
                    for &iterable in &iterables {
                        self.expr(Some(iterable));
                    }
                    if iterables.len() > 1 {
                        self.core.op_count(Op::BuildTuple, iterables.len());
                    }
                    let is_async = self.core.has_token(clause, "async");
                    self.core.op(if is_async { Op::GetAiter } else { Op::GetIter });
                    self.core.op(Op::ForIter);
                    if let Some(left) = self.field(clause, f.left) {
                        self.store(left, &Value::Unknown);
                    }
                    loops += 1;
                }
                PyKind::IfClause => {
                    for condition in self.core.kids(clause) {
                        self.expr(Some(condition));
                    }
                    self.core.op(Op::PopJumpIfFalse);
                }
                _ => {
                    self.expr(Some(clause));
                }
            }
        }
        if let Some(body) = self.field(node, f.body) {
            match kind {
                PyKind::DictionaryComprehension => {
                    self.expr(self.field(body, f.key));
                    self.expr(self.field(body, f.value));
                    self.core.op_count(Op::MapAdd, 1);
                }
                PyKind::ListComprehension => {
                    self.expr(Some(body));
                    self.core.op_count(Op::ListAppend, 1);
                }
                PyKind::SetComprehension => {
                    self.expr(Some(body));
                    self.core.op_count(Op::SetAdd, 1);
                }
                _ => {
                    self.expr(Some(body));
                    self.core.op(Op::YieldValue);
                }
            }
        }
        for _ in 0..loops {
            self.core.op(Op::JumpBackward);
            self.core.op(Op::EndFor);
        }
        self.core.pop_scope();
    }

    fn lambda(&mut self, node: Node<'s>, hint: Option<&str>) -> Value {
        let f = &self.g.fields;
        let parameters = self.field(node, f.parameters);
        if let Some(parameters) = parameters {
            self.parameter_defaults(parameters);
        }
        self.core.op_arg(Op::MakeFunction, "<lambda>");
        let placement = self.core.lambda_placement(hint);
        let body = self.field(node, f.body);
        in_definition(self, placement, node, Context::Function, |e| {
            if let Some(parameters) = parameters {
                e.bind_parameters(parameters);
            }
            e.expr(body);
            e.core.op(Op::ReturnValue);
        });
        Value::Unknown
    }

    // -----------------------------------------------------------------------------------------
    // Strings

    fn string(&mut self, node: Node<'s>) -> Value {
        if self.kind(node) == PyKind::String {
            if let Some(value) = self.plain_string(node) {
                self.core.note_payload(node, &value);
                self.core.load_string(&value);
                return if value.len() <= 256 { Value::Str(value.into_owned()) } else { Value::Unknown };
            }
        }
        let mut parts = StringParts { template: String::new(), interpolations: SmallVec::new() };
        if self.kind(node) == PyKind::ConcatenatedString {
            for piece in self.core.kids(node) {
                self.collect_string(piece, &mut parts);
            }
        } else {
            self.collect_string(node, &mut parts);
        }
        if parts.interpolations.is_empty() {
            self.core.note_payload(node, &parts.template);
            self.core.load_string(&parts.template);
            return if parts.template.len() <= 256 { Value::Str(parts.template) } else { Value::Unknown };
        }
        self.core.literal_stats.add(parts.template.as_bytes());
        self.core.load_string(&parts.template);
        let count = parts.interpolations.len();
        for interpolation in parts.interpolations {
            self.interpolation(interpolation);
        }
        self.core.op_count(Op::BuildString, count + 1);
        Value::Unknown
    }

    /// The value of a string literal that cannot hold interpolations, read from its text alone
    /// (no walk over its child nodes). `None` for f-strings and malformed literals.
    fn plain_string(&self, node: Node<'s>) -> Option<std::borrow::Cow<'s, str>> {
        python_literal(self.text(node))
    }

    fn interpolation(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        self.value_opt(self.field(node, f.expression));
        self.core.op(Op::FormatValue);
        // Nested replacement fields in the format spec (`{x:{width}}`) are code too.
        if let Some(spec) = self.field(node, f.format_specifier) {
            for inner in self.core.kids(spec) {
                if self.kind(inner) == PyKind::FormatPart {
                    self.value_opt(self.field(inner, f.expression));
                    self.core.op(Op::FormatValue);
                }
            }
        }
    }

    /// Appends one `string` node's decoded text (interpolations as `{}`) to `parts`.
    fn collect_string(&mut self, node: Node<'s>, parts: &mut StringParts<'s>) {
        let mut prefix = "";
        let mut content_start = node.start_byte();
        let mut content_end = node.end_byte();
        let mut pieces: SmallVec<[Node<'s>; 4]> = SmallVec::new();
        for child in self.core.kids(node) {
            match self.kind(child) {
                PyKind::StringStart => {
                    prefix = self.text(child).trim_end_matches(['\'', '"']);
                    content_start = child.end_byte();
                }
                PyKind::StringEnd => content_end = child.start_byte(),
                PyKind::Interpolation => pieces.push(child),
                _ => {}
            }
        }
        let lower = prefix.to_ascii_lowercase();
        let raw = lower.contains('r');
        let bytes = lower.contains('b');
        let formatted = lower.contains('f') || lower.contains('t');
        let mut position = content_start;
        for interpolation in pieces {
            self.push_decoded(parts, position, interpolation.start_byte(), raw, bytes, formatted);
            parts.template.push_str("{}");
            parts.interpolations.push(interpolation);
            position = interpolation.end_byte();
        }
        self.push_decoded(parts, position, content_end.max(position), raw, bytes, formatted);
    }

    fn push_decoded(
        &self,
        parts: &mut StringParts<'s>,
        start: usize,
        end: usize,
        raw: bool,
        bytes: bool,
        formatted: bool,
    ) {
        let body = self.core.src.get(start..end).unwrap_or("");
        let decoded = decode_python(body, raw, bytes);
        if formatted && (decoded.contains("{{") || decoded.contains("}}")) {
            parts.template.push_str(&decoded.replace("{{", "{").replace("}}", "}"));
        } else {
            parts.template.push_str(&decoded);
        }
    }

    /// The value of a string literal without interpolations (for `getattr(x, 'name')`).
    fn plain_string_value(&mut self, node: Node<'s>) -> Option<String> {
        let mut parts = StringParts { template: String::new(), interpolations: SmallVec::new() };
        self.collect_string(node, &mut parts);
        parts.interpolations.is_empty().then_some(parts.template)
    }

    // -----------------------------------------------------------------------------------------
    // Names

    /// `a.b.c` (a `dotted_name` or `relative_import`) as text without spaces.
    fn dotted(&mut self, node: Node<'s>) -> String {
        match self.kind(node) {
            PyKind::DottedName => {
                let names = self.core.kids(node);
                let mut out = String::new();
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(self.text(*name));
                }
                out
            }
            PyKind::RelativeImport => {
                let mut out = String::new();
                for part in self.core.kids(node) {
                    match self.kind(part) {
                        PyKind::ImportPrefix => out.push_str(self.text(part).trim()),
                        _ => {
                            let name = self.dotted(part);
                            out.push_str(&name);
                        }
                    }
                }
                out
            }
            _ => self.text(node).split_whitespace().collect(),
        }
    }

    /// Loads `a.b.c` from a `dotted_name` (class patterns, value patterns).
    fn dotted_load(&mut self, node: Node<'s>) {
        let names = self.core.kids(node);
        let mut value = Value::Unknown;
        for (i, name) in names.iter().enumerate() {
            let text = self.text(*name);
            value = if i == 0 { self.core.load_name(text, false) } else { self.core.load_attr(value, text, false) };
        }
    }

    fn first_identifier(&self, node: Node<'s>) -> Option<&'s str> {
        if self.g.kind(node) == PyKind::Identifier {
            return Some(self.text(node));
        }
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                if let Some(name) = self.first_identifier(cursor.node()) {
                    return Some(name);
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        None
    }

    // -----------------------------------------------------------------------------------------
    // Fallbacks

    /// A node without a dedicated rule (or an `ERROR` node): its children, in order.
    fn generic(&mut self, node: Node<'s>) {
        for child in self.core.kids(node) {
            if is_statement(self.kind(child)) {
                self.statement(child);
            } else {
                self.expr(Some(child));
            }
        }
    }

    /// Past the nesting limit: the subtree's names and constants, in order, without recursion.
    fn flat(&mut self, node: Node<'s>) -> Value {
        self.core.op(Op::DeepNesting);
        let mut cursor = node.walk();
        'visit: loop {
            let current = cursor.node();
            match self.g.kind(current) {
                PyKind::Identifier => {
                    let name = self.text(current);
                    self.core.load_name(name, false);
                }
                PyKind::Integer | PyKind::Float => self.core.load_number(self.text(current)),
                PyKind::StringContent => {
                    let body = self.text(current);
                    self.core.load_string(&decode_python(body, false, false));
                }
                _ => {}
            }
            if cursor.goto_first_child() {
                continue;
            }
            // The cursor is rooted at `node`: climbing past it fails, which ends the walk.
            loop {
                if cursor.goto_next_sibling() {
                    continue 'visit;
                }
                if !cursor.goto_parent() {
                    break 'visit;
                }
            }
        }
        Value::Unknown
    }
}

/// The shape of a call's argument list, for `KW_NAMES` and `CALL n`.
#[derive(Default)]
pub(super) struct CallShape {
    pub count: usize,
    pub keywords: Vec<String>,
    pub starred: bool,
    pub first: Option<Value>,
    pub second: Option<Value>,
}

impl CallShape {
    pub fn emit_call(&self, core: &mut Core<'_>) {
        if !self.keywords.is_empty() {
            core.op(Op::KwNames);
            for keyword in &self.keywords {
                core.push_arg_name(keyword);
            }
        }
        core.op_count(if self.starred { Op::CallFunctionEx } else { Op::Call }, self.count);
    }
}

/// A table of names that a subscript or `getattr` looks a name up in.
#[derive(Clone, Copy)]
enum Namespace<'s> {
    /// The globals and builtins: the name is a plain name.
    Globals,
    /// `sys.modules`: the name is a module.
    Modules,
    /// `vars(x)`, `x.__dict__`: the name is an attribute of `x`.
    MembersOf(Node<'s>),
}

/// A Python identifier (ASCII, or any letters: NFKC-normalised names are checked by the parser).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn is_statement(kind: PyKind) -> bool {
    use PyKind::*;
    matches!(
        kind,
        ExpressionStatement
            | Assignment
            | AugmentedAssignment
            | If
            | For
            | While
            | Try
            | With
            | Match
            | FunctionDefinition
            | ClassDefinition
            | DecoratedDefinition
            | Return
            | Raise
            | Assert
            | Delete
            | Global
            | Nonlocal
            | Pass
            | Break
            | Continue
            | Import
            | ImportFrom
            | FutureImport
            | Print
            | Exec
            | TypeAlias
            | Block
    )
}

fn comparison_token(operator: &str) -> &'static str {
    match operator {
        "<" => "<",
        "<=" => "<=",
        ">" => ">",
        ">=" => ">=",
        "==" => "==",
        "!=" | "<>" => "!=",
        "in" => "in",
        "not in" => "not_in",
        "is" => "is",
        "is not" => "is_not",
        _ => "==",
    }
}

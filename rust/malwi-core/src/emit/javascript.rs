//! JavaScript (and TypeScript, TSX) parse trees to malwicode.

use smallvec::SmallVec;
use tree_sitter::Node;

use super::grammar::{self, JsGrammar, JsKind};
use super::{in_definition, nested, Context, Core, Emit, Placement, Qual, Value};
use crate::language::Language;
use crate::literals::decode_javascript;
use crate::malwicode::Op;

pub(crate) struct JsEmitter<'c, 's> {
    core: &'c mut Core<'s>,
    g: &'static JsGrammar,
}

impl<'s> Emit<'s> for JsEmitter<'_, 's> {
    fn core(&mut self) -> &mut Core<'s> {
        self.core
    }
}

/// One step of a member/call chain, applied left to right after its base.
enum Link<'s> {
    Member(Node<'s>),
    Subscript(Node<'s>),
    Call(Option<Node<'s>>),
}

/// Parameters that module wrappers (browserify, webpack) pass in: still the real thing.
const WRAPPER_PARAMETERS: &[&str] = &["require", "module", "exports"];

impl<'c, 's> JsEmitter<'c, 's> {
    pub fn new(core: &'c mut Core<'s>, language: Language) -> Self {
        JsEmitter { core, g: grammar::javascript(language) }
    }

    #[inline]
    fn kind(&self, node: Node<'_>) -> JsKind {
        self.g.kind(node)
    }

    fn field(&self, node: Node<'s>, field: u16) -> Option<Node<'s>> {
        node.child_by_field_id(field)
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.core.text(node)
    }

    pub fn program(&mut self, root: Node<'s>) {
        self.statements(root);
    }

    fn statements(&mut self, node: Node<'s>) {
        for child in self.core.kids(node) {
            self.statement(child);
        }
    }

    fn statement_opt(&mut self, node: Option<Node<'s>>) {
        if let Some(node) = node {
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
            JsKind::Program | JsKind::Block | JsKind::ClassStaticBlock => {
                let body = self.field(node, f.body).unwrap_or(node);
                self.statements(body);
            }
            JsKind::HashBang | JsKind::Empty | JsKind::Comment | JsKind::TypeOnly => {}
            JsKind::ExpressionStatement => {
                for child in self.core.kids(node) {
                    self.expression_statement(child);
                }
            }
            JsKind::VariableDeclaration => {
                for declarator in self.core.kids(node) {
                    if self.kind(declarator) == JsKind::VariableDeclarator {
                        self.declarator(declarator);
                    }
                }
            }
            JsKind::FunctionDeclaration => self.function_declaration(node),
            JsKind::ClassDeclaration => {
                self.class(node, None);
                let name = self.field(node, f.name).map_or("_", |n| self.text(n));
                self.core.op_name(Op::StoreName, name);
                self.core.bind_local(name);
            }
            JsKind::If => self.if_chain(node),
            JsKind::For => {
                match self.field(node, f.initializer) {
                    Some(init) if matches!(self.kind(init), JsKind::VariableDeclaration | JsKind::Empty) => {
                        self.statement(init)
                    }
                    Some(init) => self.discard(init),
                    None => {}
                }
                for condition in self.core.field_all(node, f.condition) {
                    if condition.is_named() && self.kind(condition) != JsKind::Empty {
                        let condition = self.expression_of(condition);
                        self.expr(condition);
                        self.core.op(Op::PopJumpIfFalse);
                    }
                }
                self.statement_opt(self.field(node, f.body));
                if let Some(increment) = self.field(node, f.increment) {
                    self.discard(increment);
                }
                self.core.op(Op::JumpBackward);
            }
            JsKind::ForIn => {
                self.expr(self.field(node, f.right));
                let over_keys = self.field(node, f.operator).is_some_and(|o| o.kind() == "in");
                let op = if self.core.has_token(node, "await") {
                    Op::GetAiter
                } else if over_keys {
                    Op::GetKeys
                } else {
                    Op::GetIter
                };
                self.core.op(op);
                self.core.op(Op::ForIter);
                if let Some(left) = self.field(node, f.left) {
                    self.store(left, &Value::Unknown);
                }
                self.statement_opt(self.field(node, f.body));
                self.core.op(Op::JumpBackward);
                self.core.op(Op::EndFor);
            }
            JsKind::While => {
                self.expr(self.field(node, f.condition));
                self.core.op(Op::PopJumpIfFalse);
                self.statement_opt(self.field(node, f.body));
                self.core.op(Op::JumpBackward);
            }
            JsKind::DoWhile => {
                self.statement_opt(self.field(node, f.body));
                self.expr(self.field(node, f.condition));
                self.core.op(Op::PopJumpIfTrue);
            }
            JsKind::Try => {
                self.core.op(Op::SetupFinally);
                self.statement_opt(self.field(node, f.body));
                self.core.op(Op::PopBlock);
                if let Some(handler) = self.field(node, f.handler) {
                    self.core.op(Op::PushExcInfo);
                    if let Some(parameter) = self.field(handler, f.parameter) {
                        self.store(parameter, &Value::Unknown);
                    }
                    self.statement_opt(self.field(handler, f.body));
                    self.core.op(Op::PopExcept);
                }
                if let Some(finalizer) = self.field(node, f.finalizer) {
                    self.core.op(Op::BeginFinally);
                    self.statement_opt(self.field(finalizer, f.body));
                    self.core.op(Op::EndFinally);
                }
            }
            JsKind::Switch => {
                self.expr(self.field(node, f.value));
                if let Some(body) = self.field(node, f.body) {
                    for case in self.core.kids(body) {
                        match self.kind(case) {
                            JsKind::SwitchCase => {
                                self.core.op_count(Op::Copy, 1);
                                self.expr(self.field(case, f.value));
                                self.core.op_arg(Op::CompareOp, "===");
                                self.core.op(Op::PopJumpIfFalse);
                                for statement in self.core.field_all(case, f.body) {
                                    self.statement(statement);
                                }
                            }
                            JsKind::SwitchDefault => {
                                self.core.op(Op::JumpForward);
                                for statement in self.core.field_all(case, f.body) {
                                    self.statement(statement);
                                }
                            }
                            _ => self.statement(case),
                        }
                    }
                }
                self.core.op(Op::PopTop);
            }
            JsKind::Return => {
                match self.core.kids(node).first() {
                    Some(&value) => {
                        self.expr(Some(value));
                    }
                    None => self.core.op_arg(Op::LoadConst, "None"),
                }
                self.core.op(Op::ReturnValue);
            }
            JsKind::Throw => {
                for value in self.core.kids(node) {
                    self.expr(Some(value));
                }
                self.core.op_count(Op::RaiseVarargs, 1);
            }
            JsKind::Break => self.core.op(Op::BreakLoop),
            JsKind::Continue => self.core.op(Op::ContinueLoop),
            JsKind::Debugger => self.core.op(Op::Debugger),
            JsKind::Labeled => self.statement_opt(self.field(node, f.body)),
            JsKind::With => {
                self.expr(self.field(node, f.object));
                self.core.op(Op::BeforeWith);
                self.core.op(Op::PopTop);
                self.statement_opt(self.field(node, f.body));
                self.core.op(Op::EndWith);
            }
            JsKind::Import => self.import(node),
            JsKind::Export => self.export(node),
            JsKind::Namespace => {
                if let Some(body) = self.field(node, f.body) {
                    self.statements(body);
                }
            }
            JsKind::Enum => {
                let mut members = 0;
                if let Some(body) = self.field(node, f.body) {
                    for member in self.core.kids(body) {
                        let key = self.field(member, f.name).unwrap_or(member);
                        self.property_key(key);
                        match self.field(member, f.value) {
                            Some(value) => {
                                self.expr(Some(value));
                            }
                            None => self.core.op_arg(Op::LoadConst, "None"),
                        }
                        members += 1;
                    }
                }
                self.core.op_count(Op::BuildMap, members);
                let name = self.field(node, f.name).map_or("_", |n| self.text(n));
                self.core.op_name(Op::StoreName, name);
                self.core.bind_local(name);
            }
            JsKind::MethodDefinition | JsKind::FieldDefinition => self.class_member(node),
            _ => self.discard(node),
        }
    }

    /// An expression evaluated for its effect. Assignments are statements here (no `COPY`).
    fn expression_statement(&mut self, node: Node<'s>) {
        match self.kind(node) {
            JsKind::Assignment => {
                self.assignment(node, false);
            }
            JsKind::AugmentedAssignment => self.augmented_assignment(node),
            JsKind::Update => self.update(node),
            JsKind::Sequence => {
                for part in self.core.kids(node) {
                    self.expression_statement(part);
                }
            }
            JsKind::Comment => {}
            _ => self.discard(node),
        }
    }

    fn discard(&mut self, node: Node<'s>) {
        if matches!(
            self.kind(node),
            JsKind::Assignment | JsKind::AugmentedAssignment | JsKind::Update | JsKind::Sequence
        ) {
            return self.expression_statement(node);
        }
        self.expr(Some(node));
        self.core.op(Op::PopTop);
    }

    /// `if / else if / else` chains are flattened in a loop: generated code nests them deeply.
    fn if_chain(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut current = node;
        loop {
            self.expr(self.field(current, f.condition));
            self.core.op(Op::PopJumpIfFalse);
            self.statement_opt(self.field(current, f.consequence));
            let Some(alternative) = self.field(current, f.alternative) else { break };
            self.core.op(Op::JumpForward);
            let inner = self.core.kids(alternative).first().copied();
            match inner {
                Some(next) if self.kind(next) == JsKind::If => current = next,
                other => {
                    self.statement_opt(other);
                    break;
                }
            }
        }
    }

    fn declarator(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let Some(name) = self.field(node, f.name) else { return };
        let hint = (self.kind(name) == JsKind::Identifier).then(|| self.text(name));
        let value = match self.field(node, f.value) {
            Some(value) => self.expr_named(value, hint),
            None => {
                self.core.op_arg(Op::LoadConst, "None");
                Value::Unknown
            }
        };
        self.store(name, &value);
    }

    fn function_declaration(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let name = self.field(node, f.name).map_or("_", |n| self.text(n));
        let parameters = self.field(node, f.parameters);
        if let Some(parameters) = parameters {
            self.parameter_defaults(parameters);
        }
        self.core.op_name(Op::MakeFunction, name);
        self.core.op_name(Op::StoreName, name);
        self.core.bind_local(name);
        let placement = self.core.function_placement(name);
        let body = self.field(node, f.body);
        in_definition(self, placement, node, Context::Function, |e| {
            if let Some(parameters) = parameters {
                e.bind_parameters(parameters);
            }
            if let Some(body) = body {
                e.statements(body);
            }
        });
    }

    /// A class declaration or expression; leaves the class on the stack.
    fn class(&mut self, node: Node<'s>, hint: Option<&str>) {
        let f = &self.g.fields;
        let name = self.field(node, f.name).map(|n| self.text(n)).or(hint).unwrap_or("<class>");
        let decorators = self.core.field_all(node, f.decorator);
        for &decorator in &decorators {
            self.decorator(decorator);
        }
        self.core.op(Op::LoadBuildClass);
        self.core.op_name(Op::MakeFunction, name);
        let mut bases = 0;
        for child in self.core.kids(node) {
            if self.kind(child) == JsKind::ClassHeritage {
                for base in self.core.kids(child) {
                    if self.kind(base) != JsKind::TypeOnly {
                        self.expr(Some(base));
                        bases += 1;
                    }
                }
            }
        }
        self.core.op_count(Op::Call, bases);
        for _ in &decorators {
            self.core.op_count(Op::Call, 1);
        }
        let placement = self.core.class_placement(name);
        let separate = matches!(placement, Placement::Separate { .. });
        let body = self.field(node, f.body);
        let context = Context::Class { name: name.to_string(), separate };
        in_definition(self, placement, node, context, |e| {
            if let Some(body) = body {
                for member in e.core.kids(body) {
                    e.class_member(member);
                }
            }
        });
    }

    fn class_member(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        match self.kind(node) {
            JsKind::MethodDefinition => {
                for decorator in self.core.field_all(node, f.decorator) {
                    self.decorator(decorator);
                }
                let key = self.field(node, f.name);
                let name = key.map_or("_", |k| self.property_name(k));
                let parameters = self.field(node, f.parameters);
                if let Some(parameters) = parameters {
                    self.parameter_defaults(parameters);
                }
                self.core.op_name(Op::MakeFunction, name);
                self.core.op_name(Op::StoreName, name);
                let placement = self.core.function_placement(name);
                self.function_body(node, placement, parameters, self.field(node, f.body));
            }
            JsKind::FieldDefinition => {
                for decorator in self.core.field_all(node, f.decorator) {
                    self.decorator(decorator);
                }
                let key = self.field(node, f.property).or_else(|| self.field(node, f.name));
                let name = key.map_or("_", |k| self.property_name(k));
                match self.field(node, f.value) {
                    Some(value) => {
                        self.expr_named(value, Some(name));
                    }
                    None => self.core.op_arg(Op::LoadConst, "None"),
                }
                self.core.op_name(Op::StoreName, name);
            }
            JsKind::ClassStaticBlock => self.statement(node),
            JsKind::Comment | JsKind::TypeOnly => {}
            _ => self.statement(node),
        }
    }

    fn decorator(&mut self, node: Node<'s>) {
        for expression in self.core.kids(node) {
            self.expr(Some(expression));
        }
    }

    fn import(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let module = self.field(node, f.source).map(|s| self.string_value(s)).unwrap_or_default();
        let module = module.strip_prefix("node:").unwrap_or(&module).to_string();
        self.core.op_name(Op::ImportName, &module);
        let module_value = self.module_value(&module);
        let mut bound = false;
        for clause in self.core.kids(node) {
            match self.kind(clause) {
                JsKind::ImportClause => {
                    for part in self.core.kids(clause) {
                        match self.kind(part) {
                            JsKind::Identifier => {
                                let name = self.text(part);
                                self.core.op_name(Op::StoreName, name);
                                self.bind_value(name, &module_value);
                            }
                            JsKind::NamespaceImport => {
                                if let Some(name) = self.core.kids(part).first().map(|n| self.text(*n)) {
                                    self.core.op_name(Op::StoreName, name);
                                    self.bind_value(name, &module_value);
                                }
                            }
                            JsKind::NamedImports => {
                                for specifier in self.core.kids(part) {
                                    if self.kind(specifier) != JsKind::ImportSpecifier {
                                        continue;
                                    }
                                    let imported =
                                        self.field(specifier, f.name).map_or(String::new(), |n| self.name_or_string(n));
                                    let local = self
                                        .field(specifier, f.alias)
                                        .map_or(imported.clone(), |a| self.text(a).to_string());
                                    let value = self.core.attr_op(Op::ImportFrom, &module_value, &imported);
                                    self.core.op_name(Op::StoreName, &local);
                                    self.bind_value(&local, &value);
                                }
                            }
                            _ => {}
                        }
                    }
                    bound = true;
                }
                JsKind::ImportRequire => {
                    let parts = self.core.kids(clause);
                    if let (Some(name), Some(source)) = (parts.first(), parts.get(1)) {
                        let module = self.string_value(*source);
                        let value = self.module_value(module.strip_prefix("node:").unwrap_or(&module));
                        let name = self.text(*name);
                        self.core.op_name(Op::StoreName, name);
                        self.bind_value(name, &value);
                        bound = true;
                    }
                }
                _ => {}
            }
        }
        if !bound {
            self.core.op(Op::PopTop);
        }
    }

    fn module_value(&self, module: &str) -> Value {
        if self.core.apis.is_known_path(module) {
            Value::Qual {
                qual: Qual { name: module.to_string(), root_len: module.len() },
                categorized: false,
                instance: false,
            }
        } else {
            Value::Unknown
        }
    }

    fn bind_value(&mut self, name: &str, value: &Value) {
        match value {
            Value::Qual { qual, instance: false, .. } => self.core.bind_import(name, qual.clone()),
            other => self.core.bind(name, other),
        }
    }

    fn export(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        for decorator in self.core.field_all(node, f.decorator) {
            self.decorator(decorator);
        }
        if let Some(declaration) = self.field(node, f.declaration) {
            self.statement(declaration);
            for name in self.declared_names(declaration) {
                self.core.op_name(Op::ExportName, name);
            }
            return;
        }
        if let Some(value) = self.field(node, f.value) {
            self.expr_named(value, Some("default"));
            self.core.op_name(Op::ExportName, "default");
            return;
        }
        let source = self.field(node, f.source).map(|s| self.string_value(s));
        let mut exported = false;
        if let Some(source) = &source {
            self.core.op_name(Op::ImportName, source.strip_prefix("node:").unwrap_or(source));
        }
        for child in self.core.kids(node) {
            match self.kind(child) {
                JsKind::ExportClause => {
                    for specifier in self.core.kids(child) {
                        if self.kind(specifier) != JsKind::ExportSpecifier {
                            continue;
                        }
                        let name = self.field(specifier, f.name).map_or(String::new(), |n| self.name_or_string(n));
                        let alias = self.field(specifier, f.alias).map_or(name.clone(), |a| self.name_or_string(a));
                        if source.is_some() {
                            self.core.op_name(Op::ImportFrom, &name);
                        } else {
                            self.core.load_name(&name, false);
                        }
                        self.core.op_name(Op::ExportName, &alias);
                    }
                    exported = true;
                }
                JsKind::NamespaceExport => {
                    let name = self.core.kids(child).first().map_or(String::new(), |n| self.name_or_string(*n));
                    self.core.op_name(Op::ExportName, &name);
                    exported = true;
                }
                _ => {}
            }
        }
        if !exported && source.is_some() {
            self.core.op(Op::ExportStar);
        }
    }

    fn declared_names(&mut self, declaration: Node<'s>) -> SmallVec<[&'s str; 2]> {
        let f = &self.g.fields;
        let mut names = SmallVec::new();
        match self.kind(declaration) {
            JsKind::VariableDeclaration => {
                for declarator in self.core.kids(declaration) {
                    if let Some(name) = self.field(declarator, f.name) {
                        if self.kind(name) == JsKind::Identifier {
                            names.push(self.text(name));
                        }
                    }
                }
            }
            _ => {
                if let Some(name) = self.field(declaration, f.name) {
                    names.push(self.text(name));
                }
            }
        }
        names
    }

    // -----------------------------------------------------------------------------------------
    // Assignment and patterns

    /// `left = right`; as an expression the value stays on the stack (`COPY 1`).
    fn assignment(&mut self, node: Node<'s>, as_expression: bool) -> Value {
        let f = &self.g.fields;
        let left = self.field(node, f.left);
        let hint = left.map(|l| self.target_hint(l));
        let value = match self.field(node, f.right) {
            Some(right) => self.expr_named(right, hint.as_deref()),
            None => Value::Unknown,
        };
        if as_expression {
            self.core.op_count(Op::Copy, 1);
        }
        if let Some(left) = left {
            self.store(left, &value);
        }
        value
    }

    /// A readable name for a function assigned to `left` (`module.exports.run`).
    fn target_hint(&self, left: Node<'s>) -> String {
        let text = self.text(left);
        if text.len() <= 64 && !text.contains(char::is_whitespace) {
            text.to_string()
        } else {
            "<lambda>".to_string()
        }
    }

    fn augmented_assignment(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let Some(left) = self.field(node, f.left) else { return };
        let operator = self.field(node, f.operator).map_or("?=", |o| o.kind());
        let right = self.field(node, f.right);
        self.read_modify_write(left, |e| {
            e.expr(right);
            e.core.op_arg(Op::BinaryOp, operator);
        });
    }

    /// `target op= value` and `target++`: loads the target, lets `modify` change the value, stores
    /// it back. Each part of the target is emitted once: emitting it again for the store would
    /// double the output at every level of `x-- -- --` (the fuzzer found that).
    fn read_modify_write(&mut self, target: Node<'s>, modify: impl FnOnce(&mut Self)) {
        let f = &self.g.fields;
        match self.kind(target) {
            JsKind::Identifier => {
                let name = self.identifier(target);
                self.core.load_name(&name, false);
                modify(self);
                self.core.op_name(Op::StoreName, &name);
                self.core.bind_local(&name);
            }
            JsKind::Member => {
                let object = self.expr(self.field(target, f.object));
                let property = self.field(target, f.property).map_or("", |p| self.text(p));
                self.core.load_attr(object.clone(), property, false);
                modify(self);
                self.core.attr_op(Op::StoreAttr, &object, property);
            }
            JsKind::Subscript => {
                self.expr(self.field(target, f.object));
                self.expr(self.field(target, f.index));
                self.core.op(Op::BinarySubscr);
                modify(self);
                self.core.op(Op::StoreSubscr);
            }
            _ => {
                // Not assignable (error recovery, `f()++`): the value is computed, nothing stored.
                self.expr(Some(target));
                modify(self);
            }
        }
    }

    /// Stores the value on top of the stack into a target or destructuring pattern.
    fn store(&mut self, target: Node<'s>, value: &Value) {
        nested(
            self,
            |e| {
                e.flat(target);
            },
            |e| e.store_inner(target, value),
        )
    }

    fn store_inner(&mut self, target: Node<'s>, value: &Value) {
        let f = &self.g.fields;
        match self.kind(target) {
            JsKind::Identifier | JsKind::ShorthandPropertyPattern => {
                let name = self.identifier(target);
                self.core.op_name(Op::StoreName, &name);
                self.core.bind(&name, value);
            }
            JsKind::Member => {
                let object = self.expr(self.field(target, f.object));
                let property = self.field(target, f.property).map_or("", |p| self.text(p));
                self.core.store_attr(&object, property, value);
            }
            JsKind::Subscript => {
                let object = self.expr(self.field(target, f.object));
                let index = self.field(target, f.index);
                self.expr(index);
                self.core.op(Op::StoreSubscr);
                if let Some(index) = index.filter(|i| self.kind(*i) == JsKind::String) {
                    let name = self.string_value(index);
                    self.core.bind_if_global(&object, &name, value);
                }
            }
            JsKind::ObjectPattern => {
                let parts = self.core.kids(target);
                self.core.op_count(Op::UnpackMapping, parts.len());
                for part in parts {
                    match self.kind(part) {
                        JsKind::ShorthandPropertyPattern => {
                            let name = self.identifier(part);
                            let member = self.core.attr_op(Op::LoadAttr, value, &name);
                            self.core.op_name(Op::StoreName, &name);
                            self.bind_value(&name, &member);
                        }
                        JsKind::PairPattern => {
                            let member = match self.field(part, f.key) {
                                Some(key) if self.kind(key) == JsKind::ComputedPropertyName => {
                                    let inner = self.core.kids(key).first().copied();
                                    self.expr(inner);
                                    self.core.op(Op::BinarySubscr);
                                    Value::Unknown
                                }
                                Some(key) => {
                                    let name = self.property_name(key).to_string();
                                    self.core.attr_op(Op::LoadAttr, value, &name)
                                }
                                None => Value::Unknown,
                            };
                            if let Some(inner) = self.field(part, f.value) {
                                self.store(inner, &member);
                            }
                        }
                        JsKind::ObjectAssignmentPattern => {
                            let left = self.field(part, f.left);
                            let member = match left {
                                Some(left) if self.kind(left) == JsKind::ShorthandPropertyPattern => {
                                    let name = self.identifier(left);
                                    self.core.attr_op(Op::LoadAttr, value, &name)
                                }
                                _ => Value::Unknown,
                            };
                            self.expr(self.field(part, f.right));
                            self.core.op_arg(Op::BinaryOp, "??");
                            if let Some(left) = left {
                                self.store(left, &member);
                            }
                        }
                        _ => self.store(part, &Value::Unknown),
                    }
                }
            }
            JsKind::ArrayPattern => {
                let parts = self.core.kids(target);
                let rest = parts.iter().any(|p| self.kind(*p) == JsKind::RestPattern);
                self.core.op_count(if rest { Op::UnpackEx } else { Op::UnpackSequence }, parts.len());
                for part in parts {
                    self.store(part, &Value::Unknown);
                }
            }
            JsKind::AssignmentPattern => {
                self.expr(self.field(target, f.right));
                self.core.op_arg(Op::BinaryOp, "??");
                if let Some(left) = self.field(target, f.left) {
                    self.store(left, value);
                }
            }
            JsKind::RestPattern | JsKind::Parenthesized => {
                if let Some(&inner) = self.core.kids(target).first() {
                    self.store(inner, &Value::Unknown);
                }
            }
            JsKind::Parameter => {
                if let Some(pattern) = self.field(target, f.pattern) {
                    self.store(pattern, value);
                }
            }
            JsKind::Undefined => self.core.op(Op::PopTop),
            _ => {
                self.expr(Some(target));
                self.core.op(Op::PopTop);
            }
        }
    }

    fn parameter_defaults(&mut self, parameters: Node<'s>) {
        let f = &self.g.fields;
        for parameter in self.core.kids(parameters) {
            let default = match self.kind(parameter) {
                JsKind::AssignmentPattern => self.field(parameter, f.right),
                JsKind::Parameter => self.field(parameter, f.value),
                _ => None,
            };
            if let Some(default) = default {
                self.expr(Some(default));
            }
        }
    }

    fn bind_parameters(&mut self, parameters: Node<'s>) {
        if self.kind(parameters) == JsKind::Identifier {
            return self.bind_parameter_name(parameters);
        }
        let mut cursor = parameters.walk();
        let mut stack: SmallVec<[Node<'s>; 8]> = SmallVec::new();
        stack.push(parameters);
        while let Some(node) = stack.pop() {
            match self.kind(node) {
                JsKind::Identifier | JsKind::ShorthandPropertyPattern => self.bind_parameter_name(node),
                // Default values and type annotations bind nothing.
                JsKind::TypeOnly => {}
                JsKind::AssignmentPattern | JsKind::ObjectAssignmentPattern => {
                    if let Some(left) = self.field(node, self.g.fields.left) {
                        stack.push(left);
                    }
                }
                JsKind::PairPattern => {
                    if let Some(value) = self.field(node, self.g.fields.value) {
                        stack.push(value);
                    }
                }
                JsKind::Parameter => {
                    if let Some(pattern) = self.field(node, self.g.fields.pattern) {
                        stack.push(pattern);
                    }
                }
                _ => stack.extend(node.named_children(&mut cursor)),
            }
        }
    }

    fn bind_parameter_name(&mut self, node: Node<'s>) {
        let name = self.identifier(node);
        if !WRAPPER_PARAMETERS.contains(&name.as_str()) {
            self.core.bind_local(&name);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn expr(&mut self, node: Option<Node<'s>>) -> Value {
        match node {
            Some(node) => nested(self, |e| e.flat(node), |e| e.expr_inner(node, false, None)),
            None => Value::Unknown,
        }
    }

    fn expr_named(&mut self, node: Node<'s>, hint: Option<&str>) -> Value {
        nested(self, |e| e.flat(node), |e| e.expr_inner(node, false, hint))
    }

    fn expr_callee(&mut self, node: Node<'s>) -> Value {
        nested(self, |e| e.flat(node), |e| e.expr_inner(node, true, None))
    }

    fn expr_inner(&mut self, node: Node<'s>, callee: bool, hint: Option<&str>) -> Value {
        let f = &self.g.fields;
        match self.kind(node) {
            JsKind::Identifier => {
                let name = self.identifier(node);
                self.core.load_name(&name, callee)
            }
            JsKind::This => self.load_keyword("this"),
            JsKind::Super => self.load_keyword("super"),
            JsKind::ImportKeyword => self.core.load_name("import", callee),
            JsKind::Member | JsKind::Subscript | JsKind::Call => {
                self.core.fold_payload(node, Language::JavaScript);
                self.chain(node, callee)
            }
            JsKind::New => {
                let constructor = match self.field(node, f.constructor) {
                    Some(constructor) => self.expr_callee(constructor),
                    None => Value::Unknown,
                };
                let count = match self.field(node, f.arguments) {
                    Some(arguments) => {
                        self.core.enter_call(&constructor, arguments);
                        let first = self.core.payload_candidates.len();
                        let count = self.arguments(arguments, &constructor).0;
                        self.note_function_parameters(&constructor, arguments, first);
                        count
                    }
                    None => 0,
                };
                // `new Function(code)` is `Function(code)`: the same code compiled and returned.
                let op = if constructor.qual().is_some_and(|q| q.name == "Function") { Op::Call } else { Op::CallNew };
                self.core.op_count(op, count);
                match constructor {
                    Value::Qual { qual, categorized, .. } => Value::Qual { qual, categorized, instance: true },
                    _ => Value::Unknown,
                }
            }
            JsKind::Assignment => self.assignment(node, true),
            JsKind::AugmentedAssignment => {
                self.augmented_assignment(node);
                Value::Unknown
            }
            JsKind::Binary => {
                self.core.fold_payload(node, Language::JavaScript);
                self.binary_chain(node);
                Value::Unknown
            }
            JsKind::Unary => {
                self.unary(node);
                Value::Unknown
            }
            JsKind::Update => {
                self.update(node);
                Value::Unknown
            }
            JsKind::Ternary => {
                self.expr(self.field(node, f.condition));
                self.core.op(Op::PopJumpIfFalse);
                self.expr(self.field(node, f.consequence));
                self.core.op(Op::JumpForward);
                self.expr(self.field(node, f.alternative));
                Value::Unknown
            }
            JsKind::Sequence => {
                let parts = self.core.kids(node);
                let mut value = Value::Unknown;
                for (i, &part) in parts.iter().enumerate() {
                    if i > 0 {
                        self.core.op(Op::PopTop);
                    }
                    value = self.expr(Some(part));
                }
                value
            }
            JsKind::Parenthesized => match self.core.kids(node).first() {
                Some(&inner) => nested(self, |e| e.flat(inner), |e| e.expr_inner(inner, callee, hint)),
                None => Value::Unknown,
            },
            JsKind::Await => {
                for part in self.core.kids(node) {
                    self.expr(Some(part));
                }
                self.core.op(Op::GetAwaitable);
                Value::Unknown
            }
            JsKind::Yield => {
                let delegate = self.core.has_token(node, "*");
                match self.core.kids(node).first() {
                    Some(&value) => {
                        self.expr(Some(value));
                    }
                    None => self.core.op_arg(Op::LoadConst, "None"),
                }
                self.core.op(if delegate { Op::YieldFrom } else { Op::YieldValue });
                Value::Unknown
            }
            JsKind::Array => {
                let parts = self.core.kids(node);
                for &part in &parts {
                    self.element(part);
                }
                self.core.op_count(Op::BuildList, parts.len());
                Value::Unknown
            }
            JsKind::Object => {
                self.object(node);
                Value::Unknown
            }
            JsKind::Spread => {
                self.element(node);
                Value::Unknown
            }
            JsKind::Function | JsKind::Arrow => self.function_expression(node, hint),
            JsKind::Class => {
                self.class(node, hint);
                Value::Unknown
            }
            JsKind::String => {
                let value = self.string_value(node);
                self.core.note_payload(node, &value);
                self.core.load_string(&value);
                if value.len() <= 256 {
                    Value::Str(value)
                } else {
                    Value::Unknown
                }
            }
            JsKind::Template => self.template(node),
            JsKind::Number => {
                self.core.load_number(self.text(node));
                Value::Unknown
            }
            JsKind::Regex => {
                let pattern = self.field(node, self.g.fields.pattern).map_or("", |p| self.text(p));
                self.core.op(Op::LoadRegex);
                self.core.push_string(pattern);
                Value::Unknown
            }
            JsKind::True => self.constant("True"),
            JsKind::False => self.constant("False"),
            JsKind::Null | JsKind::Undefined => self.constant("None"),
            JsKind::MetaProperty => {
                let text: String = self.text(node).split_whitespace().collect();
                self.core.op_name(Op::LoadName, &text);
                Value::Unknown
            }
            JsKind::TypeWrapper => {
                let mut value = Value::Unknown;
                for part in self.core.kids(node) {
                    if self.kind(part) != JsKind::TypeOnly {
                        value = nested(self, |e| e.flat(part), |e| e.expr_inner(part, callee, hint));
                        break;
                    }
                }
                value
            }
            JsKind::JsxElement => {
                self.jsx(node);
                Value::Unknown
            }
            JsKind::JsxExpression | JsKind::ComputedPropertyName | JsKind::Decorator => {
                let mut value = Value::Unknown;
                for part in self.core.kids(node) {
                    value = self.expr(Some(part));
                }
                value
            }
            JsKind::JsxText => {
                let text = self.text(node).trim();
                if !text.is_empty() {
                    self.core.load_string(text);
                }
                Value::Unknown
            }
            JsKind::PropertyIdentifier | JsKind::ShorthandProperty => {
                let name = self.text(node);
                self.core.load_name(name, callee)
            }
            JsKind::Comment | JsKind::TypeOnly | JsKind::OptionalChain => Value::Unknown,
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

    fn load_keyword(&mut self, keyword: &str) -> Value {
        self.core.op_name(Op::LoadName, keyword);
        Value::Unknown
    }

    /// An identifier's name, with `\u0065val`-style escapes decoded (an evasion trick).
    fn identifier(&self, node: Node<'s>) -> String {
        let text = self.text(node);
        if text.contains('\\') {
            decode_javascript(text).into_owned()
        } else {
            text.to_string()
        }
    }

    fn element(&mut self, node: Node<'s>) {
        if self.kind(node) == JsKind::Spread {
            for inner in self.core.kids(node) {
                self.expr(Some(inner));
            }
            self.core.op_count(Op::ListExtend, 1);
        } else {
            self.expr(Some(node));
        }
    }

    /// `a.b(c)[d].e()`: the base, then each link in order, walked without recursion.
    fn chain(&mut self, node: Node<'s>, callee: bool) -> Value {
        let f = &self.g.fields;
        let mut links: SmallVec<[Link<'s>; 8]> = SmallVec::new();
        let mut base = node;
        loop {
            match self.kind(base) {
                JsKind::Member => {
                    let (Some(object), Some(property)) = (self.field(base, f.object), self.field(base, f.property))
                    else {
                        break;
                    };
                    links.push(Link::Member(property));
                    base = object;
                }
                JsKind::Subscript => {
                    let (Some(object), Some(index)) = (self.field(base, f.object), self.field(base, f.index)) else {
                        break;
                    };
                    links.push(Link::Subscript(index));
                    base = object;
                }
                JsKind::Call => {
                    let Some(function) = self.field(base, f.function) else { break };
                    links.push(Link::Call(self.field(base, f.arguments)));
                    base = function;
                }
                _ => break,
            }
        }
        let base_is_callee = matches!(links.last(), Some(Link::Call(_))) || (links.is_empty() && callee);
        // Only a function this chain builds (`new Function(...)(require)`) is bound by its call.
        self.core.constructed = None;
        let mut value = if links.is_empty() {
            return self.generic_value(base);
        } else {
            nested(self, |e| e.flat(base), |e| e.expr_inner(base, base_is_callee, None))
        };
        let count = links.len();
        for i in (0..count).rev() {
            // The value is called next when the following link is a call (or the whole chain is).
            let called_next = if i == 0 { callee } else { matches!(links[i - 1], Link::Call(_)) };
            // A function `Function('r', body)` built by the link (or base) before this one.
            let constructed = self.core.constructed.take();
            value = match links[i] {
                Link::Member(property) => {
                    let name = self.text(property);
                    self.core.load_attr(value, name, called_next)
                }
                Link::Subscript(index) => {
                    // `cp['exec']` is `cp.exec`, and so is `cp['ex' + 'ec']`: a name built from
                    // constants is emitted as its literal would be.
                    let name = match (self.kind(index), value.qual()) {
                        (_, None) => None,
                        (JsKind::String, Some(_)) => Some(self.string_value(index)),
                        (_, Some(_)) => self.core.built_string(index, Language::JavaScript),
                    };
                    let result = match name {
                        Some(name) => self.core.load_attr_string(&value, &name),
                        None => {
                            self.expr(Some(index));
                            Value::Unknown
                        }
                    };
                    self.core.op(Op::BinarySubscr);
                    result
                }
                Link::Call(arguments) => {
                    let (count, first) = match arguments {
                        Some(arguments) if self.kind(arguments) == JsKind::Template => {
                            self.template(arguments);
                            (1, None)
                        }
                        Some(arguments) => {
                            if constructed.is_some() {
                                // Only the call of a function `Function` just built: the names it passes.
                                let names: Vec<String> = self
                                    .core
                                    .kids(arguments)
                                    .into_iter()
                                    .map(|a| {
                                        if self.kind(a) == JsKind::Identifier {
                                            self.text(a).to_string()
                                        } else {
                                            String::new()
                                        }
                                    })
                                    .collect();
                                self.core.bind_parameters(constructed, &names);
                            }
                            self.core.enter_call(&value, arguments);
                            let first = self.core.payload_candidates.len();
                            let shape = self.arguments(arguments, &value);
                            self.note_function_parameters(&value, arguments, first);
                            shape
                        }
                        None => (0, None),
                    };
                    self.core.op_count(Op::Call, count);
                    self.core.call_result(&value, first.as_ref().and_then(|v| v.string()), None)
                }
            };
        }
        value
    }

    fn generic_value(&mut self, node: Node<'s>) -> Value {
        self.generic(node);
        Value::Unknown
    }

    /// Emits call arguments; returns their count and the first argument's value.
    fn arguments(&mut self, node: Node<'s>, _callee: &Value) -> (usize, Option<Value>) {
        let mut count = 0;
        let mut first = None;
        for argument in self.core.kids(node) {
            if self.kind(argument) == JsKind::Spread {
                self.element(argument);
            } else {
                let mut value = self.expr(Some(argument));
                if count == 0 && matches!(value, Value::Unknown) && self.kind(argument) != JsKind::String {
                    // `require('child_' + 'process')`, `` require(`${m}_process`) ``: the module a
                    // built name names.
                    value = self.core.built_string(argument, Language::JavaScript).map_or(Value::Unknown, Value::Str);
                }
                if count == 0 {
                    first = Some(value);
                }
            }
            count += 1;
        }
        (count, first)
    }

    fn binary_chain(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut pending: SmallVec<[(Option<Node<'s>>, &'s str); 8]> = SmallVec::new();
        let mut current = node;
        while self.kind(current) == JsKind::Binary {
            let operator = self.field(current, f.operator).map_or("?", |o| o.kind());
            pending.push((self.field(current, f.right), operator));
            match self.field(current, f.left) {
                Some(left) => current = left,
                None => break,
            }
        }
        self.expr(Some(current));
        for (right, operator) in pending.into_iter().rev() {
            match operator {
                "&&" => {
                    self.core.op(Op::JumpIfFalseOrPop);
                    self.expr(right);
                }
                "||" => {
                    self.core.op(Op::JumpIfTrueOrPop);
                    self.expr(right);
                }
                "??" => {
                    self.core.op(Op::JumpIfNotNoneOrPop);
                    self.expr(right);
                }
                "==" | "!=" | "===" | "!==" | "<" | "<=" | ">" | ">=" | "instanceof" | "in" => {
                    self.expr(right);
                    self.core.op_arg(Op::CompareOp, operator);
                }
                _ => {
                    self.expr(right);
                    self.core.op_arg(Op::BinaryOp, operator);
                }
            }
        }
    }

    /// `i++` / `--i`: a read-modify-write with `UNARY_OP ++`.
    fn update(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let operator = self.field(node, f.operator).map_or("++", |o| o.kind());
        match self.field(node, f.argument) {
            Some(argument) => self.read_modify_write(argument, |e| e.core.op_arg(Op::UnaryOp, operator)),
            None => self.core.op_arg(Op::UnaryOp, operator),
        }
    }

    fn unary(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let operator = self.field(node, f.operator).map_or("?", |o| o.kind());
        let argument = self.field(node, f.argument);
        if operator == "delete" {
            match argument {
                Some(target) if self.kind(target) == JsKind::Member => {
                    let object = self.expr(self.field(target, f.object));
                    let property = self.field(target, f.property).map_or("", |p| self.text(p));
                    self.core.attr_op(Op::DeleteAttr, &object, property);
                    return;
                }
                Some(target) if self.kind(target) == JsKind::Subscript => {
                    self.expr(self.field(target, f.object));
                    self.expr(self.field(target, f.index));
                    self.core.op(Op::DeleteSubscr);
                    return;
                }
                _ => {}
            }
        }
        self.expr(argument);
        self.core.op_arg(Op::UnaryOp, if operator == "!" { "not" } else { operator });
    }

    fn object(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let mut pairs = 0;
        for member in self.core.kids(node) {
            match self.kind(member) {
                JsKind::Pair => {
                    let key = self.field(member, f.key);
                    let name = key.map(|k| self.property_name(k).to_string());
                    if let Some(key) = key {
                        self.property_key(key);
                    }
                    if let Some(value) = self.field(member, f.value) {
                        self.expr_named(value, name.as_deref());
                    }
                    pairs += 1;
                }
                JsKind::ShorthandProperty => {
                    let name = self.identifier(member);
                    self.core.load_string(&name);
                    self.core.load_name(&name, false);
                    pairs += 1;
                }
                JsKind::MethodDefinition => {
                    let key = self.field(member, f.name);
                    let name = key.map_or("_", |k| self.property_name(k));
                    if let Some(key) = key {
                        self.property_key(key);
                    }
                    let parameters = self.field(member, f.parameters);
                    if let Some(parameters) = parameters {
                        self.parameter_defaults(parameters);
                    }
                    self.core.op_name(Op::MakeFunction, name);
                    let placement = self.core.lambda_placement(Some(name));
                    self.function_body(member, placement, parameters, self.field(member, f.body));
                    pairs += 1;
                }
                JsKind::Spread => {
                    for inner in self.core.kids(member) {
                        self.expr(Some(inner));
                    }
                    self.core.op_count(Op::DictMerge, 1);
                }
                JsKind::Comment => {}
                _ => {
                    self.expr(Some(member));
                }
            }
        }
        self.core.op_count(Op::BuildMap, pairs);
    }

    /// An object key: names and strings are string constants, computed keys are expressions.
    fn property_key(&mut self, key: Node<'s>) {
        match self.kind(key) {
            JsKind::ComputedPropertyName => {
                let inner = self.core.kids(key).first().copied();
                self.expr(inner);
            }
            JsKind::String => {
                let value = self.string_value(key);
                self.core.load_string(&value);
            }
            JsKind::Number => self.core.load_number(self.text(key)),
            _ => {
                let name = self.text(key);
                self.core.load_string(name);
            }
        }
    }

    fn property_name(&self, key: Node<'s>) -> &'s str {
        let text = self.text(key);
        if self.kind(key) == JsKind::String {
            text.get(1..text.len().saturating_sub(1)).unwrap_or("")
        } else {
            text
        }
    }

    fn function_expression(&mut self, node: Node<'s>, hint: Option<&str>) -> Value {
        let f = &self.g.fields;
        let own_name = self.field(node, f.name).map(|n| self.text(n));
        let parameters = self.field(node, f.parameters).or_else(|| self.field(node, f.parameter));
        if let Some(parameters) = parameters {
            self.parameter_defaults(parameters);
        }
        match own_name {
            Some(name) => self.core.op_name(Op::MakeFunction, name),
            None => self.core.op_arg(Op::MakeFunction, "<lambda>"),
        }
        let placement = self.core.lambda_placement(own_name.or(hint));
        self.function_body(node, placement, parameters, self.field(node, f.body));
        Value::Unknown
    }

    fn function_body(
        &mut self,
        node: Node<'s>,
        placement: Placement,
        parameters: Option<Node<'s>>,
        body: Option<Node<'s>>,
    ) {
        in_definition(self, placement, node, Context::Function, |e| {
            if let Some(parameters) = parameters {
                e.bind_parameters(parameters);
            }
            match body {
                Some(body) if e.kind(body) == JsKind::Block => e.statements(body),
                Some(body) => {
                    e.expr(Some(body));
                    e.core.op(Op::ReturnValue);
                }
                None => {}
            }
        });
    }

    fn jsx(&mut self, node: Node<'s>) {
        let f = &self.g.fields;
        let opening = self.field(node, f.open_tag).unwrap_or(node);
        match self.field(opening, f.name) {
            Some(name) if self.text(name).starts_with(|c: char| c.is_ascii_lowercase()) => {
                let tag = self.text(name);
                self.core.load_string(tag);
            }
            Some(name) => {
                self.expr(Some(name));
            }
            None => self.core.op_name(Op::LoadName, "Fragment"),
        }
        // Children first, attributes last: `KW_NAMES` names the last values of a call.
        let mut count = 0;
        if opening != node {
            for child in self.core.kids(node) {
                if matches!(self.kind(child), JsKind::JsxOpening | JsKind::JsxClosing) {
                    continue;
                }
                if self.kind(child) == JsKind::JsxText && self.text(child).trim().is_empty() {
                    continue;
                }
                self.expr(Some(child));
                count += 1;
            }
        }
        let mut keywords: SmallVec<[&'s str; 4]> = SmallVec::new();
        for attribute in self.core.kids(opening) {
            match self.kind(attribute) {
                JsKind::JsxAttribute => {
                    let parts = self.core.kids(attribute);
                    let name = parts.first().map_or("_", |n| self.text(*n));
                    match parts.get(1) {
                        Some(&value) => {
                            self.expr(Some(value));
                        }
                        None => self.core.op_arg(Op::LoadConst, "True"),
                    }
                    keywords.push(name);
                    count += 1;
                }
                JsKind::JsxExpression => {
                    self.expr(Some(attribute));
                    self.core.op_count(Op::DictMerge, 1);
                    count += 1;
                }
                _ => {}
            }
        }
        if !keywords.is_empty() {
            self.core.op(Op::KwNames);
            for keyword in keywords {
                self.core.push_arg_name(keyword);
            }
        }
        self.core.op_count(Op::Call, count);
    }

    // -----------------------------------------------------------------------------------------
    // Strings

    /// After the arguments of `Function(...)` / `new Function(...)`: the string parameters
    /// before its body, for the call that may run it next (see `Core::constructed_function`).
    fn note_function_parameters(&mut self, callee: &Value, arguments: Node<'s>, first: usize) {
        if callee.qual().is_none_or(|q| q.name != "Function") {
            return;
        }
        let kids = self.core.kids(arguments);
        let Some((body, parameters)) = kids.split_last() else { return };
        if parameters.is_empty() || !kids.iter().all(|k| self.kind(*k) == JsKind::String) {
            return;
        }
        let parameters = parameters.iter().map(|p| self.string_value(*p)).collect();
        let body = self.string_value(*body);
        self.core.constructed_function(parameters, first, &body);
    }

    /// The decoded value of a string literal (quotes removed).
    fn string_value(&self, node: Node<'s>) -> String {
        let text = self.text(node);
        // A well-formed literal starts and ends with a quote; a malformed one may not.
        let body = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
        decode_javascript(body).into_owned()
    }

    /// The name of an import/export specifier, which may be an identifier or a string.
    fn name_or_string(&self, node: Node<'s>) -> String {
        if self.kind(node) == JsKind::String {
            self.string_value(node)
        } else {
            self.text(node).to_string()
        }
    }

    fn template(&mut self, node: Node<'s>) -> Value {
        let text = self.text(node);
        let start = node.start_byte();
        let mut template = String::new();
        let mut substitutions: SmallVec<[Node<'s>; 4]> = SmallVec::new();
        let mut position = start + 1;
        for child in self.core.kids(node) {
            if self.kind(child) == JsKind::TemplateSubstitution {
                template.push_str(&decode_javascript(self.core.src.get(position..child.start_byte()).unwrap_or("")));
                template.push_str("{}");
                substitutions.push(child);
                position = child.end_byte();
            }
        }
        let end = (start + text.len()).saturating_sub(1).max(position);
        template.push_str(&decode_javascript(self.core.src.get(position..end).unwrap_or("")));
        if substitutions.is_empty() {
            self.core.note_payload(node, &template);
        } else {
            // `${'aW1w'}${'b3J0'}`: substitutions of constants fold like concatenation.
            self.core.fold_payload(node, Language::JavaScript);
            self.core.literal_stats.add(template.as_bytes());
        }
        self.core.load_string(&template);
        if substitutions.is_empty() {
            return if template.len() <= 256 { Value::Str(template) } else { Value::Unknown };
        }
        let count = substitutions.len();
        for substitution in substitutions {
            for expression in self.core.kids(substitution) {
                self.expr(Some(expression));
            }
            self.core.op(Op::FormatValue);
        }
        self.core.op_count(Op::BuildString, count + 1);
        Value::Unknown
    }

    /// An `expression_statement` used as a `for` condition holds the expression.
    fn expression_of(&mut self, node: Node<'s>) -> Option<Node<'s>> {
        if self.kind(node) == JsKind::ExpressionStatement {
            self.core.kids(node).first().copied()
        } else {
            Some(node)
        }
    }

    // -----------------------------------------------------------------------------------------
    // Fallbacks

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
                JsKind::Identifier | JsKind::ShorthandProperty | JsKind::ShorthandPropertyPattern => {
                    let name = self.identifier(current);
                    self.core.load_name(&name, false);
                }
                JsKind::PropertyIdentifier => {
                    let name = self.text(current);
                    self.core.op_name(Op::LoadAttr, name);
                }
                JsKind::Number => self.core.load_number(self.text(current)),
                JsKind::String => {
                    let value = self.string_value(current);
                    self.core.load_string(&value);
                }
                _ => {}
            }
            let skip_children = self.g.kind(current) == JsKind::String;
            if !skip_children && cursor.goto_first_child() {
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
        Value::Unknown
    }
}

fn is_statement(kind: JsKind) -> bool {
    use JsKind::*;
    matches!(
        kind,
        ExpressionStatement
            | VariableDeclaration
            | FunctionDeclaration
            | ClassDeclaration
            | If
            | For
            | ForIn
            | While
            | DoWhile
            | Try
            | Switch
            | Return
            | Throw
            | Break
            | Continue
            | Debugger
            | Labeled
            | Empty
            | Block
            | With
            | Import
            | Export
            | Namespace
            | Enum
    )
}

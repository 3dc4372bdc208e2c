//! Data flow from sources to sinks inside one object (a function, method or module body).
//!
//! The analysis runs on the object's malwicode, not on a language's parse tree, so the same
//! rules cover Python, JavaScript and code decoded from payloads: API names are already
//! resolved to behaviour categories there (`LOAD_ATTR ENVIRONMENT_VARIABLE_ACCESS`), and the
//! instructions are those of a stack machine. Each value on the abstract stack carries the
//! sources it was computed from; a call whose callee is a sink (`NETWORK_HTTP_REQUEST`,
//! `DYNAMIC_CODE_EXECUTION`, ...) with a tainted argument is a [`Flow`]. Variables keep the
//! taint of what was last stored in them, containers the union of what was put in them.
//!
//! It is a may-analysis over straight-line code: branches are read in order, loops once.
//! What it cannot follow (calls into the package's own functions, attributes across objects)
//! it does not report: a flow is something the code of one object visibly does.

use serde::Serialize;
use smallvec::SmallVec;

use crate::malwicode::{Arg, Malwicode, Op};

/// Where sensitive data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Environment,
    SensitiveFile,
    Credentials,
    BrowserData,
    Wallet,
    HostInfo,
    Clipboard,
    Keystrokes,
    Screenshot,
    AudioVideo,
    NetworkDownload,
}

/// Where data must not go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Network,
    Webhook,
    CodeExecution,
    Process,
    Autostart,
}

impl SourceKind {
    pub const ALL: &'static [SourceKind] = &[
        SourceKind::Environment,
        SourceKind::SensitiveFile,
        SourceKind::Credentials,
        SourceKind::BrowserData,
        SourceKind::Wallet,
        SourceKind::HostInfo,
        SourceKind::Clipboard,
        SourceKind::Keystrokes,
        SourceKind::Screenshot,
        SourceKind::AudioVideo,
        SourceKind::NetworkDownload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Environment => "environment",
            SourceKind::SensitiveFile => "sensitive_file",
            SourceKind::Credentials => "credentials",
            SourceKind::BrowserData => "browser_data",
            SourceKind::Wallet => "wallet",
            SourceKind::HostInfo => "host_info",
            SourceKind::Clipboard => "clipboard",
            SourceKind::Keystrokes => "keystrokes",
            SourceKind::Screenshot => "screenshot",
            SourceKind::AudioVideo => "audio_video",
            SourceKind::NetworkDownload => "network_download",
        }
    }
}

impl SinkKind {
    pub const ALL: &'static [SinkKind] =
        &[SinkKind::Network, SinkKind::Webhook, SinkKind::CodeExecution, SinkKind::Process, SinkKind::Autostart];

    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Network => "network",
            SinkKind::Webhook => "webhook",
            SinkKind::CodeExecution => "code_execution",
            SinkKind::Process => "process",
            SinkKind::Autostart => "autostart",
        }
    }

    /// Which sources are worth reporting at this sink. Host facts run into commands and code
    /// all the time in ordinary tools; downloads sent on to the network are proxies.
    fn reports(self, source: SourceKind) -> bool {
        !matches!(
            (self, source),
            (SinkKind::Network | SinkKind::Webhook, SourceKind::NetworkDownload)
                | (SinkKind::CodeExecution | SinkKind::Process | SinkKind::Autostart, SourceKind::HostInfo)
        )
    }
}

/// The token a flow adds to its object's malwicode when the featurizer asks for flow tokens:
/// `FLOW_ENVIRONMENT_TO_NETWORK`.
pub fn flow_token(source: SourceKind, sink: SinkKind) -> &'static str {
    let index = source as usize * SinkKind::ALL.len() + sink as usize;
    all_flow_tokens()[index]
}

/// Every flow token that can be reported, for the vocabulary.
pub fn flow_tokens() -> Vec<&'static str> {
    let mut out = Vec::new();
    for &source in SourceKind::ALL {
        for &sink in SinkKind::ALL {
            if sink.reports(source) {
                out.push(flow_token(source, sink));
            }
        }
    }
    out
}

/// Tokens for every (source, sink) pair, made once.
fn all_flow_tokens() -> &'static [&'static str] {
    static TOKENS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut tokens = Vec::new();
        for &source in SourceKind::ALL {
            for &sink in SinkKind::ALL {
                let token =
                    format!("FLOW_{}_TO_{}", source.name().to_ascii_uppercase(), sink.name().to_ascii_uppercase());
                tokens.push(&*Box::leak(token.into_boxed_str()));
            }
        }
        tokens
    })
}

/// Sensitive data reaching a sink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flow {
    pub source: SourceKind,
    pub sink: SinkKind,
    /// 1-based lines of the statements where the data was read and where it was sent.
    pub source_line: u32,
    pub sink_line: u32,
    /// The file or URL read, when the code names it (`~/.ssh/id_rsa`, `http://host/x.py`).
    pub source_detail: Option<String>,
    /// The URL sent to, when the code names it.
    pub sink_detail: Option<String>,
}

/// Longest string kept for a flow's details.
pub const MAX_DETAIL: usize = 300;
/// String constants noted per object; past the first `MAX_STRINGS`, only those that name a
/// secret, an autostart location, a URL or a webhook, up to `MAX_NAMED_STRINGS` (padding an
/// object with dummy strings must not hide the one that matters).
pub const MAX_STRINGS: usize = 256;
pub const MAX_NAMED_STRINGS: usize = 4096;
/// Flows reported per object.
const MAX_FLOWS: usize = 32;
/// The abstract stack never grows past this (unbalanced code cannot make it slow).
const MAX_STACK: usize = 512;
/// Variables followed per object.
const MAX_VARIABLES: usize = 4096;

/// What reads a response's content (`resp.text`, `urlopen(u).read()`, `sock.recv(n)`); other
/// attributes of a response or session (`status`, `headers`, `prepare`) are not downloads.
const CONTENT_ATTRIBUTES: [&str; 16] = [
    "text",
    "content",
    "read",
    "readlines",
    "readline",
    "json",
    "body",
    "data",
    "raw",
    "recv",
    "recvfrom",
    "iter_content",
    "iter_lines",
    "arrayBuffer",
    "blob",
    "buffer",
];

/// Methods of the environment object that still stand for all of it.
const ENVIRONMENT_METHODS: [&str; 10] =
    ["get", "getenv", "pop", "setdefault", "copy", "items", "keys", "values", "toString", "__getitem__"];

/// What calling a value does, as far as flows are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Callee {
    /// Reads data of this kind (the value itself is data of this kind too: `os.environ`).
    Source(SourceKind),
    /// Opens or reads a file or database: what it returns is as sensitive as the path.
    FileOpen,
    /// Writes, copies or moves files.
    FileWrite,
    /// Sends over the network; what it returns was downloaded.
    Network,
    /// Sends over the network without returning content (DNS, e-mail).
    NetworkSend,
    Webhook,
    CodeExecution,
    /// Unpickles or unmarshals: runs code from its argument; what it returns is new data
    /// (`pickle.loads(pickle.dumps(x))` is a copy, not a flow).
    Deserialization,
    Process,
    Persistence,
}

fn callee_of(category: &str) -> Option<Callee> {
    Some(match category {
        "ENVIRONMENT_VARIABLE_ACCESS" => Callee::Source(SourceKind::Environment),
        "CREDENTIAL_ACCESS" => Callee::Source(SourceKind::Credentials),
        "BROWSER_DATA_ACCESS" => Callee::Source(SourceKind::BrowserData),
        "CRYPTO_WALLET" => Callee::Source(SourceKind::Wallet),
        "SYSINFO_HOST" | "SYSINFO_NETWORK" | "SYSINFO_USER" => Callee::Source(SourceKind::HostInfo),
        "CLIPBOARD_ACCESS" => Callee::Source(SourceKind::Clipboard),
        "KEYLOGGING" => Callee::Source(SourceKind::Keystrokes),
        "SCREEN_CAPTURE" => Callee::Source(SourceKind::Screenshot),
        "AUDIO_VIDEO_CAPTURE" => Callee::Source(SourceKind::AudioVideo),
        "FILESYSTEM_ACCESS" | "DATABASE_ACCESS" => Callee::FileOpen,
        "FILESYSTEM_WRITE" => Callee::FileWrite,
        "NETWORK_HTTP_REQUEST" | "NETWORK_SOCKET" | "NETWORK_FILE_TRANSFER" => Callee::Network,
        "NETWORK_DNS" | "NETWORK_EMAIL" => Callee::NetworkSend,
        "MESSAGING_WEBHOOK" => Callee::Webhook,
        "DYNAMIC_CODE_EXECUTION" => Callee::CodeExecution,
        "DESERIALIZATION" => Callee::Deserialization,
        "PROCESS_MANAGEMENT" => Callee::Process,
        "PERSISTENCE" => Callee::Persistence,
        _ => return None,
    })
}

/// Whether an environment variable's name says it holds a secret.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL"]
        .iter()
        .any(|needle| upper.contains(needle))
}

/// What a path or URL in a string constant says about the data behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Secret(SourceKind),
    Autostart,
    Webhook,
    Url,
}

/// Classifies a path or URL by what it names (case-insensitive substrings).
pub(crate) fn place_of(value: &str) -> Option<Place> {
    let lower = value.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["discord.com/api/webhooks", "discordapp.com/api/webhooks", "api.telegram.org/bot", "hooks.slack.com/"]) {
        return Some(Place::Webhook);
    }
    // A URL, or a command or message that contains one (`curl http://host -d ...`).
    if lower.contains("http://") || lower.contains("https://") || lower.contains("ftp://") {
        return Some(Place::Url);
    }
    if has(&[
        "\\start menu\\programs\\startup",
        "/start menu/programs/startup",
        "currentversion\\run",
        "launchagents",
        "launchdaemons",
        "/etc/cron",
        "/etc/rc.local",
        "/etc/init.d",
        "/etc/systemd/",
        ".config/autostart",
        ".bashrc",
        ".bash_profile",
        ".zshrc",
        ".profile",
    ]) {
        return Some(Place::Autostart);
    }
    if has(&[
        "login data",
        "cookies",
        "local state",
        "web data",
        "google/chrome",
        "google\\chrome",
        "mozilla/firefox",
        "mozilla\\firefox",
        "brave-browser",
        "bravesoftware",
        "microsoft\\edge",
        "opera software",
        "key4.db",
        "logins.json",
    ]) {
        return Some(Place::Secret(SourceKind::BrowserData));
    }
    if has(&["wallet", "exodus", "electrum", "metamask", "atomic", ".bitcoin", "ethereum", "keystore", "phantom"]) {
        return Some(Place::Secret(SourceKind::Wallet));
    }
    if has(&[
        ".aws/credentials",
        ".aws\\credentials",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".docker/config.json",
        ".kube/config",
        "gcloud",
        "leveldb",
        "/etc/shadow",
    ]) {
        return Some(Place::Secret(SourceKind::Credentials));
    }
    if has(&[".ssh", "id_rsa", "id_ed25519", "/etc/passwd", ".gnupg", ".bash_history", ".zsh_history"]) {
        return Some(Place::Secret(SourceKind::SensitiveFile));
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Origin {
    kind: SourceKind,
    line: u32,
    /// Index into the noted strings: the file or URL the data came from.
    detail: Option<u32>,
}

/// An abstract value.
#[derive(Clone, Debug, Default)]
struct Val<'t> {
    origins: SmallVec<[Origin; 2]>,
    callee: Option<Callee>,
    /// A path or URL this value is or was built from, and the string it came from.
    place: Option<(Place, Option<u32>)>,
    /// A file handle (or writer) opened on an autostart location.
    autostart_handle: bool,
    /// The variable it was loaded from (containers written through it taint the variable).
    variable: Option<&'t str>,
    /// An iterator of a `for` loop: the only value that lives across statements.
    iterator: bool,
    /// The environment as a whole (`os.environ`, `process.env`, `os.getenv` itself): one
    /// variable looked up by a constant name is configuration, not the environment.
    whole_environment: bool,
    /// A constant: its text when the malwicode keeps it verbatim, else empty.
    constant: Option<&'t str>,
    /// Built by an operator or an f-string (`f"{user}.{host}.evil.tld"`), not a bare value.
    built: bool,
}

impl<'t> Val<'t> {
    /// One environment variable read by name: configuration (`HOME`, `SSL_CERT_FILE`), unless
    /// its name says it holds a secret (`AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`).
    fn one_variable(mut self, name: Option<&str>) -> Self {
        if self.whole_environment {
            self.whole_environment = false;
            if !name.is_some_and(is_secret_name) {
                self.origins.retain(|o| o.kind != SourceKind::Environment);
            }
        }
        self
    }

    fn taint(&mut self, origin: Origin) {
        if !self.origins.iter().any(|o| o.kind == origin.kind) {
            self.origins.push(origin);
        }
    }

    fn absorb(&mut self, other: &Val<'_>) {
        for &origin in &other.origins {
            self.taint(origin);
        }
        if self.place.is_none() {
            self.place = other.place;
        }
        self.autostart_handle |= other.autostart_handle;
    }

    /// The data of a value, without what it is: what flows into a container or operator.
    fn data(&self) -> Val<'t> {
        Val {
            origins: self.origins.clone(),
            place: self.place,
            autostart_handle: self.autostart_handle,
            ..Val::default()
        }
    }
}

struct Machine<'t> {
    stack: Vec<Val<'t>>,
    variables: rustc_hash::FxHashMap<&'t str, Val<'t>>,
    /// The value a short-circuit or the first arm of a conditional left behind, merged into
    /// the next value pushed (the stack machine cannot tell which arm ran).
    carry: Option<Val<'t>>,
    keywords: SmallVec<[&'t str; 4]>,
    line: u32,
    code: &'t Malwicode,
    flows: Vec<Flow>,
    /// The most recent network call's download, for responses loaded by API name.
    last_download: Option<Origin>,
    /// `DICT_MERGE`s since the last map display or call.
    merges: usize,
}

/// Flows of one object's malwicode (`first_line`: where the object starts).
pub fn flows(code: &Malwicode, first_line: u32) -> Vec<Flow> {
    let mut machine = Machine {
        stack: Vec::new(),
        variables: rustc_hash::FxHashMap::default(),
        carry: None,
        keywords: SmallVec::new(),
        line: first_line,
        code,
        flows: Vec::new(),
        last_download: None,
        merges: 0,
    };
    let mut statements = code.statements().iter().peekable();
    for (index, instr) in code.instructions().enumerate() {
        while let Some(&&(at, line)) = statements.peek() {
            if at as usize > index {
                break;
            }
            statements.next();
            machine.statement(line);
        }
        machine.step(instr.op, instr.args);
    }
    machine.flows
}

impl<'t> Machine<'t> {
    fn statement(&mut self, line: u32) {
        self.line = line;
        self.stack.retain(|v| v.iterator);
        self.carry = None;
        self.keywords.clear();
    }

    fn push(&mut self, mut value: Val<'t>) {
        if let Some(carry) = self.carry.take() {
            value.absorb(&carry);
        }
        if self.stack.len() >= MAX_STACK {
            self.stack.remove(0);
        }
        self.stack.push(value);
    }

    fn pop(&mut self) -> Val<'t> {
        match self.stack.last() {
            Some(top) if !top.iterator => self.stack.pop().unwrap_or_default(),
            _ => Val::default(),
        }
    }

    fn pop_n(&mut self, n: usize) -> SmallVec<[Val<'t>; 4]> {
        let mut out: SmallVec<[Val<'t>; 4]> = (0..n).map(|_| self.pop()).collect();
        out.reverse();
        out
    }

    fn count(&self, args: &[Arg]) -> usize {
        args.first().map_or(0, |arg| self.code.count_of(arg)).min(MAX_STACK)
    }

    fn text(&self, arg: &'t Arg) -> &'t str {
        self.code.arg_text(arg)
    }

    fn string(&self, index: u32) -> Option<&'t str> {
        self.code.noted(index)
    }

    fn detail(&self, index: Option<u32>) -> Option<String> {
        let text = self.string(index?)?;
        let mut end = text.len().min(MAX_DETAIL);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Some(text[..end].to_string())
    }

    fn constant(&self, args: &'t [Arg]) -> Val<'t> {
        let mut value = Val::default();
        let Some(arg) = args.first() else { return value };
        // A classified string stands for its full value when that was kept; a short one is
        // written quoted, with escapes (`'Login\x20Data'`) undone for matching.
        let (text, noted, unescaped) = match *arg {
            Arg::Str { noted: Some(index), .. } => (self.string(index), Some(index), None),
            Arg::Verbatim(_) => {
                let quoted = self.text(arg);
                let inner = quoted.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
                (inner, None, inner.filter(|t| t.contains('\\')).map(crate::malwicode::read_verbatim))
            }
            _ => (None, None, None),
        };
        if let Some(place) = unescaped.as_deref().or(text).and_then(place_of) {
            value.place = Some((place, noted));
        }
        value.constant = Some(text.unwrap_or(""));
        value
    }

    fn load_category(&mut self, mut value: Val<'t>, category: &str) -> Val<'t> {
        let callee = callee_of(category);
        if let Some(Callee::Source(kind)) = callee {
            value.taint(Origin { kind, line: self.line, detail: None });
            value.whole_environment |= kind == SourceKind::Environment;
        }
        value.callee = callee;
        value
    }

    fn step(&mut self, op: Op, args: &'t [Arg]) {
        match op {
            Op::LoadName => {
                let Some(arg) = args.first() else { return self.push(Val::default()) };
                let name = self.text(arg);
                let value = if matches!(arg, Arg::Category(_)) && callee_of(name).is_some() {
                    self.load_category(Val::default(), name)
                } else {
                    let mut value = self.variables.get(name).cloned().unwrap_or_default();
                    value.variable = Some(name);
                    value.iterator = false;
                    value
                };
                self.push(value);
            }
            Op::LoadAttr => {
                let receiver = self.pop();
                let name = args.first().map_or("", |arg| self.text(arg));
                let mut value = receiver.data();
                // `process.env.NAME` reads one variable; `environ.get`, `.copy()` and the like
                // are still the whole environment until called.
                if receiver.whole_environment && callee_of(name).is_none() {
                    value.whole_environment = true;
                    if !ENVIRONMENT_METHODS.contains(&name) {
                        value = value.one_variable(Some(name));
                    }
                }
                if callee_of(name).is_some() {
                    value = self.load_category(value, name);
                } else {
                    // A method of a session, socket or writer does what its object does.
                    value.callee = match receiver.callee {
                        Some(c @ (Callee::Network | Callee::NetworkSend | Callee::Webhook)) => Some(c),
                        _ => None,
                    };
                    // `resp.text`, `urlopen(u).read`: downloaded data, from the last download
                    // of this object (the emitter may write the response variable as the API
                    // that made it: `requests NETWORK_HTTP_REQUEST text`).
                    if receiver.callee == Some(Callee::Network)
                        && receiver.origins.is_empty()
                        && CONTENT_ATTRIBUTES.contains(&name)
                    {
                        let origin = self.last_download.unwrap_or(Origin {
                            kind: SourceKind::NetworkDownload,
                            line: self.line,
                            detail: None,
                        });
                        value.taint(origin);
                    }
                }
                self.push(value);
            }
            Op::LoadConst => {
                let value = self.constant(args);
                self.push(value);
            }
            Op::LoadRegex
            | Op::LoadBuildClass
            | Op::LoadAssertionError
            | Op::ImportName
            | Op::ImportFrom
            | Op::MakeFunction => self.push(Val::default()),
            Op::StoreName => {
                let value = self.pop();
                if let Some(arg) = args.first() {
                    self.store(self.text(arg), value);
                }
            }
            Op::StoreAttr | Op::StoreSubscr => {
                // `obj.attr = v`: obj on top, then v; `c[k] = v`: k, c, v.
                let (container, value) = if op == Op::StoreAttr {
                    let container = self.pop();
                    (container, self.pop())
                } else {
                    self.pop();
                    let container = self.pop();
                    (container, self.pop())
                };
                if let Some(name) = container.variable {
                    let mut merged = self.variables.get(name).cloned().unwrap_or_default();
                    merged.absorb(&value.data());
                    self.store(name, merged);
                }
            }
            Op::DeleteName | Op::DeleteAttr | Op::PopTop | Op::PopJumpIfFalse | Op::PopJumpIfTrue => {
                self.pop();
            }
            Op::DeleteSubscr => {
                self.pop_n(2);
            }
            Op::StoreAnnotation => {}
            Op::BinarySubscr => {
                let operands = self.pop_n(2);
                let mut value = operands[0].data();
                if operands[0].whole_environment {
                    // `environ['HOME']`, `environ[name]`: one variable.
                    value.whole_environment = true;
                    value = value.one_variable(operands[1].constant);
                }
                value.absorb(&operands[1].data());
                self.push(value);
            }
            Op::BinaryOp | Op::BuildString => {
                let n = if op == Op::BinaryOp { 2 } else { self.count(args) };
                let operands = self.pop_n(n);
                let mut value = Val { built: true, ..Val::default() };
                for operand in &operands {
                    value.absorb(&operand.data());
                }
                self.push(value);
            }
            Op::CompareOp => {
                self.pop_n(2);
                self.push(Val::default());
            }
            // `await fetch(u)` is the response itself: what it is (a network call's result)
            // matters to what is read from it (`(await res.text())`).
            Op::GetAwaitable => {
                let mut value = self.pop();
                value.variable = None;
                value.iterator = false;
                self.push(value);
            }
            Op::UnaryOp | Op::FormatValue | Op::YieldFrom | Op::YieldValue => {
                let value = self.pop();
                self.push(value.data());
            }
            Op::BuildList | Op::BuildTuple | Op::BuildSet | Op::BuildSlice => {
                let items = self.pop_n(self.count(args));
                self.push_union(&items);
            }
            Op::BuildMap => {
                let spreads = std::mem::take(&mut self.merges);
                let items = self.pop_n(2 * self.count(args) + spreads);
                self.push_union(&items);
            }
            Op::ListAppend | Op::SetAdd | Op::MapAdd => {
                let items = self.pop_n(if op == Op::MapAdd { 2 } else { 1 });
                // The collection being built sits below the comprehension's iterator.
                if let Some(target) = self.stack.iter_mut().rev().find(|v| !v.iterator) {
                    for item in &items {
                        target.absorb(&item.data());
                    }
                }
            }
            Op::ListExtend => {}
            // `{**os.environ}`, `{...process.env}`: the spread value stays on the stack and the
            // map display that follows counts only its key/value pairs.
            Op::DictMerge => self.merges += 1,
            Op::Copy => {
                let top = self.stack.last().cloned().unwrap_or_default();
                self.push(top);
            }
            Op::UnpackSequence | Op::UnpackEx => {
                let value = self.pop();
                let n = args.iter().map(|arg| self.code.count_of(arg).min(64)).sum::<usize>().clamp(1, 64);
                for _ in 0..n {
                    self.push(value.data());
                }
            }
            Op::UnpackMapping => {}
            Op::KwNames => {
                self.keywords = args.iter().map(|arg| self.text(arg)).collect();
            }
            Op::Call | Op::CallNew | Op::CallFunctionEx => {
                self.merges = 0; // a call's count includes its `**kwargs`
                let arguments = self.pop_n(self.count(args));
                let callee = self.pop();
                self.call(callee, &arguments);
            }
            Op::ReturnValue | Op::RaiseVarargs => {
                self.pop();
            }
            Op::JumpIfFalseOrPop | Op::JumpIfTrueOrPop | Op::JumpIfNotNoneOrPop | Op::JumpForward => {
                if let Some(top) = self.stack.last() {
                    if !top.iterator {
                        let value = self.pop();
                        self.carry = Some(value.data());
                    }
                }
            }
            Op::GetIter | Op::GetAiter | Op::GetKeys => {
                let mut value = self.pop().data();
                value.iterator = true;
                self.stack.push(value);
            }
            Op::ForIter => {
                let item = self.stack.iter().rev().find(|v| v.iterator).map(|v| v.data()).unwrap_or_default();
                self.push(item);
            }
            Op::EndFor => {
                if let Some(at) = self.stack.iter().rposition(|v| v.iterator) {
                    // A generator expression leaves what it yielded above its iterator: that
                    // becomes the generator, the argument of the call that follows.
                    let yielded = self.stack.split_off(at + 1);
                    self.stack.truncate(at);
                    if !yielded.is_empty() {
                        self.push_union(&yielded);
                    }
                }
            }
            Op::BeforeWith | Op::BeforeAsyncWith => {
                let value = self.pop();
                self.push(value);
            }
            _ => {}
        }
    }

    fn store(&mut self, name: &'t str, mut value: Val<'t>) {
        value.variable = None;
        value.iterator = false;
        if self.variables.len() < MAX_VARIABLES || self.variables.contains_key(name) {
            self.variables.insert(name, value);
        }
    }

    fn push_union(&mut self, items: &[Val<'t>]) {
        let mut value = Val::default();
        for item in items {
            value.absorb(&item.data());
        }
        self.push(value);
    }

    fn call(&mut self, callee: Val<'t>, arguments: &[Val<'t>]) {
        let keywords = std::mem::take(&mut self.keywords);
        // Keyword arguments are the last ones, in order.
        let keyword = |i: usize| -> Option<&str> {
            let first = arguments.len().checked_sub(keywords.len())?;
            i.checked_sub(first).and_then(|k| keywords.get(k).copied())
        };
        let sink = match callee.callee {
            Some(Callee::Network | Callee::NetworkSend) => Some(SinkKind::Network),
            Some(Callee::Webhook) => Some(SinkKind::Webhook),
            Some(Callee::CodeExecution | Callee::Deserialization) => Some(SinkKind::CodeExecution),
            Some(Callee::Process) => Some(SinkKind::Process),
            Some(Callee::Persistence) => Some(SinkKind::Autostart),
            Some(Callee::FileWrite) if arguments.iter().any(|a| matches!(a.place, Some((Place::Autostart, _)))) => {
                Some(SinkKind::Autostart)
            }
            _ if callee.autostart_handle => Some(SinkKind::Autostart),
            _ => None,
        };
        // Where a network call sends to: the first argument that names a URL.
        let destination = arguments.iter().find_map(|a| match a.place {
            Some((place @ (Place::Url | Place::Webhook), noted)) => Some((place, noted)),
            _ => None,
        });
        if let Some(mut sink) = sink {
            if sink == SinkKind::Network && matches!(destination, Some((Place::Webhook, _))) {
                sink = SinkKind::Webhook;
            }
            for (i, argument) in arguments.iter().enumerate() {
                // A child process inheriting the environment is not the environment sent anywhere.
                if sink == SinkKind::Process && matches!(keyword(i), Some("env" | "cwd")) {
                    continue;
                }
                // Where a file is copied to is not what is written there.
                if sink == SinkKind::Autostart && matches!(argument.place, Some((Place::Autostart, _))) {
                    continue;
                }
                for origin in &argument.origins {
                    let ordinary = match origin.kind {
                        // Running what was downloaded is the point of a dropper.
                        SourceKind::NetworkDownload => false,
                        // Commands found through PATH, chosen by $EDITOR or given a password are
                        // everyday code; a command that names a URL (`curl URL -d $TOKEN`) sends.
                        _ if sink == SinkKind::Process => destination.is_none(),
                        // Resolving one's own host name is not leaking it; a name built from it
                        // (`f"{user}.{host}.evil.tld"`) is a DNS beacon.
                        SourceKind::HostInfo => callee.callee == Some(Callee::NetworkSend) && !argument.built,
                        _ => false,
                    };
                    if !ordinary {
                        self.report(*origin, sink, destination.and_then(|(_, noted)| noted));
                    }
                }
            }
        }
        let mut result = Val::default();
        match callee.callee {
            Some(Callee::Deserialization) => {}
            // `os.getenv('HOME')`, `os.environ.get(name)`: one variable (`.copy()`, `.items()`
            // take no argument and stay the whole environment).
            _ if callee.whole_environment && !arguments.is_empty() => {
                result = callee.data();
                result.whole_environment = true;
                result = result.one_variable(arguments[0].constant);
                for argument in arguments {
                    result.absorb(&argument.data());
                }
            }
            Some(Callee::FileOpen) => {
                // File contents are as sensitive as the file, whatever computed its path.
                for argument in arguments {
                    match argument.place {
                        Some((Place::Secret(kind), noted)) => {
                            result.taint(Origin { kind, line: self.line, detail: noted });
                        }
                        Some((Place::Autostart, _)) => result.autostart_handle = true,
                        _ => {}
                    }
                    for origin in &argument.origins {
                        if matches!(origin.kind, SourceKind::BrowserData | SourceKind::Wallet | SourceKind::Credentials)
                        {
                            result.taint(*origin);
                        }
                    }
                }
            }
            Some(Callee::Network) => {
                result.absorb(&callee.data());
                let download = Origin {
                    kind: SourceKind::NetworkDownload,
                    line: self.line,
                    detail: destination.and_then(|(_, noted)| noted),
                };
                // A response, a session, an error: downloaded content is what is read from it
                // (`.text`, `.read()`), see `LOAD_ATTR`; pickling the object itself is not.
                self.last_download = Some(download);
                result.callee = callee.callee;
            }
            _ => {
                result.absorb(&callee.data());
                for argument in arguments {
                    result.absorb(&argument.data());
                }
                if let Some(Callee::Source(kind)) = callee.callee {
                    result.taint(Origin { kind, line: self.line, detail: None });
                }
            }
        }
        self.push(result);
    }

    fn report(&mut self, origin: Origin, sink: SinkKind, destination: Option<u32>) {
        if !sink.reports(origin.kind) || self.flows.len() >= MAX_FLOWS {
            return;
        }
        if self.flows.iter().any(|f| f.source == origin.kind && f.sink == sink) {
            return;
        }
        let flow = Flow {
            source: origin.kind,
            sink,
            source_line: origin.line,
            sink_line: self.line,
            source_detail: self.detail(origin.detail),
            sink_detail: self.detail(destination),
        };
        self.flows.push(flow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::malwicode::StringClass;

    #[test]
    fn places_are_recognised_by_what_they_name() {
        assert_eq!(place_of("~/.ssh/id_rsa"), Some(Place::Secret(SourceKind::SensitiveFile)));
        assert_eq!(
            place_of("AppData\\Local\\Google\\Chrome\\User Data\\Default\\Login Data"),
            Some(Place::Secret(SourceKind::BrowserData))
        );
        assert_eq!(place_of("https://discord.com/api/webhooks/1/x"), Some(Place::Webhook));
        assert_eq!(place_of("http://example.com/a.py"), Some(Place::Url));
        assert_eq!(place_of("~/.bashrc"), Some(Place::Autostart));
        assert_eq!(place_of("README.md"), None);
    }

    #[test]
    fn flow_tokens_are_unique_and_exclude_unreported_pairs() {
        let tokens = flow_tokens();
        let unique: std::collections::HashSet<_> = tokens.iter().collect();
        assert_eq!(unique.len(), tokens.len());
        assert!(tokens.contains(&"FLOW_ENVIRONMENT_TO_NETWORK"));
        assert!(!tokens.contains(&"FLOW_NETWORK_DOWNLOAD_TO_NETWORK"));
        assert_eq!(flow_token(SourceKind::Wallet, SinkKind::Webhook), "FLOW_WALLET_TO_WEBHOOK");
    }

    proptest::proptest! {
        /// Any instruction sequence, balanced or not, runs to the end within its bounds.
        #[test]
        fn arbitrary_instruction_streams_are_analysed_without_panics(
            picks in proptest::collection::vec(0usize..24, 0..400),
            line_every in 1usize..20,
        ) {
            const WORDS: [&str; 24] = [
                "LOAD_NAME", "x", "ENVIRONMENT_VARIABLE_ACCESS", "LOAD_ATTR", "NETWORK_HTTP_REQUEST", "CALL", "2",
                "STORE_NAME", "STORE_SUBSCR", "BUILD_MAP", "0", "GET_ITER", "FOR_ITER", "END_FOR", "LIST_APPEND",
                "JUMP_IF_TRUE_OR_POP", "KW_NAMES", "env", "LOAD_CONST", "STRING_URL", "FILESYSTEM_ACCESS",
                "DYNAMIC_CODE_EXECUTION", "UNPACK_SEQUENCE", "POP_TOP",
            ];
            const CATEGORIES: [&str; 4] =
                ["ENVIRONMENT_VARIABLE_ACCESS", "NETWORK_HTTP_REQUEST", "FILESYSTEM_ACCESS", "DYNAMIC_CODE_EXECUTION"];
            let mut code = Malwicode::new();
            for (i, &pick) in picks.iter().enumerate() {
                let word = WORDS[pick];
                if let Some(op) = Op::from_name(word) {
                    if i % line_every == 0 {
                        code.statement(i as u32 + 1);
                    }
                    code.op(op);
                } else if let Some(&category) = CATEGORIES.iter().find(|c| **c == word) {
                    code.category(category);
                } else if word == "STRING_URL" {
                    code.string(StringClass::Url, None, Some("http://example.com/".into()));
                } else if let Ok(n) = word.parse::<usize>() {
                    code.count(n);
                } else {
                    code.name(word);
                }
            }
            let found = flows(&code, 1);
            proptest::prop_assert!(found.len() <= MAX_FLOWS);
            for flow in &found {
                proptest::prop_assert!(flow.sink.reports(flow.source));
            }
        }
    }

    #[test]
    fn unbalanced_code_never_panics() {
        for tokens in ["CALL 5", "POP_TOP POP_TOP STORE_NAME x", "END_FOR FOR_ITER", "BUILD_MAP 900000", ""] {
            let code = Malwicode::parse(tokens, |_| false, |_| None);
            assert!(flows(&code, 1).is_empty());
        }
    }
}

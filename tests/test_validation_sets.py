"""The hand-written validation sets under data/validation: shape, defanging, and that training
never reads them. Reads the samples as text only; nothing here runs them."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NPM_SET = ROOT / "data" / "validation" / "npm-malicious"
README = NPM_SET / "README.md"
TRAINING_CONFIG = ROOT / "data" / "training" / "training_config.json"

MARKER = "synthetic defanged validation sample"
HEADER = re.compile(r"^// SYNTHETIC, DEFANGED malwi validation sample - modelled on .+; never run\.$")
FOLDER_NAME = re.compile(r"^\d{3}-[a-z0-9]+(?:-[a-z0-9]+)*$")
JS_SUFFIXES = {".js", ".cjs", ".mjs"}
LIFECYCLE = {"preinstall", "install", "postinstall", "preuninstall", "uninstall", "postuninstall", "prepare"}
TEST_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]

URL = re.compile(r"\b(?:https?|wss?|ftp)://([^/\s'\"`<>\\)|]*)", re.IGNORECASE)
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)")
# Real-looking domains: a name under a common public suffix (lower case, as hosts are written).
DOMAIN = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:com|net|org|io|xyz|ru|cn|su|tk|pw|biz|cc|gg|ly|co|de|uk|us))\b")
DOMAIN_ALLOWED = {"socket.io"}  # an npm package name, not a host
SECRETS = {
    "discord webhook token": re.compile(r"/api/webhooks/\d{17,20}/[\w-]{50,}"),
    "npm token": re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    "github token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "private key block": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "aws access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "ethereum address": re.compile(r"\b0x[0-9a-fA-F]{40}\b"),
    "bitcoin address": re.compile(r"\b(?:bc1[02-9ac-hj-np-z]{25,62}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"),
    "ssh public key": re.compile(r"\bssh-(?:rsa|ed25519) AAAA[0-9A-Za-z+/]{40,}"),
}

# Wipes, overwrites and persistence that would harm the machine; they must aim at the placeholder.
DESTRUCTIVE = re.compile(
    r"rm -rf|rd /s /q|\bshred\b|del /F|\brmSync\b|authorized_keys|\bshutdown\b|\.bashrc|\.zshrc|writeFile\(i,"
)
PLACEHOLDER = "malwi-defanged-placeholder"

BASE64 = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}")
HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){10,}\b")
CHARCODES = re.compile(r"\[\s*(\d{2,3}(?:\s*,\s*\d{2,3}){7,})\s*\]|fromCharCode\(([\d,\s]+)\)")
ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")


def folders() -> list[Path]:
    return sorted(p for p in NPM_SET.iterdir() if p.is_dir())


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def all_files() -> list[Path]:
    return [f for folder in folders() for f in files(folder)] + [README]


def rel(path: Path) -> str:
    return path.relative_to(NPM_SET).as_posix()


def package(folder: Path) -> dict:
    return json.loads((folder / "package.json").read_text(encoding="utf-8"))


def printable(data: bytes) -> str | None:
    """The text the bytes decode to, when they look like text (UTF-8 or UTF-16LE)."""
    if len(data) >= 4 and data[1::2].count(0) == len(data[1::2]):
        data = data[0::2]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    good = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if text and good / len(text) > 0.95 else None


def base64_decoded(text: str) -> list[str]:
    """The printable texts that the base64 blobs in `text` decode to."""
    found = []
    for blob in BASE64.findall(text):
        try:
            decoded = printable(base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True))
        except (binascii.Error, ValueError):
            continue
        if decoded:
            found.append(decoded)
    return found


@cache
def views(path: Path) -> tuple[str, ...]:
    """The file's text plus what its encoded pieces decode to: JS escapes, base64, hex, char-code
    arrays, private-use characters and the reversed text, so an encoded host is checked too."""
    raw = path.read_text(encoding="utf-8")
    out = [raw, raw[::-1]]
    out.append(ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), raw))
    out.append("".join(chr(ord(c) - 0xE000) if 0xE000 <= ord(c) <= 0xF8FF else c for c in raw))
    for text in list(out):
        out += base64_decoded(text)
        for blob in HEX.findall(text):
            decoded = printable(bytes.fromhex(blob))
            if decoded:
                out.append(decoded)
        for match in CHARCODES.finditer(text):
            codes = [int(n) for n in re.findall(r"\d+", match.group(1) or match.group(2))]
            if all(9 <= n < 0x110000 for n in codes):
                out.append("".join(map(chr, codes)))
    # A second pass catches base64 inside decoded text (double-encoded payloads).
    for text in out[4:]:
        out += base64_decoded(text)
    return tuple(out)


def test_the_set_is_large_enough_and_numbered_in_order():
    names = [f.name for f in folders()]
    assert len(names) >= 60, f"only {len(names)} packages"
    assert all(FOLDER_NAME.match(n) for n in names), [n for n in names if not FOLDER_NAME.match(n)]
    assert [int(n[:3]) for n in names] == list(range(1, len(names) + 1))
    assert not [p for p in NPM_SET.iterdir() if p.is_file() and p != README]


@pytest.mark.parametrize("folder", folders(), ids=lambda p: p.name)
def test_each_package_json_is_marked_and_plausible(folder: Path):
    meta = package(folder)
    assert meta.get("_malwi") == MARKER
    for key in ("name", "version", "description"):
        assert isinstance(meta.get(key), str) and meta[key].strip(), key
    assert "defang" not in meta["description"].lower(), "the description should look like a real one"


@pytest.mark.parametrize("folder", folders(), ids=lambda p: p.name)
def test_each_payload_is_reachable(folder: Path):
    meta = package(folder)
    scripts = meta.get("scripts", {})
    hooks = {name: cmd for name, cmd in scripts.items() if name in LIFECYCLE}
    main = folder / meta.get("main", "index.js")
    assert hooks or main.is_file(), "neither a lifecycle script nor the main file"
    if "main" in meta:
        assert main.is_file(), f"main {meta['main']} is missing"
    # A hook that runs a file of the package must find it.
    for cmd in hooks.values():
        for script in re.findall(r"\b(?:node|bun)\s+(?:\./)?([\w./-]+\.(?:js|cjs|mjs))", cmd):
            assert (folder / script).is_file(), f"{cmd!r} runs a missing file"


def test_readme_table_lists_every_folder_once():
    text = README.read_text(encoding="utf-8")
    assert "never trained on" in text.lower()
    cells = re.findall(r"^\|\s*`?(\d{3}-[a-z0-9-]+)`?\s*\|", text, re.MULTILINE)
    names = [f.name for f in folders()]
    duplicates = sorted({c for c in cells if cells.count(c) > 1})
    assert not duplicates, duplicates
    assert sorted(cells) == names


def test_every_js_file_starts_with_the_synthetic_comment():
    js = [f for folder in folders() for f in files(folder) if f.suffix in JS_SUFFIXES]
    assert len(js) >= len(folders())
    bad = []
    for f in js:
        lines = f.read_text(encoding="utf-8").splitlines()
        first = lines[1] if lines and lines[0].startswith("#!") else (lines[0] if lines else "")
        if not HEADER.match(first):
            bad.append(rel(f))
    assert not bad, bad


def test_every_other_text_file_says_it_is_synthetic():
    others = [f for folder in folders() for f in files(folder) if f.suffix not in JS_SUFFIXES | {".json"}]
    bad = [
        rel(f) for f in others if "SYNTHETIC, DEFANGED" not in f.read_text(encoding="utf-8").splitlines()[0]
    ]
    assert not bad, bad


def is_test_net(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in net for net in TEST_NETS)


def defanged_host(host: str) -> bool:
    host = host.rsplit("@", 1)[-1]
    host = re.sub(r":\d*$", "", host).rstrip(".").lower()
    return host.endswith(".invalid") or is_test_net(host)


@pytest.mark.parametrize("path", all_files(), ids=rel)
def test_every_host_is_defanged(path: Path):
    bad = set()
    for text in views(path):
        for host in URL.findall(text):
            if host and not defanged_host(host):
                bad.add("url host " + host)
        for ip in IPV4.findall(text):
            if all(int(part) < 256 for part in ip.split(".")) and not is_test_net(ip):
                bad.add("ip " + ip)
        for domain in DOMAIN.findall(text):
            if domain not in DOMAIN_ALLOWED:
                bad.add("domain " + domain)
    assert not bad, sorted(bad)


@pytest.mark.parametrize("path", all_files(), ids=rel)
def test_nothing_looks_like_a_real_secret(path: Path):
    found = sorted(
        {
            f"{kind}: {m.group(0)[:24]}"
            for text in views(path)
            for kind, rx in SECRETS.items()
            for m in rx.finditer(text)
        }
    )
    assert not found, found


@pytest.mark.parametrize("path", all_files(), ids=rel)
def test_destructive_steps_aim_at_the_placeholder(path: Path):
    body = "\n".join(path.read_text(encoding="utf-8").splitlines()[1:])
    if path != README and DESTRUCTIVE.search(body):
        assert any(PLACEHOLDER in text for text in views(path)), DESTRUCTIVE.search(body).group(0)


def test_the_defang_checks_catch_what_they_should():
    assert not defanged_host("collector.example.com")
    assert not defanged_host("8.8.8.8:53")
    assert defanged_host("user@collector.example.invalid:8080")
    assert defanged_host("203.0.113.9")
    assert not is_test_net("192.0.3.1")
    assert SECRETS["npm token"].search("npm_" + "A1b2" * 9)
    assert SECRETS["discord webhook token"].search("/api/webhooks/123456789012345678/" + "x" * 68)
    hidden = base64.b64encode(b"fetch('https://evil.example.com/x')").decode()
    assert URL.search(printable(base64.b64decode(hidden)) or "").group(1) == "evil.example.com"


def test_training_configuration_never_reads_the_validation_sets():
    text = TRAINING_CONFIG.read_text(encoding="utf-8")
    assert "data/validation" not in text
    assert "npm-malicious" not in text
    validation = (ROOT / "data" / "validation").resolve()

    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    for value in strings(json.loads(text)):
        if "/" in value or value.startswith("."):
            target = (TRAINING_CONFIG.parent / value).resolve()
            assert not target.is_relative_to(validation), value

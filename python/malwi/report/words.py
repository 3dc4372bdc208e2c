"""How findings are put in words, for people: the reason an object carries its package's
verdict ("at install time: starts operating-system processes and shells; sends environment
variables to https://..."), flows and protectors in one line. The text, Markdown and SARIF
renderers share these; nothing here decides anything.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from malwi._malwi import categories
from malwi.report.result import FileFinding, ObjectFinding

# 10 × the highest pattern confidence of each category in data/patterns/pattern_database.json
# (tests/test_sarif.py keeps the two in step): which behaviour of an object matters most.
SECURITY_SEVERITY: dict[str, float] = {
    "ARCHIVE_HANDLING": 4.5,
    "AUDIO_VIDEO_CAPTURE": 7.5,
    "BROWSER_DATA_ACCESS": 8.5,
    "CLIPBOARD_ACCESS": 8.0,
    "COMPRESSION": 5.5,
    "CONCURRENCY": 1.5,
    "CREDENTIAL_ACCESS": 8.5,
    "CRYPTOGRAPHY": 6.0,
    "CRYPTOGRAPHY_HASHING": 2.0,
    "CRYPTO_WALLET": 7.5,
    "DATABASE_ACCESS": 3.5,
    "DESERIALIZATION": 7.5,
    "DYNAMIC_CODE_EXECUTION": 9.0,
    "DYNAMIC_IMPORT": 7.0,
    "ENCODING_DECODING": 6.0,
    "ENVIRONMENT_VARIABLE_ACCESS": 5.0,
    "EVASION": 8.0,
    "FILESYSTEM_ACCESS": 3.0,
    "FILESYSTEM_DELETION": 6.0,
    "FILESYSTEM_ENUMERATION": 3.0,
    "FILESYSTEM_PERMISSIONS": 5.0,
    "FILESYSTEM_TEMP": 3.5,
    "FILESYSTEM_WRITE": 4.0,
    "INPUT_CONTROL": 5.0,
    "INSTALL_HOOK": 7.0,
    "KEYLOGGING": 9.0,
    "LOGGING_TAMPERING": 3.5,
    "MESSAGING_WEBHOOK": 7.5,
    "NATIVE_CODE": 7.0,
    "NETWORK_DNS": 6.0,
    "NETWORK_EMAIL": 6.0,
    "NETWORK_FILE_TRANSFER": 6.0,
    "NETWORK_HTTP_REQUEST": 6.5,
    "NETWORK_SERVER": 4.0,
    "NETWORK_SOCKET": 6.5,
    "OBFUSCATION_RUNTIME": 8.5,
    "PACKAGE_INSTALLATION": 7.0,
    "PACKAGE_SETUP": 0.5,
    "PERSISTENCE": 8.0,
    "PRIVILEGE_ESCALATION": 7.5,
    "PROCESS_MANAGEMENT": 8.5,
    "PROCESS_TERMINATION": 5.0,
    "REFLECTION": 5.5,
    "REMOTE_ACCESS": 7.0,
    "SCREEN_CAPTURE": 7.5,
    "SYSINFO_HOST": 4.5,
    "SYSINFO_NETWORK": 4.5,
    "SYSINFO_PLATFORM": 2.5,
    "SYSINFO_PROCESS": 3.5,
    "SYSINFO_USER": 4.0,
    "USER_INTERFACE_DECEPTION": 5.5,
    "WEB_BROWSER": 4.5,
    "WINDOWS_REGISTRY": 5.5,
}
DEFAULT_SEVERITY = 5.0
# Behaviours named per reason: the most severe ones.
MAX_ACTIVITIES = 3

SOURCES = {
    "environment": "environment variables",
    "sensitive_file": "a sensitive file",
    "credentials": "stored credentials",
    "browser_data": "browser data",
    "wallet": "crypto wallet files",
    "host_info": "host information",
    "clipboard": "the clipboard",
    "keystrokes": "keystrokes",
    "screenshot": "screenshots",
    "audio_video": "microphone or camera recordings",
    "network_download": "downloaded data",
}
SINKS = {
    "network": "sends {what} over the network",
    "webhook": "sends {what} to a webhook",
    "code_execution": "runs {what} as code",
    "process": "passes {what} to a command",
    "autostart": "writes {what} where it runs at start-up",
}


def flow_text(flow: dict[str, Any]) -> str:
    """`environment → network (lines 3 → 4, to https://host/x)`."""
    lines = f"line {flow['sink_line']}"
    if flow["source_line"] != flow["sink_line"]:
        lines = f"lines {flow['source_line']} → {flow['sink_line']}"
    details = [
        d
        for d in (
            flow.get("source_detail") and f"from {flow['source_detail']}",
            flow.get("sink_detail") and f"to {flow['sink_detail']}",
        )
        if d
    ]
    return f"{flow['source']} → {flow['sink']} ({', '.join([lines, *details])})"


def protector_evidence(protection: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence of the protector a file is said to be protected by (it may show traces of others)."""
    return [e for e in protection["evidence"] if e["protector"] == protection["protector"]]


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, str]:
    """Each category's description as a verb phrase: `starts, replaces or controls ... shells`."""
    return {name: text[:1].lower() + text[1:].rstrip(".") for name, text in categories()}


def when(file: FileFinding, obj: ObjectFinding) -> str:
    """Where the object's code runs, from its reachability class (`malwi.engine.reach`)."""
    path = file.path.replace("\\", "/")
    name = path.rsplit("/", 1)[-1]
    if obj.reach == "install":
        if "package.json#scripts." in path:
            return "at install time (an npm install script)"
        if name == "setup.py":
            return "at install time (setup.py)"
        if name.endswith(".pth"):
            return "at every Python start-up (a .pth file)"
        return "at install time (imported by the install code)"
    if obj.reach == "import":
        return "when the module is loaded (imported or run)"
    if obj.reach == "non-shipped":
        return "in tests, docs or tooling (not run by installing or using the package)"
    return "when called"


def _flow_words(flow: dict[str, Any]) -> str:
    source, sink = str(flow["source"]), str(flow["sink"])
    what = SOURCES.get(source, source.replace("_", " "))
    if flow.get("source_detail"):
        what += f" ({flow['source_detail']})"
    words = SINKS.get(sink, "sends {what} to " + sink).format(what=what)
    if flow.get("sink_detail"):
        words += f" ({flow['sink_detail']})"
    return words


def reason(file: FileFinding, obj: ObjectFinding) -> str:
    """Why an object carries its package's verdict, in plain words."""
    said = [_flow_words(flow) for flow in obj.flows[:2]]
    if obj.decoded_from:
        said.append(f"is code hidden in a string literal ({obj.decoded_from})")
    descriptions = _descriptions()
    ranked = sorted(obj.activities, key=lambda a: -SECURITY_SEVERITY.get(a, DEFAULT_SEVERITY))
    said += [descriptions.get(a, a.lower().replace("_", " ")) for a in ranked[:MAX_ACTIVITIES]]
    if not said:
        said.append("shows no behaviour malwi names; the model scores its code as malware")
    return f"{when(file, obj)}: " + "; ".join(said)

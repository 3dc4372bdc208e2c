"""The `malwi` command line, run as a user runs it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

import malwi

from .conftest import EXAMPLES, ROOT, run_malwi


def test_version() -> None:
    result = run_malwi("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"malwi {malwi.__version__} (malwi-scanner on PyPI)"


def test_the_distribution_name_is_one_name_everywhere() -> None:
    """pyproject's name is the one --version, SARIF, the README, the Action and the release
    workflow give; `pip install malwi` is another project and is never suggested."""
    declared = re.search(r'^name = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert declared is not None and declared.group(1) == malwi.DISTRIBUTION
    for path in (
        "README.md",
        "docs/usage.md",
        ".pre-commit-hooks.yaml",
        "action.yml",
        ".github/workflows/release.yml",
    ):
        text = (ROOT / path).read_text()
        assert not re.search(r"pip install malwi(?![-\w])", text), path
    assert "malwi-scanner" in (ROOT / "README.md").read_text()


def test_scan_tokens_prints_a_header_and_tokens_per_object(examples: Path) -> None:
    result = run_malwi("scan", str(examples / "malicious-python"), "--format", "tokens")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    headers = lines[0::2]
    assert all(h.startswith("# ") for h in headers)
    assert len(lines) % 2 == 0
    # A header and the tokens of every object of every file, in the order the compiler gives them.
    compiled = malwi.compile_files(
        [path for path, _ in malwi.discover([examples / "malicious-python"]).files]
    )
    assert list(zip(headers, lines[1::2])) == [
        (f"# {o.file_path}:{o.location[0]}-{o.location[1]} {o.kind} {o.name}", o.to_token_string())
        for report in compiled
        for o in report.objects
    ]
    assert any(h.endswith("setup.py:8-10 method PostInstallCommand.run") for h in headers)
    run_tokens = lines[lines.index(next(h for h in headers if "PostInstallCommand.run" in h)) + 1]
    assert "LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT LOAD_CONST STRING_CONTAINS_URL CALL 1" in run_tokens


def test_dumps_need_no_model(examples: Path, tmp_path: Path) -> None:
    """tokens, code and the --no-model JSON never load a model: an unusable model path is fine."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MALWI_MODEL": str(tmp_path / "no-model-here")}
    for args in (["-f", "tokens"], ["-f", "code"], ["-f", "json", "--no-model"]):
        result = subprocess.run(
            [sys.executable, "-m", "malwi", "scan", str(examples), *args],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout
        assert str(examples / "malicious-python" / "setup.py").encode() in result.stdout, args


def test_scan_code_prints_sources_with_headers(examples: Path) -> None:
    result = run_malwi("scan", str(examples / "malicious-python" / "loader.py"), "-f", "code")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.startswith("# ")
    assert 'exec(base64.b64decode("' in text


def test_scan_json_is_structured(examples: Path) -> None:
    result = run_malwi("scan", str(examples), "--format", "json", "--no-model")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["malwi_version"] == malwi.__version__
    assert data["featurizer"]["id"] == malwi.FeaturizerConfig().featurizer_id
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert {"setup.py", "stealer.py", "loader.py", "index.js", "textstats.py", "slugify.js"} <= set(files)
    stealer = files["stealer.py"]
    assert stealer["status"] == "compiled"
    collect = next(o for o in stealer["objects"] if o["name"] == "collect")
    assert collect["kind"] == "function" and collect["language"] == "python"
    assert "ENVIRONMENT_VARIABLE_ACCESS" in collect["tokens"]
    assert len(collect["hash"]) == 64 and collect["location"][0] < collect["location"][1]
    assert collect["hash"] == hashlib.sha256(collect["tokens"].encode()).hexdigest()
    stats = data["statistics"]
    assert stats["files"] == len(data["files"]) and stats["compiled"] == stats["files"]
    assert stats["objects"] == sum(len(f["objects"]) for f in data["files"])
    assert stats["skipped_by_extension"] == 1  # examples/README.md
    assert set(files) == {"setup.py", "stealer.py", "loader.py", "index.js", "textstats.py", "slugify.js"}


def test_empty_folder_is_valid_json(tmp_path: Path) -> None:
    result = run_malwi("scan", str(tmp_path), "-f", "json", "--no-model")
    assert result.returncode == 0
    assert json.loads(result.stdout)["files"] == []


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_malwi("scan", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == f"malwi: error: path not found: {tmp_path / 'nope'}\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["scan"], "nothing to scan: give a PATH"),
        (["scan", ".", "--format", "xml"], "invalid choice: 'xml'"),
        (["scan", ".", "--threshold", "1.5"], "must be between 0 and 1"),
        (["scan", ".", "--device", "tpu"], "invalid choice: 'tpu'"),
        (["scan", ".", "--no-model", "-f", "text"], "needs the model"),
        (["scan", ".", "--workers", "-3"], "must be 0 (all cores) or more"),
        (["scan", ".", "--max-file-size", "lots"], "not a size"),
        (["scan", ".", "-f", "tokens", "--extensions", "rb"], "unsupported language"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_malwi(*args)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert stderr.count("\n") == 1 and stderr.startswith("malwi: error: "), stderr
    assert message in stderr
    assert "Traceback" not in stderr


def test_bad_featurizer_config_is_one_line(tmp_path: Path, examples: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"version": 99}')
    result = run_malwi("scan", str(examples), "-f", "tokens", "--featurizer-config", str(config))
    assert result.returncode == 2
    assert result.stderr.decode().startswith("malwi: error: featurizer config version 99")


def test_output_file(tmp_path: Path, examples: Path) -> None:
    out = tmp_path / "tokens.txt"
    result = run_malwi("scan", str(examples), "-f", "tokens", "--output", str(out))
    assert result.returncode == 0 and result.stdout == b""
    assert out.read_bytes() == run_malwi("scan", str(examples), "-f", "tokens").stdout
    unwritable = run_malwi(
        "scan", str(examples), "-f", "tokens", "--output", str(tmp_path / "no" / "such" / "dir.txt")
    )
    assert unwritable.returncode == 2 and unwritable.stderr.startswith(b"malwi: error: cannot write")


def test_workers_do_not_change_output(examples: Path) -> None:
    one = run_malwi("scan", str(examples), "-f", "tokens", "-w", "1").stdout
    assert one and one == run_malwi("scan", str(examples), "-f", "tokens", "-w", "2").stdout


def test_extensions_filter(examples: Path) -> None:
    text = run_malwi("scan", str(examples), "-f", "tokens", "--extensions", "js").stdout.decode()
    headers = [line for line in text.splitlines() if line.startswith("# ")]
    assert headers and all(".js:" in h for h in headers)
    assert {h[2:].split(":")[0] for h in headers} == {
        str(examples / "benign" / "slugify.js"),
        str(examples / "malicious-javascript" / "index.js"),
    }


def test_oversized_files_are_compiled_in_windows_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * 2000)
    (tmp_path / "small.py").write_text("import os\n")
    result = run_malwi("scan", str(tmp_path), "-f", "tokens", "--max-file-size", "1KB")
    assert result.returncode == 0
    assert b"small.py" in result.stdout and b"big.py" in result.stdout
    assert b"big.py: larger than the size limit (0.0 MB > 0.0 MB): compiled in 12 windows" in result.stderr
    quiet = run_malwi("scan", str(tmp_path), "-f", "tokens", "--max-file-size", "1KB", "--quiet")
    assert quiet.stderr == b"" and quiet.stdout == result.stdout


def test_methods_flag(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("class A:\n    def m(self):\n        pass\n")
    separate = run_malwi("scan", str(tmp_path), "-f", "tokens").stdout.decode()
    inline = run_malwi("scan", str(tmp_path), "-f", "tokens", "--methods", "inline").stdout.decode()
    assert "method A.m" in separate and "method A.m" not in inline


def test_python_dash_m_and_console_script_agree(examples: Path) -> None:
    import subprocess
    import sys

    script = Path(sys.executable).parent / "malwi"
    assert script.exists(), "the malwi console script is installed beside the interpreter"
    direct = subprocess.run(
        [str(script), "scan", str(examples), "-f", "tokens"], capture_output=True, timeout=60
    )
    assert direct.returncode == 0
    assert direct.stdout == run_malwi("scan", str(examples), "-f", "tokens").stdout


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_malwi()
    assert result.returncode == 2
    assert b"usage: malwi" in result.stderr


def test_pre_commit_hooks_run_as_declared(tmp_path: Path) -> None:
    """The hook file parses, and its entry with file names appended behaves as pre-commit runs it."""
    import shlex

    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {hook["id"] for hook in hooks} == {"malwi", "malwi-system"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] in ("python", "system")
        program, *arguments = shlex.split(hook["entry"])
        assert program == "malwi"
        clean = run_malwi(
            *arguments, str(EXAMPLES / "benign" / "textstats.py"), str(EXAMPLES / "benign" / "slugify.js")
        )
        assert clean.returncode == 0 and clean.stdout.startswith(b"=> good"), clean.stderr
        dirty = run_malwi(
            *arguments,
            str(EXAMPLES / "benign" / "textstats.py"),
            str(EXAMPLES / "malicious-python" / "setup.py"),
        )
        assert dirty.returncode == 1 and dirty.stdout.startswith(b"=> malicious")

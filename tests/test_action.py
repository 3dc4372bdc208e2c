"""`action.yml`: the composite GitHub Action that installs malwi, scans and uploads SARIF.

The action's shell steps are run here as a runner would run them (`bash --noprofile --norc -eo
pipefail`, `${{ }}` expressions filled in, `$GITHUB_OUTPUT` read back), in a temporary git
repository, with the malwi of this checkout and the tiny test model. The `uses:` steps
(actions/setup-python, github/codeql-action/upload-sarif) need GitHub and are not run: their
inputs and conditions are checked instead. Only the test's own files are scanned; nothing
scanned is run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from malwi.report.sarif import SRCROOT

from .conftest import ROOT
from .test_sarif import MALICIOUS_CODE, git_work_tree, outside_any_work_tree, validate
from .tiny_model import build_tiny_bundle

ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUTS = {"path", "args", "sarif-file", "fail-on", "upload", "category", "python-version", "install"}
UPLOAD_IF = "always() && inputs.upload == 'true' && steps.scan.outputs.sarif-file != ''"
# GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
# The one substitution: the install step's `python -m pip install SPEC` is not run (malwi is
# installed in this virtual environment already); a shell function takes its place and records
# what would have been installed. Its `malwi --version` runs for real.
PIP_LINE = 'python -m pip install --disable-pip-version-check "${MALWI_INSTALL:-$MALWI_ACTION_PATH}"'
PIP_STUB = 'python() { printf "%s\\n" "$@" > "$MALWI_TEST_PIP_LOG"; }\n'


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def steps_of(action: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    return steps


def test_a_composite_action_with_its_inputs(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    defaults = {name: spec.get("default") for name, spec in action["inputs"].items()}
    assert defaults["path"] == "." and defaults["sarif-file"] == "malwi.sarif"
    assert defaults["fail-on"] == "malicious,incomplete" and defaults["upload"] == "true"
    assert defaults["install"] == "", "the default installs this action's own checkout"
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}
    steps = steps_of(action)
    uses = [step["uses"] for step in steps if "uses" in step]
    assert [use.split("@")[0] for use in uses] == [
        "actions/setup-python",
        "github/codeql-action/upload-sarif",
    ]
    assert all(re.fullmatch(r"[\w./-]+@v\d+", use) for use in uses), uses
    upload = next(
        step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif")
    )
    assert upload["if"] == UPLOAD_IF and upload["if"].startswith("always()"), (
        "upload even when the scan fails"
    )
    assert upload["with"] == {
        "sarif_file": "${{ steps.scan.outputs.sarif-file }}",
        "category": "${{ inputs.category }}",
    }
    ids = [step.get("id") for step in steps]
    # The scan keeps its exit code; the upload comes after it, the failing step after that.
    assert ids.index("scan") < steps.index(upload) < len(steps) - 1
    assert "exit" in steps[-1]["run"] and "steps.scan.outputs.exit-code" in str(steps[-1]["env"])
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            # Inputs reach scripts through `env` only: no expression is pasted into a script.
            assert "${{" not in step["run"], step["name"]
    # Never the unrelated `malwi` on PyPI.
    assert not re.search(r"pip install[^\n]*\bmalwi\b(?![@ ])", ACTION.read_text(encoding="utf-8"))


def run_action(
    action: dict[str, Any], workspace: Path, tiny: Path, tmp_path: Path, **given: str
) -> tuple[int, dict[str, dict[str, str]], list[str]]:
    """The action's steps in order, as a runner runs them: a failing step skips the later ones
    unless their `if` starts with always(). Returns the job's exit code, each step's outputs and
    the `uses:` steps that would have run."""
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, unknown
    inputs.update(given)
    outputs: dict[str, dict[str, str]] = {}
    pip_log = tmp_path / "pip.log"

    def value(expression: str) -> str:
        if expression == "github.action_path":
            return str(ROOT)
        match = re.fullmatch(r"inputs\.([\w-]+)", expression)
        if match:
            return inputs[match.group(1)]
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return outputs.get(match.group(1), {}).get(match.group(2), "")
        raise AssertionError(f"an expression the test does not know: {expression}")

    def fill(text: str) -> str:
        return EXPRESSION.sub(lambda m: value(m.group(1)), text)

    def condition(step: dict[str, Any], failed: bool) -> bool:
        if "if" not in step:
            return not failed
        assert step["if"] == UPLOAD_IF  # the one condition; evaluated here by hand
        return inputs["upload"] == "true" and outputs.get("scan", {}).get("sarif-file", "") != ""

    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MALWI_MODEL": str(tiny),
        "GITHUB_WORKSPACE": str(workspace),
        "MALWI_TEST_PIP_LOG": str(pip_log),
    }
    code = 0
    uses: list[str] = []
    for number, step in enumerate(steps_of(action)):
        if not condition(step, code != 0):
            continue
        if "uses" in step:
            uses.append(step["uses"].split("@")[0])
            continue
        script = step["run"]
        if step.get("id") == "install":
            assert PIP_LINE in script, "the install step changed: update the substitution"
            script = PIP_STUB + script
        output = tmp_path / f"output-{number}"
        output.write_text("")
        step_env = {**env, **{key: fill(str(text)) for key, text in step.get("env", {}).items()}}
        step_env["GITHUB_OUTPUT"] = str(output)
        done = subprocess.run(
            [*BASH, "-c", script], cwd=workspace, env=step_env, capture_output=True, text=True, timeout=300
        )
        if step.get("id"):
            pairs = (line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            outputs[step["id"]] = dict(pairs)
        if done.returncode != 0 and code == 0:
            code = done.returncode
        if step.get("id") == "install":
            assert done.returncode == 0, done.stderr
            assert pip_log.read_text().splitlines() == [
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                inputs["install"] or str(ROOT),
            ]
            assert done.stdout.startswith("malwi "), done.stdout
    return code, outputs, uses


def repository(tmp_path: Path, code: str) -> Path:
    repo = git_work_tree(outside_any_work_tree(tmp_path) / "repo")
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "src" / "pkg" / "__init__.py").write_text("")
    (repo / "src" / "pkg" / "mod.py").write_text(code)
    (repo / "README.md").write_text("a repository\n")
    return repo


def test_a_flagged_file_fails_the_job_after_the_sarif_is_uploaded(
    action: dict[str, Any], tiny: Path, tmp_path: Path
) -> None:
    repo = repository(tmp_path, MALICIOUS_CODE)
    code, outputs, uses = run_action(
        action, repo, tiny, tmp_path, path="src", args="--no-cache  --workers 1", category="malwi-src"
    )
    assert code == 1, outputs
    assert outputs["scan"] == {"exit-code": "1", "sarif-file": "malwi.sarif"}
    assert uses == ["actions/setup-python", "github/codeql-action/upload-sarif"], "uploaded, then failed"
    log = validate((repo / "malwi.sarif").read_text(encoding="utf-8"))
    run = log["runs"][0]
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == repo.as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"src/pkg/mod.py"}, "relative to the repository root, not to the folder scanned"


def test_a_good_tree_passes_and_a_failed_scan_uploads_nothing(
    action: dict[str, Any], tiny: Path, tmp_path: Path
) -> None:
    repo = repository(tmp_path, "def add(a, b):\n    return a + b\n")
    code, outputs, uses = run_action(action, repo, tiny, tmp_path, install="malwi @ file:///wheels/malwi.whl")
    assert code == 0 and outputs["scan"]["exit-code"] == "0"
    run = json.loads((repo / "malwi.sarif").read_text())["runs"][0]
    assert run["results"] == [] and run["properties"]["verdict"] == "good"
    assert uses[-1] == "github/codeql-action/upload-sarif"
    # `upload: false` only writes the log.
    code, _, uses = run_action(action, repo, tiny, tmp_path, upload="false")
    assert code == 0 and uses == ["actions/setup-python"] and (repo / "malwi.sarif").is_file()
    # An error (nothing at that path): no SARIF, nothing uploaded, the job fails with malwi's code.
    code, outputs, uses = run_action(action, repo, tiny, tmp_path, path="missing")
    assert code == 2 and outputs["scan"] == {"exit-code": "2"}
    assert uses == ["actions/setup-python"]
    written = repo / "malwi.sarif"  # the earlier run's log was removed first
    assert not written.exists() or written.stat().st_size == 0


def test_the_usage_docs_show_the_action(action: dict[str, Any]) -> None:
    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    section = usage.split("## GitHub code scanning", 1)[1].split("\n## ", 1)[0]
    workflow = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    step = next(s for s in job["steps"] if "malwi" in s.get("uses", ""))
    assert set(step.get("with", {})) <= set(action["inputs"])
    assert "docs/usage.md#github-code-scanning" in (ROOT / "README.md").read_text(encoding="utf-8")

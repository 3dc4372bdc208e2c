"""The research pipeline's parts that run without torch: downloads (against a loopback HTTP
server), the package/payload-family split, and the featurizer's agreement with `tokenizers`."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import malwi
from malwi_research import ResearchError, WorkFolder, download
from malwi_research.preprocess import choose_splits
from malwi_research.split import assign_splits, minhash_signatures
from tests.conftest import FakeRegistry

SDIST = b"fake sdist bytes: never unpacked, never run"


@pytest.fixture
def server(registry_server: str) -> str:
    return registry_server


def pypi_metadata(url: str, digest: str) -> bytes:
    return json.dumps(
        {
            "info": {"version": "1.2.3"},
            "urls": [
                {
                    "packagetype": "bdist_wheel",
                    "filename": "demo-1.2.3-py3-none-any.whl",
                    "url": url + ".whl",
                    "size": 10,
                    "digests": {"sha256": "0" * 64},
                },
                {
                    "packagetype": "sdist",
                    "filename": "demo-1.2.3.tar.gz",
                    "url": url,
                    "size": len(SDIST),
                    "digests": {"sha256": digest},
                },
            ],
        }
    ).encode()


def test_pypi_download_verifies_and_resumes(server: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(SDIST).hexdigest()
    # A mirror that gives file URLs relative to the metadata URL.
    FakeRegistry.routes["/pypi/demo/json"] = (200, pypi_metadata("../../files/demo-1.2.3.tar.gz", digest))
    FakeRegistry.routes["/files/demo-1.2.3.tar.gz"] = (200, SDIST)
    first = download.download_pypi("demo", tmp_path, prefer_sdist=True, max_bytes=1 << 20)
    assert first["status"] == "downloaded" and first["version"] == "1.2.3"
    assert (tmp_path / first["file"]).read_bytes() == SDIST
    assert not list(tmp_path.rglob("*.part"))
    second = download.download_pypi("demo", tmp_path, prefer_sdist=True, max_bytes=1 << 20)
    assert second["status"] == "cached"


def test_pypi_digest_mismatch_is_refused(server: str, tmp_path: Path) -> None:
    FakeRegistry.routes["/pypi/demo/json"] = (200, pypi_metadata(server + "/files/demo.tar.gz", "f" * 64))
    FakeRegistry.routes["/files/demo.tar.gz"] = (200, SDIST)
    with pytest.raises(download.DownloadError, match="does not match the registry's sha256 digest"):
        download.download_pypi("demo", tmp_path, prefer_sdist=True, max_bytes=1 << 20)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_missing_package_is_an_error(server: str, tmp_path: Path) -> None:
    with pytest.raises(download.DownloadError, match="404"):
        download.download_pypi("absent", tmp_path, prefer_sdist=True, max_bytes=1 << 20)


def test_npm_integrity(server: str, tmp_path: Path) -> None:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(SDIST).digest()).decode()
    metadata = {
        "dist-tags": {"latest": "2.0.0"},
        "versions": {"2.0.0": {"dist": {"tarball": "/tarballs/left-pad-2.0.0.tgz", "integrity": integrity}}},
    }
    FakeRegistry.routes["/npm/left-pad"] = (200, json.dumps(metadata).encode())
    FakeRegistry.routes["/tarballs/left-pad-2.0.0.tgz"] = (200, SDIST)
    result = download.download_npm("left-pad", tmp_path, max_bytes=1 << 20)
    assert result["status"] == "downloaded" and result["version"] == "2.0.0"
    FakeRegistry.routes["/tarballs/left-pad-2.0.0.tgz"] = (200, SDIST + b"tampered")
    (tmp_path / result["file"]).unlink()
    with pytest.raises(download.DownloadError, match="does not match the registry's sha512 digest"):
        download.download_npm("left-pad", tmp_path, max_bytes=1 << 20)


def test_splits_keep_names_and_payload_families_together() -> None:
    payload = "LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT LOAD_CONST STRING_CONTAINS_URL CALL 1 POP_TOP " * 3
    packages, rows = [], []
    for i in range(60):
        family = i % 6  # six payload families, each republished under ten names
        package_id = f"malicious/pkg{i}_1.0"
        packages.append({"id": package_id, "name": f"pkg{i}", "label": 1})
        rows.append(
            {
                "package_id": package_id,
                "hash": f"h{family}",
                "tokens": payload + f"LOAD_NAME family{family}",
                "token_count": 30,
            }
        )
    packages.append({"id": "malicious/pkg0_2.0", "name": "pkg0", "label": 1})
    rows.append(
        {"package_id": "malicious/pkg0_2.0", "hash": "other", "tokens": "IMPORT_NAME x", "token_count": 2}
    )
    for i in range(40):
        packages.append({"id": f"pypi/benign{i}", "name": f"benign{i}", "label": 0})
        rows.append(
            {
                "package_id": f"pypi/benign{i}",
                "hash": f"b{i}",
                "tokens": f"LOAD_NAME thing{i} CALL 0",
                "token_count": 4,
            }
        )
    config = {
        "fractions": {"train": 0.7, "validation": 0.15, "test": 0.15},
        "benign_fractions": {"train": 0.6, "validation": 0.2, "test": 0.2},
        "minhash": {"shingle": 5, "permutations": 64, "bands": 16, "min_tokens": 8},
    }
    splits = assign_splits(packages, rows, config, seed=7)
    for family in range(6):
        assert len({splits[f"malicious/pkg{i}_1.0"] for i in range(family, 60, 6)}) == 1, (
            f"family {family} was split"
        )
    assert splits["malicious/pkg0_2.0"] == splits["malicious/pkg0_1.0"], "versions of one name stay together"
    benign = [splits[f"pypi/benign{i}"] for i in range(40)]
    assert {"train", "validation", "test"} <= set(benign)
    assert assign_splits(packages, rows, config, seed=7) == splits, "deterministic"


def test_reused_splits_keep_the_held_out_packages_of_an_earlier_run(tmp_path: Path) -> None:
    """A retrain with other tokens is compared on the earlier run's test packages, not on a regrouped split."""
    (tmp_path / "data" / "training").mkdir(parents=True)
    earlier = {
        "packages": [
            {"id": "malicious/a_1", "split": "test"},
            {"id": "pypi/b", "split": "train"},
            {"id": "gone", "split": "validation"},
        ]
    }
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "packages.json").write_text(json.dumps(earlier))
    config = {"seed": 3, "split": {"reuse": "runs/packages.json"}}
    config_path = tmp_path / "data" / "training" / "training_config.json"
    config_path.write_text(json.dumps(config))
    packages = [
        {"id": "malicious/a_1", "name": "a", "label": 1},
        {"id": "pypi/b", "name": "b", "label": 0},
        {"id": "pypi/new", "name": "new", "label": 0},
    ]
    rows = [
        {"package_id": p["id"], "hash": p["id"], "tokens": "LOAD_NAME x", "token_count": 2} for p in packages
    ]
    splits = choose_splits(WorkFolder(tmp_path / "work", config_path), packages, rows)
    assert splits == {"malicious/a_1": "test", "pypi/b": "train"}, (
        "a package the earlier run lacked gets no split"
    )

    config["split"] = {"reuse": str(tmp_path / "missing.json")}
    config_path.write_text(json.dumps(config))
    with pytest.raises(ResearchError, match=r"cannot read the splits to reuse .*missing\.json"):
        choose_splits(WorkFolder(tmp_path / "work", config_path), packages, rows)
    (tmp_path / "runs" / "packages.json").write_text(json.dumps([{"id": "x"}]))
    config["split"] = {"reuse": "runs/packages.json"}
    config_path.write_text(json.dumps(config))
    with pytest.raises(ResearchError, match=r"not the packages\.json of a preprocess run"):
        choose_splits(WorkFolder(tmp_path / "work", config_path), packages, rows)


def test_minhash_sees_near_duplicates() -> None:
    base = " ".join(f"T{i}" for i in range(200))
    near = base.replace("T100", "X100")
    other = " ".join(f"U{i}" for i in range(200))
    signatures = minhash_signatures([base, near, other], shingle=5, permutations=128, seed=1)

    def agree(a, b):
        return float(np.mean(signatures[a] == signatures[b]))

    assert agree(0, 1) > 0.8 > 0.05 > agree(0, 2)


def test_featurizer_matches_the_tokenizers_library(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers", reason="the tokenizers library is a test dependency")
    corpus = [
        o.to_token_string()
        for path in Path(__file__).parent.parent.joinpath("examples").rglob("*.py")
        for o in malwi.compile_source(path.read_text(), "python")
    ]
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    trainer = tokenizers.trainers.WordLevelTrainer(
        vocab_size=300, min_frequency=2, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    vocabulary = malwi.Vocabulary((tmp_path / "tokenizer.json").read_text())
    assert len(vocabulary) == tokenizer.get_vocab_size()
    assert {token: vocabulary.id(token) for token in tokenizer.get_vocab()} == tokenizer.get_vocab()
    encoding = vocabulary.encode(corpus, max_length=10_000, stride=9_000, max_windows=1)
    lengths = np.frombuffer(encoding.lengths(), dtype=np.int32)
    for i, text in enumerate(corpus):
        ids, _, _, _columns = encoding.pack([i])
        ours = np.frombuffer(ids, dtype=np.int64)[1 : lengths[i] - 1].tolist()  # without [CLS] and [SEP]
        assert ours == tokenizer.encode(text).ids


def test_stage1_model_scores_its_features() -> None:
    tokens = ["LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT", "LOAD_NAME x"]
    indices, indptr = malwi.ngram_features(tokens, bits=10, max_order=2)
    features = np.frombuffer(indices, dtype=np.uint32)
    offsets = np.frombuffer(indptr, dtype=np.int64)
    assert offsets.tolist() == [0, 4 + 3, 7 + 2 + 1]
    weights = np.zeros(1 << 10, dtype="<f4")
    weights[features[offsets[0] : offsets[1]]] = 0.5
    model = malwi.LinearModel(weights.tobytes(), bias=-1.0, bits=10, max_order=2)
    scores = np.frombuffer(model.score(tokens), dtype=np.float32)
    distinct = len(set(features[offsets[0] : offsets[1]].tolist()))
    assert scores[0] == pytest.approx(1 / (1 + np.exp(-(-1.0 + 0.5 * distinct))), rel=1e-5)
    with pytest.raises(malwi.ConfigError):
        malwi.LinearModel(b"\x00" * 12, bias=0.0, bits=10, max_order=2)


def test_long_tail_releases_are_pinned_and_an_evaluation_share_is_never_downloaded(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    pypi = [f"tail-{i}=={i}.0.1" for i in range(400)]
    npm = [f"@scope/tail-{i}@1.{i}.0" for i in range(200)] + [f"plain-{i}@2.0.{i}" for i in range(200)]
    (shared / "popular-pypi.txt").write_text("# most downloaded first\nrequests\nnumpy\n")
    (shared / "popular-npm.txt").write_text("react\n")
    (shared / "tail-pypi.txt").write_text("\n".join(pypi) + "\n")
    (shared / "tail-npm.txt").write_text("\n".join(npm) + "\n")
    config_path = tmp_path / "data" / "training" / "training_config.json"
    config_path.parent.mkdir(parents=True)
    data = {
        "benign_pypi_list": str(shared / "popular-pypi.txt"),
        "benign_npm_list": str(shared / "popular-npm.txt"),
        "benign_pypi_packages": 2,
        "benign_npm_packages": 1,
        "benign_longtail_pypi_list": str(shared / "tail-pypi.txt"),
        "benign_longtail_npm_list": str(shared / "tail-npm.txt"),
        "benign_longtail_pypi_packages": 100,
        "benign_longtail_npm_packages": 250,
    }
    config_path.write_text(json.dumps({"data": data}))
    jobs = download.jobs_of(WorkFolder(tmp_path / "work", config_path))
    assert jobs[:3] == [
        ("pypi", "requests", None, "popular"),
        ("pypi", "numpy", None, "popular"),
        ("npm", "react", None, "popular"),
    ]
    tail = [job for job in jobs if job[3] == "longtail"]
    tail_pypi = [(name, version) for ecosystem, name, version, _ in tail if ecosystem == "pypi"]
    tail_npm = [(name, version) for ecosystem, name, version, _ in tail if ecosystem == "npm"]
    # The first releases of the list, in its order, with their versions; scoped npm names kept whole.
    kept_pypi = [tuple(e.split("==")) for e in pypi if not download.evaluation_only(e.split("==")[0])]
    assert tail_pypi == kept_pypi[:100]
    assert ("@scope/tail-1", "1.1.0") in tail_npm or download.evaluation_only("@scope/tail-1")
    assert len(tail_npm) == 250 and all(v.count(".") == 2 and "@" not in v for _, v in tail_npm)
    # No evaluation-only name is ever downloaded, and the share is about what it says, stably.
    assert not any(download.evaluation_only(name) for _, name, _, _ in tail)
    held = [e for e in pypi if download.evaluation_only(e.split("==")[0])]
    assert 0.2 < len(held) / len(pypi) < 0.4
    assert download.evaluation_only("Tail-7") == download.evaluation_only("tail-7")


def test_benign_rows_are_spilled_in_parts_and_streamed_into_one_table_with_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as parquet

    from malwi_research import preprocess

    monkeypatch.setattr(preprocess, "PART_ROWS", 3)  # a part every three rows
    spill = preprocess.Spill(tmp_path / "rows")
    spill.folder.mkdir()

    def row(package: str, index: int, label: int) -> dict[str, object]:
        return {"package_id": package, "hash": f"{package}-{index}", "tokens": "LOAD_NAME x", "label": label}

    for package in ("pypi/a", "pypi/b", "npm/c"):
        spill.add([row(package, i, 0) for i in range(2)])
    spill.flush()
    assert len(spill.parts) == 2 and not spill.pending
    assert "pypi/b-1" in spill.hashes and len(spill.hashes) == 6
    malicious = [row("malicious/x_1", 0, 1), row("malicious/y_1", 0, 1)]
    split_of = {"malicious/x_1": "test", "pypi/a": "train", "npm/c": "validation"}  # b and y have none
    written = preprocess.write_objects(tmp_path / "objects.parquet", malicious, spill.parts, split_of)
    table = parquet.read_table(tmp_path / "objects.parquet").to_pylist()
    assert written == len(table) == 5
    assert [(r["package_id"], r["split"]) for r in table] == [
        ("malicious/x_1", "test"),
        ("pypi/a", "train"),
        ("pypi/a", "train"),
        ("npm/c", "validation"),
        ("npm/c", "validation"),
    ]
    with pytest.raises(ResearchError, match="no objects in any package with a split"):
        preprocess.write_objects(tmp_path / "none.parquet", [], spill.parts, {})


def test_training_reads_only_the_drawn_rows_tokens_in_the_same_order_as_the_metadata(tmp_path: Path) -> None:
    import pyarrow
    import pyarrow.parquet as parquet

    from malwi_research.train import METADATA, load_objects, read_tokens

    splits = ["train", "test", "train", "validation", "train", "train", "test", "train"] * 5
    rows = {name: [f"{name}-{i}" for i in range(len(splits))] for name in METADATA if name != "split"}
    rows.update(label=[i % 2 for i in range(len(splits))], token_count=list(range(len(splits))))
    rows.update(split=splits, tokens=[f"LOAD_NAME row{i}" for i in range(len(splits))])
    # Row groups of 7 rows: the positions of training rows run across group boundaries.
    parquet.write_table(pyarrow.table(rows), tmp_path / "objects.parquet", row_group_size=7)
    work = WorkFolder(tmp_path, Path("data/training/training_config.json"))
    metadata = load_objects(work, ("train",), tokens=False)
    assert "tokens" not in metadata
    whole = load_objects(work, ("train",))
    drawn = {0, 4, 5, 11, len(whole["tokens"]) - 1}
    tokens = read_tokens(work, ("train",), drawn)
    assert tokens == {row: whole["tokens"][row] for row in drawn}
    assert metadata["token_count"] == whole["token_count"]


def test_the_training_config_is_checked_against_its_schema_and_a_misspelt_key_is_refused(
    tmp_path: Path,
) -> None:
    shipped = Path("data/training/training_config.json")
    WorkFolder(tmp_path, shipped).validate()  # the shipped config is valid
    config = json.loads(shipped.read_text())
    config["model_configurations"]["random_forest_classifier"]["enabeld"] = True
    broken = tmp_path / "config.json"
    broken.write_text(json.dumps(config))
    with pytest.raises(ResearchError, match=r"model_configurations/random_forest_classifier: .*'enabeld'"):
        WorkFolder(tmp_path, broken).validate()
    config = json.loads(shipped.read_text())
    config["data_augmentation"]["transforms"]["split_names"] = 1.5
    broken.write_text(json.dumps(config))
    with pytest.raises(ResearchError, match=r"data_augmentation/transforms/split_names: 1.5 is greater than"):
        WorkFolder(tmp_path, broken).validate()

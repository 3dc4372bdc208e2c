"""A tiny but real model bundle for tests, built without torch.

Stage 2 is an ONNX bag-of-words classifier: each token id has a weight for "benign" and for
"malicious", a window's logits are the sums over its (unmasked) tokens. Behaviour categories
weigh towards malicious, so the defanged examples score high and plain code scores low. The
bundle has everything a trained one has: tokenizer.json, stage1.bin, manifest with digests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import malwi
from malwi.model.bundle import sha256_file

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MALICIOUS_WEIGHTS = {
    "PROCESS_MANAGEMENT": 3.0,
    "DYNAMIC_CODE_EXECUTION": 3.0,
    "INSTALL_HOOK": 2.0,
    "NETWORK_HTTP_REQUEST": 1.5,
    "ENVIRONMENT_VARIABLE_ACCESS": 1.5,
    "ENCODING_DECODING": 1.0,
    "STRING_CONTAINS_URL": 1.0,
    "STRING_INSECURE_URL": 1.0,
}
STAGE1_BITS = 8
UNIT_MODEL_FILE = "unit_model.onnx"
# The training configuration's unit features (what the shipped unit model is trained on).
UNIT_FEATURE_SETTINGS = {"object_scores": {"top_k": 3, "thresholds": [0.2, 0.5, 0.8]}}


def build_onnx(vocabulary: list[str], path: Path) -> None:
    weights = np.zeros((len(vocabulary), 2), dtype=np.float32)
    weights[vocabulary.index("[CLS]"), 0] = 3.0  # every window starts benign
    for token, weight in MALICIOUS_WEIGHTS.items():
        weights[vocabulary.index(token), 1] = weight
    nodes = [
        helper.make_node("Gather", ["weights", "input_ids"], ["per_token"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_column"]),
        helper.make_node("Mul", ["per_token", "mask_column"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "sequence_axis"], ["logits"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "bag_of_words",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        initializer=[
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "sequence_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    files = ["model.onnx", "tokenizer.json", "stage1.bin"]
    if (directory / UNIT_MODEL_FILE).exists():
        files.append(UNIT_MODEL_FILE)
    manifest["files"] = {name: sha256_file(directory / name) for name in files}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))


def build_tiny_bundle(directory: Path, **overrides: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = SPECIALS + [t for t in malwi.reserved_tokens() if t not in SPECIALS] + ["os", "self", "x"]
    tokenizer = {
        "version": "1.0",
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "model": {
            "type": "WordLevel",
            "vocab": {t: i for i, t in enumerate(vocabulary)},
            "unk_token": "[UNK]",
        },
    }
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer))
    build_onnx(vocabulary, directory / "model.onnx")
    (directory / "stage1.bin").write_bytes(np.zeros(1 << STAGE1_BITS, dtype="<f4").tobytes())
    config = malwi.FeaturizerConfig()
    manifest: dict[str, Any] = {
        "format": 1,
        "name": "tiny-test-model",
        "version": "0.0.1",
        "featurizer": {
            "id": config.featurizer_id,
            "version": config.version,
            "config": json.loads(config.to_json()),
        },
        "vocabulary": {
            "file": "tokenizer.json",
            "hash": malwi.Vocabulary(json.dumps(tokenizer)).hash,
            "size": len(vocabulary),
        },
        "windows": {"max_length": 64, "stride": 48, "max_windows": 8},
        # Stage 1 scores everything 0.5 (zero weights): every object goes to stage 2.
        "stage1": {
            "file": "stage1.bin",
            "bits": STAGE1_BITS,
            "max_order": 2,
            "bias": 0.0,
            "candidate_threshold": 0.1,
        },
        "stage2": {"file": "model.onnx", "malicious_class": 1, "combine": "stage2"},
        "calibration": {"method": "platt", "a": 10.0, "b": -5.0},
        "threshold": 0.7,
        "suspicious_threshold": 0.3,
    }
    manifest.update(overrides)
    write_manifest(directory, manifest)
    return directory


def add_unit_model(
    directory: Path, weights: dict[str, float], bias: float, threshold: float = 0.7, suspicious: float = 0.3
) -> Path:
    """Gives the bundle a package-unit model: probability = sigmoid(bias + sum of weight x feature)
    over the named unit features, as `malwi research unit-model` would ship one."""
    from malwi.engine.unit_features import UnitFeatures

    names = UnitFeatures(UNIT_FEATURE_SETTINGS).names
    matrix = np.zeros((len(names), 1), dtype=np.float32)
    for name, weight in weights.items():
        matrix[names.index(name), 0] = weight
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["product"]),
            helper.make_node("Add", ["product", "b"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
            helper.make_node("Reshape", ["probability", "shape"], ["malicious_probability"]),
        ],
        "tiny-unit-model",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, len(names)])],
        [helper.make_tensor_value_info("malicious_probability", TensorProto.FLOAT, [None])],
        initializer=[
            numpy_helper.from_array(matrix, "w"),
            numpy_helper.from_array(np.array([bias], dtype=np.float32), "b"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / UNIT_MODEL_FILE))
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["unit_model"] = {
        "file": UNIT_MODEL_FILE,
        "name": "tiny-logistic",
        "kind": "classifier",
        "input": "features",
        "output": "malicious_probability",
        "feature_names": names,
        "feature_extractors": UNIT_FEATURE_SETTINGS,
        "threshold": threshold,
        "suspicious_threshold": suspicious,
    }
    write_manifest(directory, manifest)
    return directory

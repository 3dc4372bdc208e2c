"""`malwi research train`: stage 1 (n-gram logistic regression) and stage 2 (DistilBERT).

Stage 2 learns with a multiple-instance objective. A malicious *package* is a bag: its score is
the highest score of any window of any of its objects, and only that bag score is asked to be
high. The malicious samples hold the whole malicious file, including benign-looking objects (a
`setup()` module body), and labelling each of those malicious would teach the file-name
shortcut the design warns about. Benign objects are negatives one by one: a benign package
must have no high window anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import defaultdict
from typing import Any

import numpy as np

from malwi._malwi import LinearModel, Vocabulary, ngram_features
from malwi_research import WorkFolder, log, need

METADATA = ["package_id", "label", "split", "token_count", "object_name", "file_path"]


def load_objects(work: WorkFolder, splits: tuple[str, ...], tokens: bool = True) -> dict[str, list[Any]]:
    """Columns of the objects in `splits`, in file order. `tokens=False` leaves out the token
    strings, which are most of the file: training draws its samples from the metadata and then
    reads only the drawn rows' tokens (`read_tokens`), so memory follows the sample size."""
    parquet = need("pyarrow.parquet")
    table = parquet.read_table(
        work.objects,
        columns=METADATA + (["tokens"] if tokens else []),
        filters=[("split", "in", list(splits))],
    )
    return {name: table.column(name).to_pylist() for name in table.column_names}


def read_tokens(work: WorkFolder, splits: tuple[str, ...], rows: set[int]) -> dict[int, str]:
    """Token strings of `rows` (positions in `load_objects(work, splits)` order), read one row
    group at a time."""
    parquet = need("pyarrow.parquet")
    compute = need("pyarrow.compute")
    wanted = sorted(rows)
    found: dict[int, str] = {}
    file = parquet.ParquetFile(work.objects)
    wanted_splits = need("pyarrow").array(list(splits))
    offset, cursor = 0, 0
    for group in range(file.metadata.num_row_groups):
        table = file.read_row_group(group, columns=["split", "tokens"])
        table = table.filter(compute.is_in(table.column("split"), value_set=wanted_splits))
        end = offset + table.num_rows
        local = []
        while cursor < len(wanted) and wanted[cursor] < end:
            local.append(wanted[cursor] - offset)
            cursor += 1
        if local:
            taken = table.column("tokens").take(local).to_pylist()
            found.update(zip((offset + i for i in local), taken))
        offset = end
    return found


def per_package_sample(
    data: dict[str, list[Any]], rows: list[int], count: int, rng: random.Random
) -> list[int]:
    """`count` rows drawn round-robin across packages, so that a few huge packages (botocore,
    a vendored bundle) do not make up most of the benign examples."""
    by_package: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_package[data["package_id"][row]].append(row)
    queues = [rng.sample(items, len(items)) for items in by_package.values()]
    rng.shuffle(queues)
    chosen: list[int] = []
    depth = 0
    while len(chosen) < count and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue):
                chosen.append(queue[depth])
                if len(chosen) == count:
                    break
        depth += 1
    return chosen


# ---------------------------------------------------------------------------------------------
# Stage 1


def sparse_features(tokens: list[str], bits: int, max_order: int) -> Any:
    scipy_sparse = need("scipy.sparse")
    indices, indptr = ngram_features(tokens, bits=bits, max_order=max_order)
    columns = np.frombuffer(indices, dtype=np.uint32).astype(np.int32)
    offsets = np.frombuffer(indptr, dtype=np.int64)
    matrix = scipy_sparse.csr_matrix(
        (np.ones(len(columns), dtype=np.float32), columns, offsets), shape=(len(tokens), 1 << bits)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # presence, not counts: long objects must not win by repetition
    return matrix


def stage1_rows(
    work: WorkFolder, data: dict[str, list[Any]], rng: random.Random
) -> tuple[list[int], list[int]]:
    """Every malicious training object and a per-package sample of benign ones."""
    malicious = [i for i, label in enumerate(data["label"]) if label == 1]
    benign = [i for i, label in enumerate(data["label"]) if label == 0]
    return malicious, per_package_sample(data, benign, int(work.config["stage1"]["benign_objects"]), rng)


def train_stage1(
    work: WorkFolder, data: dict[str, list[Any]], malicious: list[int], benign: list[int]
) -> dict[str, Any]:
    linear_model = need("sklearn.linear_model")
    config = work.config["stage1"]
    bits, max_order = int(config["hash_bits"]), int(config["max_order"])
    chosen = malicious + benign
    tokens = [data["tokens"][i] for i in chosen]
    labels = np.array([data["label"][i] for i in chosen], dtype=np.int8)
    started = time.perf_counter()
    features = sparse_features(tokens, bits, max_order)
    classifier = linear_model.LogisticRegression(
        C=float(config["regularization_c"]), class_weight="balanced", solver="liblinear", max_iter=2000
    )
    classifier.fit(features, labels)
    weights = classifier.coef_.astype(np.float32).ravel()
    bias = float(classifier.intercept_[0])
    work.stage1.write_bytes(weights.astype("<f4").tobytes())
    meta = {
        "bits": bits,
        "max_order": max_order,
        "bias": bias,
        "training_objects": len(chosen),
        "seconds": time.perf_counter() - started,
    }
    work.stage1_meta.write_text(json.dumps(meta, indent=1))
    log(f"stage 1: {len(malicious)} malicious and {len(benign)} benign objects, {meta['seconds']:.0f} s")
    return meta


def stage1_model(work: WorkFolder) -> LinearModel:
    meta = json.loads(work.stage1_meta.read_text())
    return LinearModel(
        work.stage1.read_bytes(), bias=meta["bias"], bits=meta["bits"], max_order=meta["max_order"]
    )


# ---------------------------------------------------------------------------------------------
# Stage 2


class WindowStore:
    """Encoded windows of a set of objects, kept as flat numpy arrays."""

    def __init__(self, vocabulary: Vocabulary, tokens: list[str], windows: dict[str, int]) -> None:
        encoding = vocabulary.encode(
            tokens,
            max_length=int(windows["max_length"]),
            stride=int(windows["stride"]),
            max_windows=int(windows["max_windows_per_object"]),
        )
        self.encoding = encoding
        self.lengths = np.frombuffer(encoding.lengths(), dtype=np.int32)
        owners = np.frombuffer(encoding.objects(), dtype=np.int32)
        self.by_object: list[list[int]] = [[] for _ in tokens]
        for window, owner in enumerate(owners.tolist()):
            self.by_object[owner].append(window)

    def length(self, window: int) -> int:
        return int(self.lengths[window])

    def batch(self, windows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        ids, mask, rows, columns = self.encoding.pack(windows)
        return (
            np.frombuffer(ids, dtype=np.int64).reshape(rows, columns),
            np.frombuffer(mask, dtype=np.int64).reshape(rows, columns),
        )


def length_buckets(examples: list[Any], batch_size: int, rng: random.Random, length: Any) -> list[list[Any]]:
    """Shuffled batches of examples of similar length: examples are shuffled, sorted by length
    within chunks of 50 batches, cut into batches, and the batches shuffled. Padding shrinks
    without giving up randomness."""
    rng.shuffle(examples)
    chunk = 50 * batch_size
    batches = []
    for start in range(0, len(examples), chunk):
        part = sorted(examples[start : start + chunk], key=length)
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def build_model(config: dict[str, Any], vocabulary_size: int, pad_id: int) -> Any:
    transformers = need("transformers")
    model_config = transformers.DistilBertConfig(
        vocab_size=vocabulary_size,
        dim=int(config["dim"]),
        n_layers=int(config["n_layers"]),
        n_heads=int(config["n_heads"]),
        hidden_dim=int(config["hidden_dim"]),
        dropout=float(config["dropout"]),
        attention_dropout=float(config["dropout"]),
        max_position_embeddings=int(config["max_position_embeddings"]),
        pad_token_id=pad_id,
        num_labels=2,
    )
    return transformers.DistilBertForSequenceClassification(model_config)


def bag_logits(torch: Any, model: Any, store: WindowStore, bags: list[list[int]]) -> Any:
    """One logit per bag: the highest (malicious − benign) logit over its windows."""
    windows = [w for bag in bags for w in bag]
    owners = torch.tensor([i for i, bag in enumerate(bags) for _ in bag])
    ids, mask = store.batch(windows)
    logits = model(
        input_ids=torch.from_numpy(ids.copy()), attention_mask=torch.from_numpy(mask.copy())
    ).logits
    margin = logits[:, 1] - logits[:, 0]
    result = torch.full((len(bags),), -1e9, dtype=margin.dtype)
    return result.scatter_reduce(0, owners, margin, reduce="amax", include_self=True)


def stage2_rows(
    work: WorkFolder, data: dict[str, list[Any]], rng: random.Random
) -> tuple[dict[str, list[int]], list[int]]:
    """Malicious objects grouped into their package bags, and the benign objects of every epoch
    (a per-package sample, shuffled)."""
    training = work.config["training"]
    malicious_packages: dict[str, list[int]] = defaultdict(list)
    benign = []
    for i, (package, label) in enumerate(zip(data["package_id"], data["label"])):
        if label == 1:
            malicious_packages[package].append(i)
        else:
            benign.append(i)
    benign_per_epoch = int(training["benign_to_malicious_cap"] * len(malicious_packages))
    pool = per_package_sample(data, benign, benign_per_epoch * int(training["epochs"]), rng)
    rng.shuffle(pool)
    return malicious_packages, pool


def train_stage2(
    work: WorkFolder,
    data: dict[str, list[Any]],
    malicious_packages: dict[str, list[int]],
    pool: list[int],
    rng: random.Random,
) -> dict[str, Any]:
    torch = need("torch")
    transformers = need("transformers")
    config = work.config
    training = config["training"]
    torch.manual_seed(int(config["seed"]))
    torch.set_num_threads(int(training["threads"]))
    vocabulary = Vocabulary(work.tokenizer.read_text())
    bags_per_epoch = len(malicious_packages)
    benign_per_epoch = int(training["benign_to_malicious_cap"] * bags_per_epoch)
    epochs = int(training["epochs"])
    chosen = sorted({i for ids in malicious_packages.values() for i in ids} | set(pool))
    position = {row: k for k, row in enumerate(chosen)}
    log(
        f"stage 2: encoding {len(chosen)} objects ({bags_per_epoch} malicious packages, {len(pool)} benign objects)"
    )
    store = WindowStore(vocabulary, [data["tokens"][i] for i in chosen], config["windows"])
    window_cap = int(training["max_windows_per_training_object"])

    def bag_of_package(objects: list[int]) -> list[int]:
        windows = [w for i in objects for w in store.by_object[position[i]]]
        return rng.sample(windows, min(len(windows), 4 * window_cap))

    def bag_of_object(i: int) -> list[int]:
        windows = store.by_object[position[i]]
        return rng.sample(windows, min(len(windows), window_cap))

    model = build_model(config["model"], vocabulary.id_space, vocabulary.pad_id)
    parameters = sum(p.numel() for p in model.parameters())
    batch_size = int(training["batch_objects"])
    steps_per_epoch = math.ceil((bags_per_epoch + benign_per_epoch) / batch_size)
    total_steps = steps_per_epoch * epochs
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=float(training["learning_rate"]), weight_decay=float(training["weight_decay"])
    )
    scheduler = transformers.get_linear_schedule_with_warmup(
        optimizer, int(float(training["warmup_ratio"]) * total_steps), total_steps
    )
    # Balanced: both classes weigh the same in the loss whatever the sampling ratio.
    positive_weight = (
        torch.tensor(benign_per_epoch / max(1, bags_per_epoch)) if training["balanced_sampling"] else None
    )
    loss_function = torch.nn.BCEWithLogitsLoss(pos_weight=positive_weight)
    history = []
    started = time.perf_counter()
    packages = list(malicious_packages.values())
    for epoch in range(epochs):
        model.train()
        examples = [(bag_of_package(p), 1.0) for p in packages]
        examples += [
            (bag_of_object(i), 0.0) for i in pool[epoch * benign_per_epoch : (epoch + 1) * benign_per_epoch]
        ]
        batches = length_buckets(
            examples, batch_size, rng, lambda e: max((store.length(w) for w in e[0]), default=0)
        )
        total_loss, count = 0.0, 0
        for listed in batches:
            batch = [e for e in listed if e[0]]
            if not batch:
                continue
            logits = bag_logits(torch, model, store, [bag for bag, _ in batch])
            labels = torch.tensor([label for _, label in batch])
            loss = loss_function(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach()) * len(batch)
            count += len(batch)
        history.append(
            {"epoch": epoch + 1, "loss": total_loss / max(1, count), "seconds": time.perf_counter() - started}
        )
        log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]['loss']:.4f} ({history[-1]['seconds']:.0f} s)")
    model.save_pretrained(work.stage2)
    return {
        "parameters": parameters,
        "epochs": epochs,
        "history": history,
        "seconds": time.perf_counter() - started,
        "malicious_packages": bags_per_epoch,
        "benign_objects_per_epoch": benign_per_epoch,
        "windows_encoded": store.encoding.window_count,
    }


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    work.require(work.objects, work.tokenizer)
    rng = random.Random(int(work.config["seed"]))
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data = load_objects(work, ("train",), tokens=False)
    malicious, benign = stage1_rows(work, data, rng)
    malicious_packages, pool = stage2_rows(work, data, rng)
    data["tokens"] = read_tokens(work, ("train",), set(malicious) | set(benign) | set(pool))  # type: ignore[assignment]
    log(f"read the tokens of {len(data['tokens'])} of {len(data['label'])} training objects")
    stage1 = train_stage1(work, data, malicious, benign)
    stage2 = train_stage2(work, data, malicious_packages, pool, rng)
    record = {
        "started_at": started,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "stage1": stage1,
        "stage2": stage2,
        "config": work.config,
    }
    work.training_record.write_text(json.dumps(record, indent=1))
    log(f"training record -> {work.training_record}")

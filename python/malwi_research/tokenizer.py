"""`malwi research train-tokenizer`: the closed malwicode vocabulary.

A `tokenizers` WordLevel model over whitespace-separated tokens, trained on the training split
only. Every token the emitter produces on its own (opcodes, categories, string classes) is in
the vocabulary whatever its frequency; the rest are the most frequent names, short strings and
numbers. Anything else maps to `[UNK]`. No subword pieces: a token either is in the vocabulary
or is unknown, never matched inside another word.
"""

from __future__ import annotations

import argparse

from malwi._malwi import Vocabulary, reserved_tokens
from malwi_research import WorkFolder, log, need


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    tokenizers = need("tokenizers")
    parquet = need("pyarrow.parquet")
    work.require(work.objects)
    config = work.config["tokenizer"]
    table = parquet.read_table(work.objects, columns=["tokens", "split"], filters=[("split", "==", "train")])
    corpus = table.column("tokens").to_pylist()
    specials = list(config["special_tokens"]) + [
        t for t in reserved_tokens() if t not in config["special_tokens"]
    ]
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    trainer = tokenizers.trainers.WordLevelTrainer(
        vocab_size=int(config["vocab_size"]),
        min_frequency=int(config["min_frequency"]),
        special_tokens=specials,
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer, length=len(corpus))
    tokenizer.save(str(work.tokenizer))
    vocabulary = Vocabulary(work.tokenizer.read_text())
    # The featurizer reads the same file; both must agree on every id.
    sample = corpus[: min(len(corpus), 2000)]
    for text in sample:
        ids = tokenizer.encode(text).ids
        assert ids == [vocabulary.id(token) for token in text.split()], "featurizer and tokenizers disagree"
    log(
        f"vocabulary of {len(vocabulary)} tokens ({len(specials)} reserved) from {len(corpus)} training objects"
    )
    log(f"hash {vocabulary.hash} -> {work.tokenizer}")

"""The pattern database: valid against its schema, large enough, and the one the core uses."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema

import malwi

DATA = Path(__file__).resolve().parent.parent / "data"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((DATA / name).read_text())


def test_database_validates_against_schema() -> None:
    schema = load("schemas/pattern_database_schema.json")
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(load("patterns/pattern_database.json"))


def test_schema_rejects_broken_databases() -> None:
    schema = load("schemas/pattern_database_schema.json")
    validator = jsonschema.Draft7Validator(schema)
    good = {"version": "1.0.0", "categories": {"A": {"description": "d", "patterns": []}}}
    assert validator.is_valid(good)
    assert not validator.is_valid({"version": "1.0", "categories": good["categories"]})
    assert not validator.is_valid({"version": "1.0.0", "categories": {"bad name": good["categories"]["A"]}})
    pattern = {"id": "x", "name": "os.system", "type": "api", "confidence": 1.5}
    assert not validator.is_valid(
        {"version": "1.0.0", "categories": {"A": {"description": "d", "patterns": [pattern]}}}
    )


def test_database_is_large_enough_per_language() -> None:
    database = load("patterns/pattern_database.json")
    counts = Counter(p["language"] for c in database["categories"].values() for p in c["patterns"])
    assert counts["python"] >= 450
    assert counts["javascript"] >= 150
    assert database["statistics"]["total_patterns"] == sum(counts.values())


def test_core_uses_this_database() -> None:
    database = load("patterns/pattern_database.json")
    assert database["version"] == malwi.PATTERN_DATABASE_VERSION
    assert {name for name, _ in malwi.categories()} == set(database["categories"])
    descriptions = dict(malwi.categories())
    for name, category in database["categories"].items():
        assert descriptions[name] == category["description"]


def test_every_api_pattern_resolves_when_used() -> None:
    """Each `api` entry really maps to its category when written in source."""
    database = load("patterns/pattern_database.json")
    failures = []
    for category, body in database["categories"].items():
        for pattern in body["patterns"]:
            name, language = pattern["name"], pattern["language"]
            if pattern["type"] != "api" or not all(part.isidentifier() for part in name.split(".")):
                continue
            source = f"{name}(x)\n" if language == "python" else f"{name}(x);\n"
            tokens = malwi.compile_source(source, language)[0].to_token_string()
            if category not in tokens:
                failures.append(f"{language} {name} -> {tokens}")
    assert not failures, "\n".join(failures[:20])

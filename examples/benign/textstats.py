"""Word statistics for a text file."""

from collections import Counter
from pathlib import Path


def word_counts(path: Path) -> Counter[str]:
    words = Path(path).read_text(encoding="utf-8").lower().split()
    return Counter(word.strip(".,;:!?") for word in words)


def top(path: Path, n: int = 10) -> list[tuple[str, int]]:
    return word_counts(path).most_common(n)


if __name__ == "__main__":
    import sys

    for word, count in top(Path(sys.argv[1])):
        print(f"{count:6d} {word}")

"""The near-duplicate check's cost per record must not grow with the number of records.

Templated questions (the heuristic engine's and many models' are) share MinHash bands, which is where a check that
compares each question with every earlier one in its buckets turns quadratic. Prints the time per record at each
size and its ratio to the smallest size (target: about 1.0, not growing).

Run: `python bench/dedupe.py [--sizes 2500,5000,10000,20000,30000]`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = "army division training command unit year river bridge station railroad company survey valley".split()


def questions(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [
        f"In what year did the {rng.choice(WORDS)} {rng.choice(WORDS)} of section {index} finish the "
        f"{rng.choice(WORDS)} {rng.choice(WORDS)}?"
        for index in range(count)
    ]


def main() -> None:
    from corrigenda.runtime.dedupe import DuplicateFinder

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2500,5000,10000,20000,30000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    print(f"{'records':>8} {'seconds':>8} {'ms/record':>10} {'vs first':>9} {'duplicates':>11}")
    first = None
    for size in sizes:
        batch = questions(size)
        finder = DuplicateFinder()
        started = time.perf_counter()
        found = sum(finder.check(str(index), text) is not None for index, text in enumerate(batch))
        elapsed = time.perf_counter() - started
        per = elapsed / size * 1000
        first = first or per
        print(f"{size:>8,} {elapsed:>8.2f} {per:>10.3f} {per / first:>9.2f} {found:>11,}")


if __name__ == "__main__":
    main()

"""Counts of a back-off model written out by hand, for the reference tests of its probabilities."""

from collections import Counter


def context_counts(contexts) -> tuple[Counter, Counter]:
    """``contexts``: (hitter, shot, keys by level) per stroke. Returns the population's counts by (level, key,
    shot) and each hitter's by (hitter, level, key, shot)."""
    pop, pl = Counter(), Counter()
    for hitter, shot, keys in contexts:
        for level, key in enumerate(keys):
            pop[(level, key, shot)] += 1
            pl[(hitter, level, key, shot)] += 1
    return pop, pl

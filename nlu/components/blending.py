"""Blend two readings of a message: DIET's (intents, then the ResponseSelector's FAQ entries) and
the linear n-gram models' (nlu/components/ngram_blend.py).

Plain Python on dicts (no Rasa import) so that the rule is tested on its own
(tests/nlu/test_nlu_blending.py); nlu/components/ngram_blend.py applies it inside the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping


def blend(first: Mapping[str, float], second: Mapping[str, float], first_weight: float) -> list[tuple[str, float]]:
    """Weighted mean of two distributions (a label one side does not rank counts 0), best first."""
    labels = set(first) | set(second)
    mixed = {
        label: first_weight * first.get(label, 0.0) + (1 - first_weight) * second.get(label, 0.0) for label in labels
    }
    return sorted(mixed.items(), key=lambda item: (-item[1], item[0]))

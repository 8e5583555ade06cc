"""Messages grouped by similarity, so an editor handles "g pa de reseau a kone" and "pas de réseau
à Koné depuis hier" once.

Each message becomes a bag of character trigrams of its words (accents, case, repeated letters and
filler words left out: SMS spellings and typos still share most trigrams); a message joins the most
similar group (cosine with the group's sum) above SIMILAR, else starts a group. Greedy and in
message order: deterministic, and fast enough for the few thousand messages a queue holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.services.dialogue.words import tokens

SIMILAR = 0.5
FILLER = frozenset(
    [
        "je",
        "j",
        "tu",
        "il",
        "me",
        "m",
        "ma",
        "mon",
        "mes",
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "de",
        "du",
        "d",
        "a",
        "au",
        "aux",
        "et",
        "ou",
        "en",
        "sur",
        "pour",
        "par",
        "svp",
        "stp",
        "bonjour",
        "bjr",
        "slt",
        "salut",
        "merci",
        "c",
        "est",
        "ce",
        "ca",
        "que",
        "qu",
        "qui",
        "quoi",
        "the",
        "a",
        "an",
        "to",
        "my",
        "i",
        "is",
        "it",
        "of",
        "please",
        "hi",
        "hello",
    ]
)

T = TypeVar("T")


def trigrams(text: str) -> Counter[str]:
    words = [w for w in tokens(text) if w not in FILLER] or tokens(text)
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(max(1, len(padded) - 2)))
    return grams


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


@dataclass
class Group(Generic[T]):
    items: list[T] = field(default_factory=list)
    grams: Counter[str] = field(default_factory=Counter)


def group(items: Iterable[T], text_of: Callable[[T], str], similar: float = SIMILAR) -> list[list[T]]:
    """The items in groups of similar texts, the largest groups first (ties: first seen first)."""
    groups: list[Group[T]] = []
    for item in items:
        grams = trigrams(text_of(item))
        scored = [(cosine(grams, g.grams), i) for i, g in enumerate(groups)]
        best = max(scored, default=(0.0, -1))
        if best[0] >= similar:
            target = groups[best[1]]
        else:
            target = Group()
            groups.append(target)
        target.items.append(item)
        target.grams.update(grams)
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i].items), i))
    return [groups[i].items for i in order]

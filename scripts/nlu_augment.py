#!/usr/bin/env python3
"""Typo and SMS-speak noise for NLU training examples (a data-augmentation trial, issue 11).

Subscribers write "c koi mon forfé", "jai plu de credi", "combien g de data": this generator
makes, for every training example, noisy copies of the kind a phone keyboard and SMS habits
produce — accents dropped, apostrophes dropped, SMS spellings (quoi → koi, c'est → c, je suis →
chui, pourquoi → pk…), and one keyboard slip (swapped, doubled, dropped or neighbouring AZERTY
key). Annotated entities ([3000](amount), [recharge](product_type)) are kept intact.

    .venv/app/bin/python scripts/nlu_augment.py --data nlu/data --out /tmp/aug/augmented.yml [--copies 1]

Deterministic (seeded per example). Whether it helps is decided by measurement
(scripts/nlu_compare.py, docs/nlu-quality.md), not assumed.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import unicodedata
import zlib
from pathlib import Path

import yaml

SMS = [  # (pattern, replacement), applied to lower-cased text without accents
    (r"\bqu'est[ -]ce que\b", "keske"),
    (r"\bqu'est[ -]ce qu'", "keske "),
    (r"\bc'est\b", "c"),
    (r"\bje suis\b", "chui"),
    (r"\bquoi\b", "koi"),
    (r"\bqui\b", "ki"),
    (r"\bque\b", "ke"),
    (r"\bpourquoi\b", "pk"),
    (r"\bbeaucoup\b", "bcp"),
    (r"\bs'il te plait\b", "stp"),
    (r"\bs'il vous plait\b", "svp"),
    (r"\bcombien\b", "cb"),
    (r"\baujourd'hui\b", "ajd"),
    (r"\btoujours\b", "tjrs"),
    (r"\bquand\b", "kan"),
    (r"\bavec\b", "avc"),
    (r"\bpour\b", "pr"),
    (r"\bdans\b", "ds"),
    (r"\bmais\b", "ms"),
    (r"\btout\b", "tt"),
    (r"\bvous\b", "vs"),
    (r"\bnous\b", "ns"),
    (r"\bj'ai\b", "g"),
    (r"\bje\b", "j"),
    (r"\bbonjour\b", "bjr"),
    (r"\bsalut\b", "slt"),
    (r"\btelephone\b", "tel"),
    (r"\bmessage\b", "msg"),
    (r"\bquelque\b", "qlq"),
    (r"\bparce que\b", "pcq"),
]
AZERTY_NEIGHBOURS = {
    "a": "zqs",
    "z": "aes",
    "e": "zrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "om",
    "q": "asw",
    "s": "qdz",
    "d": "sfe",
    "f": "dgr",
    "g": "fht",
    "h": "gjy",
    "j": "hku",
    "k": "jli",
    "l": "kmo",
    "m": "lp",
    "w": "qx",
    "x": "wc",
    "c": "xv",
    "v": "cb",
    "b": "vn",
    "n": "b",
}
ANNOTATION = re.compile(r"\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\{[^}]*\}")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def sms(text: str, rng: random.Random) -> str:
    """Some SMS spellings (each applicable rule with probability ½), apostrophes sometimes dropped."""
    out = strip_accents(text.lower())
    for pattern, replacement in SMS:
        if re.search(pattern, out) and rng.random() < 0.5:
            out = re.sub(pattern, replacement, out)
    if rng.random() < 0.5:
        out = out.replace("'", "")
    return out


def slip(text: str, rng: random.Random) -> str:
    """One keyboard slip inside a word of at least 4 letters."""
    words = list(re.finditer(r"[a-z]{4,}", text))
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 1)
    kind = rng.choice(("swap", "double", "drop", "neighbour"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    neighbours = AZERTY_NEIGHBOURS.get(text[i], text[i])
    return text[:i] + rng.choice(neighbours) + text[i + 1 :]


def noisy(example: str, rng: random.Random) -> str:
    """A noisy copy; annotated entities are left as they are."""
    parts, last = [], 0
    for match in ANNOTATION.finditer(example):
        parts.append((example[last : match.start()], True))
        parts.append((match.group(0), False))
        last = match.end()
    parts.append((example[last:], True))
    out = []
    for text, free in parts:
        if free and text.strip():
            text = sms(text, rng)
            if rng.random() < 0.7:
                text = slip(text, rng)
            text = text.rstrip(" ?!.") if rng.random() < 0.5 else text
        out.append(text)
    return " ".join("".join(out).split())


def examples_of(block: dict) -> list[str]:
    return [
        line.strip()[2:].strip()
        for line in str(block.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def augment(data_dir: Path, copies: int) -> dict[str, list[str]]:
    seen: set[str] = set()
    blocks: dict[str, list[str]] = {}
    for path in sorted(data_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in block:
                seen.update(e.lower() for e in examples_of(block))
    for path in sorted(data_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for example in examples_of(block):
                for copy in range(copies):
                    rng = random.Random(zlib.crc32(f"{example}|{copy}".encode()))
                    variant = noisy(example, rng)
                    if variant and variant.lower() not in seen:
                        seen.add(variant.lower())
                        blocks.setdefault(block["intent"], []).append(variant)
    return blocks


def to_yaml(blocks: dict[str, list[str]]) -> str:
    """Rasa NLU YAML with literal blocks, one `- example` per line (as the hand-written files)."""
    lines = ['version: "3.1"', "nlu:"]
    for name, examples in blocks.items():
        lines += [f"- intent: {name}", "  examples: |"] + [f"    - {e}" for e in examples]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("nlu/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args(argv)
    blocks = augment(args.data, args.copies)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_yaml(blocks), encoding="utf-8")
    print(f"wrote {sum(map(len, blocks.values()))} noisy examples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

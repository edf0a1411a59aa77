"""Deterministic lexical retrieval (Okapi BM25) over a job's context files.

Deterministic on every machine: tokens are casefolded ``\\w+`` runs, scores are rounded
before ranking (so a last-bit difference in ``log`` between platforms cannot reorder), and ties
are broken by path. Scores never enter a snapshot; only the chosen documents and their ranks do.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

METHOD = "bm25-okapi/v1 (k1=1.2, b=0.75, casefolded \\w+ tokens, ties by path)"
_TOKEN = re.compile(r"\w+")
_K1 = 1.2
_B = 0.75


def tokenize(text: str) -> list[str]:
    return [token.casefold() for token in _TOKEN.findall(text)]


@dataclass(frozen=True)
class Ranked:
    path: str
    score: float


def bm25_rank(
    documents: Sequence[tuple[str, str]],
    query: str,
    token_counts: Mapping[str, Counter[str]] | None = None,
) -> list[Ranked]:
    """Rank ``(path, text)`` documents for ``query``; best first, ties by path.
    ``token_counts`` may hold documents' token counts already (``Counter(tokenize(text))``)."""
    known = token_counts or {}
    tokenized = [
        (path, known[path] if path in known else Counter(tokenize(text)))
        for path, text in documents
    ]
    count = len(tokenized)
    if count == 0:
        return []
    lengths = [sum(counts.values()) for _, counts in tokenized]
    average = (sum(lengths) / count) or 1.0
    terms = sorted(set(tokenize(query)))
    frequency = {term: sum(1 for _, counts in tokenized if term in counts) for term in terms}
    ranked = []
    for (path, counts), length in zip(tokenized, lengths, strict=True):
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / average))
        ranked.append(Ranked(path, round(score, 9)))
    ranked.sort(key=lambda r: (-r.score, r.path))
    return ranked

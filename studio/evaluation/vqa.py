"""VQA answer metrics: exact match, normalised exact match, ANLS and token F1."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

ARTICLES = {"a", "an", "the"}
NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ANLS_THRESHOLD = 0.5
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def normalise(text: str) -> str:
    """Lower case, punctuation and articles removed, number words as digits, single spaces (VQA-style)."""
    words = _PUNCTUATION.sub(" ", text.lower()).split()
    return " ".join(NUMBER_WORDS.get(w, w) for w in words if w not in ARTICLES)


def exact_match(prediction: str, truth: str) -> float:
    return float(prediction.strip() == truth.strip())


def normalised_match(prediction: str, truth: str) -> float:
    return float(normalise(prediction) == normalise(truth))


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def anls(prediction: str, truths: str | Sequence[str], threshold: float = ANLS_THRESHOLD) -> float:
    """Average normalised Levenshtein similarity for one question (best over the accepted answers): 1 - NL,
    or 0 when the normalised distance NL reaches ``threshold`` (ST-VQA / DocVQA definition)."""
    candidates = [truths] if isinstance(truths, str) else list(truths)
    pred = " ".join(prediction.strip().lower().split())
    best = 0.0
    for truth in candidates:
        gold = " ".join(truth.strip().lower().split())
        longest = max(len(pred), len(gold))
        distance = levenshtein(pred, gold) / longest if longest else 0.0
        best = max(best, 1.0 - distance if distance < threshold else 0.0)
    return best


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD-style F1 of the normalised tokens."""
    pred, gold = normalise(prediction).split(), normalise(truth).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def vqa_scores(prediction: str, truth: str) -> dict[str, float]:
    """Every VQA metric for one answer."""
    return {
        "exact_match": exact_match(prediction, truth),
        "normalised_match": normalised_match(prediction, truth),
        "anls": anls(prediction, truth),
        "token_f1": token_f1(prediction, truth),
    }


def vqa_metrics(pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Mean of each metric over (prediction, truth) pairs, and their count."""
    if not pairs:
        return {"count": 0}
    totals: Counter[str] = Counter()
    for prediction, truth in pairs:
        totals.update(vqa_scores(prediction, truth))
    return {"count": len(pairs), **{name: value / len(pairs) for name, value in totals.items()}}

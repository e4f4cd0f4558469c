"""VQA answer metrics: exact match, the VQAv2 challenge's normalised match, ANLS and token F1."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

ARTICLES = {"a", "an", "the"}
NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ANLS_THRESHOLD = 0.5
# The VQA evaluation's punctuation (EvalAI's vqaEval): removed when it touches a space or the answer has a
# thousands comma, else replaced by a space. A period goes unless a digit follows it ("2.5" keeps it).
VQA_PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",",
                   "?", "!")
_THOUSANDS_COMMA = re.compile(r"(\d)(,)(\d)")
_PERIOD = re.compile(r"\.(?!\d)")
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
# Contractions the VQA evaluation restores when written without (some of) their apostrophes: "dont" -> "don't".
CONTRACTIONS = (
    "ain't", "aren't", "can't", "could've", "couldn't", "couldn't've", "didn't", "doesn't", "don't", "hadn't",
    "hadn't've", "hasn't", "haven't", "he'd", "he'd've", "he's", "how'd", "how'll", "how's", "I'd've", "I'm", "I've",
    "isn't", "it'd", "it'd've", "it'll", "let's", "ma'am", "mightn't", "mightn't've", "might've", "mustn't",
    "must've", "needn't", "not've", "o'clock", "oughtn't", "'ow's'at", "shan't", "she'd've", "she's", "should've",
    "shouldn't", "shouldn't've", "somebody'd've", "somebody'll", "somebody's", "someone'd", "someone'd've",
    "someone'll", "someone's", "something'd", "something'd've", "something'll", "that's", "there'd", "there'd've",
    "there're", "there's", "they'd", "they'd've", "they'll", "they're", "they've", "'twas", "wasn't", "we'd've",
    "we've", "weren't", "what'll", "what're", "what's", "what've", "when's", "where'd", "where's", "where've",
    "who'd", "who'd've", "who'll", "who's", "who've", "why'll", "why're", "why's", "won't", "would've", "wouldn't",
    "wouldn't've", "y'all", "y'all'll", "y'all'd've", "you'd", "you'd've", "you'll", "you're", "you've",
)


def _without_apostrophes(word: str) -> dict[str, str]:
    """Every spelling of ``word`` with one or more of its apostrophes left out, mapped to ``word``."""
    places = [i for i, char in enumerate(word) if char == "'"]
    spellings = {}
    for n in range(1, len(places) + 1):
        for dropped in combinations(places, n):
            spellings["".join(c for i, c in enumerate(word) if i not in dropped)] = word
    return spellings


CONTRACTION_OF = {k: v for word in CONTRACTIONS for k, v in _without_apostrophes(word).items()}


def vqa_normalise(text: str) -> str:
    """An answer as the VQAv2 evaluation compares it: punctuation handled as its script does (thousands commas
    dropped, decimal points kept), lower case, number words as digits, articles dropped, contractions restored."""
    text = text.replace("\n", " ").replace("\t", " ").strip()
    drop_all = _THOUSANDS_COMMA.search(text) is not None
    for mark in VQA_PUNCTUATION:
        gone = drop_all or f"{mark} " in text or f" {mark}" in text
        text = text.replace(mark, "" if gone else " ")
    text = _PERIOD.sub("", text)
    words = (NUMBER_WORDS.get(w, w) for w in text.lower().split())
    return " ".join(CONTRACTION_OF.get(w, w) for w in words if w not in ARTICLES)


def normalise(text: str) -> str:
    """Lower case, punctuation and articles removed, number words as digits, single spaces: how phrase texts and
    box labels are compared, and the tokens of token F1."""
    words = _PUNCTUATION.sub(" ", text.lower()).split()
    return " ".join(NUMBER_WORDS.get(w, w) for w in words if w not in ARTICLES)


def exact_match(prediction: str, truth: str) -> float:
    return float(prediction.strip() == truth.strip())


def vqav2_match(prediction: str, truth: str) -> float:
    """1 when both answers read the same after the VQAv2 normalisation (`vqa_normalise`)."""
    return float(vqa_normalise(prediction) == vqa_normalise(truth))


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
        "vqav2_match": vqav2_match(prediction, truth),
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

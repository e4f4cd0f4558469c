"""The order of the review queue: each kind's items by how unusual their score is *for that kind*, so that no kind
floods the queue with the model's own mistakes.

The kinds' scores are not comparable: a model that answers 18 % of questions wrongly gives hundreds of confident
``wrong_answer`` items, and a loose localiser hundreds of ``misplaced`` ones, while a swapped label is flagged only
where a prediction overlaps the box well. Ranked by raw score, the kind the model is worst at fills the top of the
queue. Here each item's *rarity* is the share of the annotations its kind judges (boxes for the box kinds, answered
questions for ``wrong_answer``) that are flagged at least as strongly by that kind: an empirical p-value against the
kind's own distribution, which, most annotations being right, is the distribution of the model's own disagreements.
``items.review_items`` orders the queue by rarity, then by score; the score itself (the evidence's strength, shown
to the user) is unchanged.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, TypeVar


class Scored(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def score(self) -> float: ...


T = TypeVar("T", bound=Scored)


class Kinded(NamedTuple):
    """A kind and a score, all ``rarities`` needs of an item."""

    kind: str
    score: float


def judged(kind: str) -> str:
    """What a kind's items are counted against: ``answers`` (answered questions) or ``boxes``."""
    return "answers" if kind == "wrong_answer" else "boxes"


def rarities(items: Sequence[T], reviewed: Mapping[str, int]) -> list[float]:
    """Each item's rarity in 0..1: (items of its kind scoring at least as high) / (annotations its kind judges, from
    ``reviewed``: counts of ``boxes`` and ``answers`` in the reviewed images, at least the kind's item count)."""
    negated: dict[str, list[float]] = {}
    for item in items:
        negated.setdefault(item.kind, []).append(-item.score)
    for scores in negated.values():
        scores.sort()
    found = []
    for item in items:
        scores = negated[item.kind]
        at_least = bisect_left(scores, -item.score + 1e-12)  # scores >= item.score (sorted ascending as negatives)
        found.append(at_least / max(reviewed.get(judged(item.kind), 0), len(scores)))
    return found

"""Which of the project's labels a model's box names: a model writes phrases ("A red  ball"), the project has
labels ("red ball"); they match without case, extra spaces or a leading article."""

from __future__ import annotations

import re
from collections.abc import Iterable

from studio.dataset.model import Label

_ARTICLE = re.compile(r"^(?:a|an|the)\s+")


def label_key(name: str) -> str:
    """A label or phrase as it is compared ("A red  ball" -> "red ball")."""
    return _ARTICLE.sub("", " ".join(name.lower().split()))


class LabelIndex:
    """The project's labels by `label_key`."""

    def __init__(self, labels: Iterable[Label]) -> None:
        self._labels = {label_key(label.name): label for label in labels}

    def label(self, name: str) -> Label | None:
        """The label ``name`` stands for, or None (also for an empty name)."""
        return self._labels.get(label_key(name)) if name else None

    def name_for(self, name: str) -> str:
        """The project's label name for ``name`` when it has one, else ``name`` itself."""
        label = self.label(name)
        return label.name if label is not None else name

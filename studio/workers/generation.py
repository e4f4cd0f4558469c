"""Jobs for the playground and evaluation: load a predictor, stream one answer, run work that needs its own
project connection in the worker thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal

from studio.workers.job import Job


class GenerationJob(Job):
    """Answers one prompt; ``text(piece)`` streams the answer, ``finished(Prediction)`` ends it."""

    text = Signal(str)

    def __init__(self, predictor: Any, image: Any, prompt: str, **options: Any) -> None:
        super().__init__("Generating", self._generate, predictor, image, prompt, **options)

    def _generate(self, predictor: Any, image: Any, prompt: str, *, progress: Any, cancel: Any,
                  **options: Any) -> Any:
        return predictor(image, prompt, cancel=cancel, on_text=self.text.emit, **options)


def load_predictor(source: str, *, progress: Any, cancel: Any, run_config: dict[str, Any] | None = None) -> Any:
    """A predictor for ``source``: ``model:<catalog id>``, a checkpoint folder, or with ``run_config`` (a run's
    record) the model that run started from."""
    from studio.inference.predictor import Predictor

    progress(0, 0, "loading the model")
    if source.startswith("model:"):
        predictor = Predictor.from_model(source.removeprefix("model:"))
    elif run_config is not None:
        from studio.evaluation.run_eval import start_predictor

        predictor = start_predictor(run_config)
    else:
        predictor = Predictor.from_checkpoint(source)
    predictor.warm_up()
    return predictor


def in_project(folder: str | Path, fn: Callable[..., Any], *args: Any, progress: Any, cancel: Any,
               **kwargs: Any) -> Any:
    """Call ``fn(project, *args, ...)`` with a connection to the project opened in the worker thread (SQLite
    connections belong to one thread)."""
    from studio.dataset.store import Project

    with Project.open(folder) as project:
        return fn(project, *args, progress=progress, cancel=cancel, **kwargs)

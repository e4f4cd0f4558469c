"""The evaluate mode: scores of runs on val/test and a worst-first gallery."""

from studio.ui.evaluate.page import EvaluatePage

__all__ = ["EvaluatePage"]

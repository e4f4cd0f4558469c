"""TEMPORARY STUB (branch review-ui); the real module comes from branch `review`."""

from __future__ import annotations


def review_project(project, run_id, *, split=None, progress=None, cancel=None, restart=False):
    raise NotImplementedError("the review core is not merged yet")

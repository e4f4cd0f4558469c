"""The Evaluate page explains each metric where its column is."""

from __future__ import annotations

from studio.evaluation.definitions import METRIC_HELP
from studio.ui.evaluate.page import COLUMNS, FIXED_HEADERS, EvaluatePage


def test_every_metric_column_says_what_it_measures(qtbot):
    page = EvaluatePage()
    qtbot.addWidget(page)
    header = page.table.horizontalHeaderItem
    tips = {metric: header(col).toolTip() for col, (*_, metric) in enumerate(COLUMNS, start=len(FIXED_HEADERS))}
    assert tips == {metric: METRIC_HELP[metric] for metric in tips}
    assert "VQAv2" in tips["vqav2_match"] and "names no phrase" in tips["AP50"]

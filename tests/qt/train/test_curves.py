"""The smoothed train-loss curve: debiased at the start, a window that grows with the run."""

from __future__ import annotations

import pytest

from studio.ui.train.curves import smoothed


def test_the_first_point_is_the_first_loss_and_a_constant_stays_constant():
    assert smoothed([0.7]) == [pytest.approx(0.7)]
    assert smoothed([0.5] * 300) == pytest.approx([0.5] * 300)


def test_alternating_batch_losses_read_as_their_trend_in_a_long_run():
    # length-grouped batches: short VQA batches (low loss) alternate with long grounding ones (high loss)
    values = [0.1 if n % 2 else 0.7 for n in range(1000)]
    late = smoothed(values)[500:]
    assert max(late) - min(late) < 0.01  # a fixed window of 10 steps swings by 0.03
    assert sum(late) / len(late) == pytest.approx(0.4, abs=0.01)

"""Train mode: workflow settings (left), live curves (centre), runs and log (right), Start / Stop / Resume."""

from studio.ui.train.page import TrainPage

__all__ = ["TrainPage"]

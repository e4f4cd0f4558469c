"""The playground mode: try prompts on an image with a run's checkpoint or a base model."""

from studio.ui.playground.page import PlaygroundPage

__all__ = ["PlaygroundPage"]

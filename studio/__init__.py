"""VLM Studio: annotate images for vision-language models, train them locally, and test prompts."""

__version__ = "0.1.0"

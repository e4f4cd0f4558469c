"""Fixtures for the adapter tests: the tiny model (built once per session) and a drawn sample image."""

from __future__ import annotations

import pytest

from studio.adapters import get_adapter
from studio.adapters.samples import GroundedPhrase, Sample


@pytest.fixture(scope="session")
def tiny_adapter():
    return get_adapter("tiny")


@pytest.fixture(scope="session")
def tiny_processor(tiny_adapter):
    return tiny_adapter.load_processor()


@pytest.fixture(scope="session")
def tiny_model(tiny_adapter):
    import torch

    torch.set_num_threads(1)
    return tiny_adapter.load_model()


@pytest.fixture()
def grounding_sample(shapes_image):
    return Sample(
        image_id=1,
        image_path=str(shapes_image),
        width=240,
        height=160,
        task="grounding",
        prompt="Locate every phrase of this caption in the image: a red circle left of a blue square",
        phrases=(
            GroundedPhrase("red circle", ((40.0, 30.0, 100.0, 90.0),)),
            GroundedPhrase("blue square", ((150.0, 60.0, 210.0, 120.0),)),
        ),
    )


@pytest.fixture()
def vqa_sample(shapes_image):
    return Sample(
        image_id=1,
        image_path=str(shapes_image),
        width=240,
        height=160,
        task="vqa",
        prompt="How many shapes are there?",
        answer="two",
    )

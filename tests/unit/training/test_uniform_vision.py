"""The batched vision tower for equally sized images gives the library's own outputs and gradients."""

from __future__ import annotations

import copy

import pytest
import torch

from studio.adapters import get_adapter
from studio.training.uniform_vision import batch_uniform_images


@pytest.fixture(scope="module")
def towers():
    library = get_adapter("tiny").load_model(dtype="float32").model.visual.train()
    batched = copy.deepcopy(library)
    assert batch_uniform_images(batched) == len(library.blocks)
    assert batch_uniform_images(batched) == 0  # applying it twice changes nothing more
    return library, batched


def _pixels(tower, grid_thw: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    config = tower.config
    width = config.in_channels * config.temporal_patch_size * config.patch_size**2
    grid = torch.tensor(grid_thw)
    return torch.randn(int(grid.prod(-1).sum()), width, generator=torch.Generator().manual_seed(0)), grid


def _run(tower, pixels, grid):
    tower.zero_grad(set_to_none=True)
    out = tower(pixels, grid_thw=grid)
    loss = out.pooler_output.square().mean() + sum(f.square().mean() for f in out.deepstack_features)
    loss.backward()
    return out.pooler_output.detach(), {n: p.grad for n, p in tower.named_parameters() if p.grad is not None}


@pytest.mark.parametrize(
    "grid_thw",
    [[[1, 14, 14]] * 5, [[1, 14, 14], [1, 8, 12], [1, 14, 14]], [[1, 6, 4]]],
    ids=["five equal images", "mixed sizes (library path)", "one image"],
)
def test_outputs_and_gradients_match_the_library(towers, grid_thw):
    library, batched = towers
    pixels, grid = _pixels(library, grid_thw)
    expected, expected_grads = _run(library, pixels, grid)
    got, grads = _run(batched, pixels, grid)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_equal_images_take_one_attention_call(towers, monkeypatch):
    _, batched = towers
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(
        torch.nn.functional, "scaled_dot_product_attention", lambda *a, **k: calls.append(a[0].shape) or sdpa(*a, **k)
    )
    pixels, grid = _pixels(batched, [[1, 14, 14]] * 4)
    with torch.no_grad():
        batched(pixels, grid_thw=grid)
    heads = batched.config.num_heads
    assert calls == [torch.Size([4, heads, 196, batched.config.hidden_size // heads])] * len(batched.blocks)

"""The catalog files parse, and malformed files are reported with their name and problem."""

from __future__ import annotations

import pytest

from studio.adapters import adapter_for, get_adapter, get_entry, load_catalog
from studio.adapters.catalog import CatalogError, parse_entry


def test_every_entry_parses_and_has_an_adapter():
    catalog = load_catalog()
    assert "tiny" in catalog and "qwen3-vl-8b" in catalog
    for entry in catalog.values():
        assert adapter_for(entry).entry is entry
    with pytest.raises(ValueError, match="coming soon"):
        get_adapter("deepseek-ocr-2").load_model()


def test_get_entry_and_unknown_ids():
    assert get_entry("tiny").transformers_class == "Qwen3VLForConditionalGeneration"
    assert type(get_adapter("tiny")).__name__ == "TinyAdapter"
    with pytest.raises(KeyError, match=r"unknown model .nope.*tiny"):
        get_entry("nope")


def test_malformed_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('id = "broken"\nname = "x"\n[vision]\nkind = "tiles"\npatch_size = 14\n')
    with pytest.raises(CatalogError, match=r"broken\.toml: missing section \[lora\]"):
        parse_entry(bad)
    bad.write_text("id = [")
    with pytest.raises(CatalogError, match=r"broken\.toml"):
        parse_entry(bad)
    text = (
        get_entry("tiny")
        .path.read_text()
        .replace('id = "tiny"', 'id = "other"')
        .replace('family = "qwen3_vl"', 'family = "mystery"')
        .replace("supported = true", "supported = false")
    )
    bad.write_text(text)
    with pytest.raises(
        CatalogError, match=r"differs from the file name.*family 'mystery'.*needs lora.reason"
    ):
        parse_entry(bad)


def test_nvila_is_an_estimate_and_refuses_lora():
    adapter = get_adapter("nvila-lite-2b")
    assert not adapter.exact_visual_tokens  # no transformers processor to check against: an estimate
    with pytest.raises(ValueError, match=r"LoRA is not supported: not yet verified.*lora_llm.*full fine-tuning"):
        adapter.lora_target_modules()

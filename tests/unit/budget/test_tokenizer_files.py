"""The budget counts text with a checkpoint's tokenizer.json alone (no torch), exactly as AutoTokenizer does, and
falls back to AutoTokenizer where the file alone would count differently."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio.adapters import get_adapter
from studio.budget import text as text_module
from studio.budget.text import text_counter
from studio.budget.tokenizer_files import (
    FILE_TOKENIZER_MODEL_TYPES,
    NAMED_SPECIAL_TOKENS,
    TEMPLATE_DIR,
    TEMPLATE_FILE,
    load_file_tokenizer,
)

ROOT = Path(__file__).resolve().parents[3]
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "config.json", "chat_template.jinja")
TEXTS = [
    "",
    "Locate the red circle.",
    "Where is the blue square?",
    '[{"bbox_2d": [12, 7, 1000, 999], "label": "green triangle"}]',
    "1234567890 0.25 -3 1e6 2024-05-17",
    "line one\nline two\n\n\ttabbed   spaces  ",
    "  leading and trailing  ",
    "héllo wörld ñ 中文字符 ありがとう 🙂👍🏽 ∑∫√",
    "<|im_start|>user\nhi<|im_end|>\n",
    "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>",
    "glued<|im_end|>tokens<|endoftext|>x",
    "<|im_start <|im_start|| |im_end|> < | >",
    "a" * 500,
    "The caption: a small red circle [the red circle](box 1) left of a big blue square.",
]


def _auto_tokenizer(folder: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)


def _auto_counts(folder: Path, texts: list[str]) -> list[int]:
    return [len(ids) for ids in _auto_tokenizer(folder)(texts, add_special_tokens=False)["input_ids"]]


def _chat(image: bool = True) -> list[dict]:
    user = [{"type": "image"}] if image else []
    return [
        {"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant."}]},
        {"role": "user", "content": [*user, {"type": "text", "text": "Find the <|im_end|> red circle"}]},
        {"role": "assistant", "content": [{"type": "text", "text": '[{"bbox_2d": [1, 2, 3, 4]}]'}]},
    ]


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """A copy of the tiny model's tokenizer files (no weights), to edit."""
    source = get_adapter("tiny").checkpoint_folder()
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, folder / name)
    return folder


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_tiny_counts_equal_auto_tokenizer_counts():
    folder = get_adapter("tiny").checkpoint_folder()
    own = load_file_tokenizer(folder)
    assert own is not None
    assert own.count_batch(TEXTS) == _auto_counts(folder, TEXTS)
    assert own.count_batch(TEXTS) != [len(t.split()) for t in TEXTS]  # not trivially equal


def test_text_counter_equals_the_auto_tokenizer_path_batches_and_template(monkeypatch):
    adapter = get_adapter("tiny")
    monkeypatch.setattr(text_module, "TOKENIZER_BATCH", 3)
    counter = text_counter(adapter)
    assert counter.exact and counter.source == str(adapter.checkpoint_folder())
    count_batch, render = text_module._auto_tokenizer(adapter.checkpoint_folder(), adapter)
    reference = text_module._batched(count_batch)
    assert counter.count_many(TEXTS) == reference(TEXTS)
    assert counter.template_tokens == text_module._template_tokens(render, reference) > 0


@pytest.mark.parametrize("kwargs", [{}, {"add_generation_prompt": True}, {"enable_thinking": False}])
def test_rendered_template_equals_apply_chat_template(kwargs):
    folder = get_adapter("tiny").checkpoint_folder()
    own, auto = load_file_tokenizer(folder), _auto_tokenizer(folder)
    for chat in (_chat(), _chat(image=False), _chat()[1:]):
        assert own.render_chat(chat, kwargs) == auto.apply_chat_template(chat, tokenize=False, **kwargs)


def test_named_templates_in_the_config_get_the_special_tokens_as_variables(tiny_folder):
    (tiny_folder / TEMPLATE_FILE).unlink()
    default = (
        "{{ pad_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'][-1]['text'] }}{{ eos_token }}"
        "{% endfor %}{% if enable_thinking is false %}<think></think>{% endif %}{{ bos_token is defined }}"
    )
    templates = [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": default}]
    _edit_json(tiny_folder / "tokenizer_config.json", chat_template=templates)
    own, auto = load_file_tokenizer(tiny_folder), _auto_tokenizer(tiny_folder)
    kwargs = {"enable_thinking": False}
    rendered = own.render_chat(_chat(), kwargs)
    assert rendered == auto.apply_chat_template(_chat(), tokenize=False, **kwargs)
    assert rendered.startswith("<|endoftext|>system") and "<|im_end|>" in rendered and "<think>" in rendered


def test_split_special_tokens_from_the_config_is_followed(tiny_folder):
    _edit_json(tiny_folder / "tokenizer_config.json", split_special_tokens=True)
    own = load_file_tokenizer(tiny_folder)
    assert own.count_batch(TEXTS) == _auto_counts(tiny_folder, TEXTS)
    assert own.count_batch(["<|im_start|>"]) != load_file_tokenizer(
        get_adapter("tiny").checkpoint_folder()
    ).count_batch(["<|im_start|>"])


def test_padding_and_truncation_in_tokenizer_json_are_switched_off(tiny_folder):
    padding = {
        "strategy": "BatchLongest",
        "direction": "Left",
        "pad_to_multiple_of": None,
        "pad_id": 1803,
        "pad_type_id": 0,
        "pad_token": "<|endoftext|>",
    }
    truncation = {"direction": "Right", "max_length": 3, "strategy": "LongestFirst", "stride": 0}
    _edit_json(tiny_folder / "tokenizer.json", padding=padding, truncation=truncation)
    own = load_file_tokenizer(tiny_folder)
    assert own.count_batch(TEXTS) == _auto_counts(tiny_folder, TEXTS)
    assert max(own.count_batch(TEXTS)) > 3 and min(own.count_batch(TEXTS)) == 0


def _no_tokenizer_json(folder: Path) -> None:
    (folder / "tokenizer.json").unlink()


def _config(**changes):
    return lambda folder: _edit_json(folder / "tokenizer_config.json", **changes)


def _model_type(model_type: str):
    return lambda folder: _edit_json(folder / "config.json", model_type=model_type)


def _legacy_special_tokens_map(folder: Path) -> None:
    (folder / "special_tokens_map.json").write_text(json.dumps({"eos_token": "<|endoftext|>"}))


@pytest.mark.parametrize(
    "edit",
    [
        _no_tokenizer_json,
        _config(tokenizer_class="Qwen2Tokenizer"),
        _config(auto_map={"AutoTokenizer": [None, "tokenization_x.XTokenizer"]}),
        _model_type("qwen3_5"),
        _config(added_tokens_decoder={"1804": {"content": "<|im_start|>", "special": False}}),
        _config(image_token="<|not_an_added_token|>"),
        _config(extra_special_tokens=["<|not_an_added_token|>"]),
        _config(fix_mistral_regex=True),
        _legacy_special_tokens_map,
        lambda folder: (folder / "tokenizer_config.json").write_text("{not json"),
        lambda folder: (folder / "tokenizer.json").write_text("{}"),
    ],
)
def test_folders_the_file_alone_cannot_reproduce_fall_back(tiny_folder, edit):
    assert load_file_tokenizer(tiny_folder) is not None
    edit(tiny_folder)
    assert load_file_tokenizer(tiny_folder) is None


def test_flags_and_added_tokens_that_match_keep_the_file(tiny_folder):
    added = {
        "1804": {
            "content": "<|im_start|>",
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
    }
    _edit_json(
        tiny_folder / "tokenizer_config.json",
        added_tokens_decoder=added,
        add_bos_token=False,
        image_token="<|image_pad|>",
        extra_special_tokens=["<|vision_start|>"],
    )
    assert load_file_tokenizer(tiny_folder) is not None


def test_a_class_that_rebuilds_the_tokenizer_is_counted_by_auto_tokenizer(tiny_folder, monkeypatch):
    """Qwen2Tokenizer rebuilds the pipeline with its own pre-tokenizer (one digit per token): the tiny file's
    (numbers up to 4 digits per piece) would count differently, so the budget must not read the file."""
    file_counts = load_file_tokenizer(tiny_folder).count_batch(TEXTS)
    _edit_json(tiny_folder / "tokenizer_config.json", tokenizer_class="Qwen2Tokenizer")
    adapter = get_adapter("tiny")
    monkeypatch.setattr(type(adapter), "checkpoint_folder", lambda self, folder=None: tiny_folder)
    counter = text_counter(adapter)
    assert counter.exact and counter.count_many(TEXTS) == _auto_counts(tiny_folder, TEXTS) != file_counts


def test_no_tokenizer_files_fall_back_to_auto_tokenizer_then_the_estimate(tiny_folder, monkeypatch):
    _no_tokenizer_json(tiny_folder)
    adapter = get_adapter("tiny")
    monkeypatch.setattr(type(adapter), "checkpoint_folder", lambda self, folder=None: tiny_folder)
    called = []
    monkeypatch.setattr(text_module, "_auto_tokenizer", lambda *args: called.append(args))
    assert text_counter(adapter).source == "estimate" and called == [(tiny_folder, adapter)]


def test_the_accepted_model_types_keep_their_declared_tokenizer_class_in_transformers():
    """transformers substitutes its own class for the checkpoint's declared one for some model types; the file
    path must never accept those (this fails when a transformers upgrade adds one of ours)."""
    from transformers.models.auto import tokenization_auto
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
    from transformers.utils import hub

    for model_type in FILE_TOKENIZER_MODEL_TYPES:
        assert model_type not in tokenization_auto.MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS
        assert tokenization_auto.TOKENIZER_MAPPING_NAMES.get(model_type) != "MistralCommonBackend"
    assert tuple(PreTrainedTokenizerBase.SPECIAL_TOKENS_ATTRIBUTES) == NAMED_SPECIAL_TOKENS
    assert (TEMPLATE_FILE, TEMPLATE_DIR) == (hub.CHAT_TEMPLATE_FILE, hub.CHAT_TEMPLATE_DIR)


def test_counting_imports_neither_torch_nor_transformers_models():
    script = (
        "import sys\n"
        "from studio.budget.text import cached_text_counter\n"
        "counter = cached_text_counter('tiny')\n"
        "assert counter.exact and counter.template_tokens > 0 and counter.count_many(['Find the red circle'])[0] > 0\n"
        "heavy = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'transformers.models')))\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""A checkpoint's fast tokenizer read straight from its ``tokenizer.json``, without torch (transformers'
``AutoTokenizer`` imports torch through its config classes, which froze the window while the budget's first count
loaded it).

The file alone gives exactly what ``AutoTokenizer`` gives for ``tokenizer(texts, add_special_tokens=False)`` and for
the chat template only when transformers (5.x) would load that file as it is. `load_file_tokenizer` says None,
and the caller falls back to ``AutoTokenizer``, unless all of these hold:

- the folder has ``tokenizer.json``, ``tokenizer_config.json`` and ``config.json``, all valid JSON;
- ``tokenizer_config.json`` names the class ``TokenizersBackend`` (or its alias ``PreTrainedTokenizerFast``): other
  classes (``Qwen2Tokenizer``, ...) rebuild the pipeline from the vocabulary with their own pre-tokenizer;
- ``config.json``'s model type is one of `FILE_TOKENIZER_MODEL_TYPES`, for which transformers honours that declared
  class (for others, e.g. ``qwen3_5``, it substitutes its own class; a test checks the list against transformers);
- no remote code (``auto_map`` in either file), no versioned ``fast_tokenizer_files``, no ``fix_mistral_regex``,
  backend ``tokenizers``, and no legacy ``added_tokens.json`` / ``special_tokens_map.json`` that transformers would
  read (it does when the config has no ``added_tokens_decoder``);
- every added token of ``tokenizer_config.json`` is one of ``tokenizer.json``'s with the same flags, and every
  special token it names (``eos_token``, ``extra_special_tokens``, ``image_token``, ...) is an added token there:
  transformers adds those missing at load, which would change how texts split.

On top of the file, transformers only switches truncation and padding off and sets ``encode_special_tokens`` from
``split_special_tokens``; that is done here too. The chat template is the folder's ``chat_template.jinja`` (with
``additional_chat_templates/*.jinja`` as named templates), else ``tokenizer_config.json``'s ``chat_template`` (a
string or a list of named templates), rendered by transformers' own renderer (which does not import torch) with
the named special tokens as variables, as ``apply_chat_template`` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.mlstack import import_chat_template_renderer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

FILE_TOKENIZER_CLASSES = frozenset({"TokenizersBackend", "PreTrainedTokenizerFast"})
FILE_TOKENIZER_MODEL_TYPES = frozenset({"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"})
# transformers' named special tokens (`PreTrainedTokenizerBase.SPECIAL_TOKENS_ATTRIBUTES`): template variables
NAMED_SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
LEGACY_TOKEN_FILES = ("added_tokens.json", "special_tokens_map.json")
TEMPLATE_FILE = "chat_template.jinja"
TEMPLATE_DIR = "additional_chat_templates"


@dataclass(frozen=True)
class FileTokenizer:
    """A checkpoint's tokenizer as transformers would load it, and what its chat template needs."""

    tokenizer: Tokenizer
    chat_template: str | None
    special_tokens: dict[str, str]  # the named special tokens, passed to the chat template

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens around them (one call into the tokenizer)."""
        return [len(encoding.ids) for encoding in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def render_chat(self, messages: list[dict], template_kwargs: dict[str, Any]) -> str:
        """The chat template applied to ``messages`` as ``apply_chat_template(..., tokenize=False)`` renders it."""
        rendered, _ = import_chat_template_renderer()(
            conversations=[messages], chat_template=self.chat_template, **{**self.special_tokens, **template_kwargs}
        )
        return rendered[0]


def load_file_tokenizer(folder: Path) -> FileTokenizer | None:
    """The tokenizer of checkpoint ``folder`` from its files alone; None when only ``AutoTokenizer`` can load it
    exactly (see the module docstring)."""
    try:
        config = _read_json(folder / "tokenizer_config.json")
        model_config = _read_json(folder / "config.json")
        if not (folder / "tokenizer.json").is_file() or not _declared_as_is(folder, config, model_config):
            return None
        template = _chat_template(folder, config)
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: AutoTokenizer's path reports it
        return None
    if isinstance(template, dict):
        if "default" not in template:
            return None  # apply_chat_template refuses to choose; AutoTokenizer's path says so
        template = template["default"]
    from tokenizers import AddedToken, Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        configured = [AddedToken(**_token_fields(t)) for t in (config.get("added_tokens_decoder") or {}).values()]
    except Exception:  # a file tokenizers (or AddedToken) cannot read: AutoTokenizer's path reports it
        return None
    added = tokenizer.get_added_tokens_decoder().values()
    if not {repr(t) for t in configured} <= {repr(t) for t in added}:
        return None
    if not set(_special_token_strings(config)) <= {t.content for t in added}:
        return None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    tokenizer.encode_special_tokens = bool(config.get("split_special_tokens", False))
    named = {key: _token_string(config[key]) for key in NAMED_SPECIAL_TOKENS if config.get(key) is not None}
    return FileTokenizer(tokenizer, template or None, named)




def _read_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def _declared_as_is(folder: Path, config: dict, model_config: dict) -> bool:
    """Whether transformers would load ``tokenizer.json`` with the plain fast-tokenizer class, reading nothing
    else that changes how texts split."""
    if config.get("tokenizer_class") not in FILE_TOKENIZER_CLASSES:
        return False
    if model_config.get("model_type") not in FILE_TOKENIZER_MODEL_TYPES:
        return False
    if "auto_map" in config or "auto_map" in model_config:
        return False
    if "fast_tokenizer_files" in config or "fix_mistral_regex" in config:
        return False
    if config.get("backend", "tokenizers") != "tokenizers":
        return False
    if any(config.get(key) is not None and not _is_token(config[key]) for key in NAMED_SPECIAL_TOKENS):
        return False  # transformers refuses such a value
    return "added_tokens_decoder" in config or not any((folder / name).exists() for name in LEGACY_TOKEN_FILES)


def _chat_template(folder: Path, config: dict) -> str | dict[str, str] | None:
    """The template(s) as transformers' ``from_pretrained`` finds them: files first, else the config's entry."""
    templates = {}
    if (folder / TEMPLATE_FILE).is_file():
        templates["default"] = (folder / TEMPLATE_FILE).read_text(encoding="utf-8")
    for path in sorted((folder / TEMPLATE_DIR).glob("*.jinja")):
        templates[path.name.removesuffix(".jinja")] = path.read_text(encoding="utf-8")
    if templates:
        return templates["default"] if list(templates) == ["default"] else templates
    template = config.get("chat_template")
    if isinstance(template, list):
        return {entry["name"]: entry["template"] for entry in template}
    return template


def _token_fields(token: Any) -> dict:
    """An added token's fields from its serialized form (transformers' ``AddedToken(**token)``)."""
    if isinstance(token, str):
        return {"content": token}
    return {key: value for key, value in token.items() if key != "__type"}


def _is_token(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, dict) and "content" in value)


def _token_string(token: str | dict) -> str:
    return token if isinstance(token, str) else str(token["content"])


def _special_token_strings(config: dict) -> list[str]:
    """Every special token the config names, which transformers adds at load when the backend lacks it: the
    named ones, model-specific ``*_token`` keys (``image_token``; not flags like ``add_bos_token``) and
    ``extra_special_tokens`` / ``additional_special_tokens``."""
    tokens = [value for key, value in config.items() if key.endswith("_token") and _is_token(value)]
    for key in ("extra_special_tokens", "additional_special_tokens"):
        extra = config.get(key) or []
        tokens += list(extra.values()) if isinstance(extra, dict) else list(extra)
    return [_token_string(token) if _is_token(token) else str(token) for token in tokens]

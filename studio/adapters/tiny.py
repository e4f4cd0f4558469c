"""The tiny built-in model: a Qwen3-VL-class model small enough to train on a CPU, built offline and
deterministically.

`build_tiny_checkpoint(folder)` writes a complete checkpoint folder (config, tokenizer, processor, chat
template and, unless ``weights=False``, random safetensors weights). The text files of that folder are shipped
in ``studio/resources/tiny-model/``; a test checks that they equal what this module builds.

The tokenizer is a byte-level BPE with no merges and ``ignore_merges``: every word in its vocabulary (the
sample project's words, punctuation clusters of the Qwen box answer, every integer 0..1000) is one token, and
any other text falls back to one token per UTF-8 byte, so no text is ever lost."""

from __future__ import annotations

import json
from pathlib import Path

from studio.adapters.qwen import Qwen3VLAdapter

TEXT_CONFIG = {
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "head_dim": 32,
    "num_key_value_heads": 2,
    "intermediate_size": 512,
    "max_position_embeddings": 4096,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 10000.0,
        "mrope_section": [6, 5, 5],
        "mrope_interleaved": True,
    },
}
VISION_CONFIG = {
    "depth": 2,
    "hidden_size": 64,
    "num_heads": 2,
    "intermediate_size": 128,
    "patch_size": 16,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "num_position_embeddings": 64,
    "deepstack_visual_indexes": [0],
    "out_hidden_size": 128,
}
# min = max pixels: the adapter stretches every image to 224 x 224 first (catalog ``square``): 49 visual tokens.
TINY_PIXELS = 224 * 224
IMAGE_MEAN = [0.5, 0.5, 0.5]

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

_WORDS = """
system a an the red green blue yellow orange purple black white grey gray pink brown dark light
colour colours color colors circle circles square squares triangle triangles shape shapes object
objects box boxes thing things left right of above below next to and or one two three four five six
zero how many are there is it what which yes no not none locate find detect where outline every each
all phrase phrases caption image picture photo in this that on at top bottom middle center centre
corner side large small big tiny you helpful assistant user answer answers question questions with
json list label labels bbox d word words number short give please for about its own given name names
mentioned part region coordinates as by from be only if than more fewer same different
""".split()  # noqa: SIM905 (a word list reads better as text)
# Everyday nouns (and their plurals) that the tokenizer holds but pre-training never writes, after the special
# tokens so that no other id moves: a project may name its own classes with them, as the sample project does, and
# its training has to teach the model what they mean (rows added by `grow_vocabulary`).
SPARE_WORDS = """
ball block wedge disc ring star cube cone dot tile coin card cup key bolt nut gear seed cell dent pin bead chip knob
""".split()  # noqa: SIM905
_PUNCTUATION = [
    '[{"',
    '":',
    '",',
    '"}]',
    '"},',
    ' {"',
    ' "',
    " [",
    "],",
    "]",
    "[",
    "{",
    "}",
    '"',
    ",",
    ".",
    "?",
    "!",
    ":",
    ";",
    "-",
    "_",
    "'",
    "(",
    ")",
    "\n",
    "\n\n",
    " ",
]
# Qwen2-style split, except that runs of up to four digits stay together (so 0..1000 are single tokens).
_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,4}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# ChatML with Qwen's vision tokens, like the Qwen3-VL Instruct template (no tools, no default system message).
CHAT_TEMPLATE = "".join(
    (
        "{%- for message in messages -%}",
        "{{- '<|im_start|>' + message['role'] + '\\n' -}}",
        "{%- if message['content'] is string -%}{{- message['content'] -}}",
        "{%- else -%}{%- for content in message['content'] -%}",
        "{%- if content['type'] == 'image' or 'image' in content or 'image_url' in content -%}",
        "{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}",
        "{%- elif content['type'] == 'video' or 'video' in content -%}",
        "{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}",
        "{%- elif 'text' in content -%}{{- content['text'] -}}{%- endif -%}",
        "{%- endfor -%}{%- endif -%}",
        "{{- '<|im_end|>\\n' -}}",
        "{%- endfor -%}",
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}",
    )
)


def _byte_level(text: str) -> str:
    from tokenizers.pre_tokenizers import ByteLevel

    return "".join(
        pre for pre, _ in ByteLevel(add_prefix_space=False, use_regex=False).pre_tokenize_str(text)
    )


def build_tokenizer():
    """The tiny model's `tokenizers.Tokenizer` (deterministic: the same vocabulary and ids on every run)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel

    vocab: dict[str, int] = {}
    for char in sorted(ByteLevel.alphabet()):
        vocab[char] = len(vocab)
    words = [*_WORDS, *(w.capitalize() for w in _WORDS), "JSON"]
    for piece in [*(v for w in words for v in (w, " " + w)), *_PUNCTUATION, *(str(i) for i in range(1001))]:
        vocab.setdefault(_byte_level(piece), len(vocab))
    for special in SPECIAL_TOKENS:
        vocab[special] = len(vocab)
    spare = [form for w in SPARE_WORDS for form in (w, w + "s")]
    for piece in (v for w in [*spare, *(w.capitalize() for w in spare)] for v in (w, " " + w)):
        vocab.setdefault(_byte_level(piece), len(vocab))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], ignore_merges=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_SPLIT_PATTERN), behavior="isolated"),
            ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken

    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    return tokenizer


def build_processor():
    """The tiny model's `Qwen3VLProcessor` (tokenizer, image processor, video processor, chat template)."""
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, TokenizersBackend
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    tokenizer = TokenizersBackend(
        tokenizer_object=build_tokenizer(),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=TEXT_CONFIG["max_position_embeddings"],
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
    )
    vision = {
        "patch_size": VISION_CONFIG["patch_size"],
        "merge_size": VISION_CONFIG["spatial_merge_size"],
        "temporal_patch_size": VISION_CONFIG["temporal_patch_size"],
        "image_mean": IMAGE_MEAN,
        "image_std": IMAGE_MEAN,
    }
    image_processor = Qwen2VLImageProcessor(
        size={"shortest_edge": TINY_PIXELS, "longest_edge": TINY_PIXELS}, **vision
    )
    video_processor = Qwen3VLVideoProcessor(**vision)
    return Qwen3VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )


def build_config(vocab_size: int, token_ids: dict[str, int]):
    """The tiny `Qwen3VLConfig` for a tokenizer of ``vocab_size`` with the given special-token ids."""
    from transformers import Qwen3VLConfig

    text = {
        **TEXT_CONFIG,
        "vocab_size": vocab_size,
        "pad_token_id": token_ids["<|endoftext|>"],
        "bos_token_id": None,
        "eos_token_id": token_ids["<|im_end|>"],
    }
    config = Qwen3VLConfig(
        text_config=text,
        vision_config=dict(VISION_CONFIG),
        tie_word_embeddings=False,
        image_token_id=token_ids["<|image_pad|>"],
        video_token_id=token_ids["<|video_pad|>"],
        vision_start_token_id=token_ids["<|vision_start|>"],
        vision_end_token_id=token_ids["<|vision_end|>"],
    )
    config.architectures = ["Qwen3VLForConditionalGeneration"]
    config.dtype = "float32"
    return config


def build_model(config, seed: int = 0):
    """A randomly initialised tiny model; the same ``seed`` gives the same weights."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3VLForConditionalGeneration(config)
    return model.eval()


def grow_vocabulary(model, size: int, seed: int = 0) -> None:
    """Give ``model`` embedding and output rows up to ``size`` tokens (a checkpoint from before the spare words),
    drawn from the existing rows' mean and covariance (transformers' mean resizing); the same ``seed`` gives the
    same rows."""
    import torch

    if model.get_input_embeddings().num_embeddings >= size:
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.resize_token_embeddings(size, mean_resizing=True)


def build_tiny_checkpoint(folder: str | Path, seed: int = 0, *, weights: bool = True) -> Path:
    """Write the tiny checkpoint into ``folder``: loadable offline by ``AutoProcessor`` and
    ``Qwen3VLForConditionalGeneration.from_pretrained``. Without ``weights`` only the text files are written.
    """
    from transformers import GenerationConfig

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    processor = build_processor()
    tokenizer = processor.tokenizer
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = build_config(len(tokenizer), ids)
    processor.save_pretrained(folder)
    generation = GenerationConfig(
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
    )
    if weights:
        model = build_model(config, seed)
        model.generation_config = generation
        model.save_pretrained(folder)
    else:
        config.save_pretrained(folder)
        generation.save_pretrained(folder)
    _normalise_json_files(folder)
    return folder


def _normalise_json_files(folder: Path) -> None:
    """Drop the library version stamps so that the same build writes byte-identical text files."""
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "transformers_version" in data:
            data.pop("transformers_version")
            path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class TinyAdapter(Qwen3VLAdapter):
    """The Qwen3-VL adapter over the bundled checkpoint (``studio/resources/tiny-model``); like every model it loads
    from its ``model.safetensors`` only: a folder without it is an error, never a model with random weights."""

"""What every model family answers (the `Adapter` base class): processor settings, visual tokens, chat
messages, supervised examples, boxes in text, LoRA targets and loading. Families override the parts that
differ."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from studio.adapters import prompts, trust
from studio.adapters.boxes import BoxMap, ParseResult, RefBoxTags, parse_ref_boxes, write_ref_boxes
from studio.adapters.catalog import CatalogEntry
from studio.adapters.loading import ModelNotAvailable, quantization_config, resolve_checkpoint
from studio.adapters.samples import Sample
from studio.adapters.vision_tokens import tile_count
from studio.mlstack import import_ml_stack

IGNORE_INDEX = -100
SEQUENCE_KEYS = frozenset({"input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids"})


@dataclass(frozen=True)
class VisionSettings:
    """Resolution settings shared by training, evaluation, the playground and export."""

    min_pixels: int = 0
    max_pixels: int = 0
    max_tiles: int = 0


@dataclass(frozen=True)
class TrainingText:
    """The exact chat text the trainer tokenises: ``prompt`` (masked) followed by ``target`` (learned)."""

    prompt: str
    target: str

    @property
    def full(self) -> str:
        return self.prompt + self.target


def load_image(path: str | Path):
    """An RGB PIL image with its EXIF orientation applied (the store's boxes are in that frame)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except OSError as exc:
        raise OSError(f"{path}: cannot read the image ({exc})") from None


class Adapter:
    """Family behaviour over one catalog entry."""

    #: module name prefixes kept unquantised by bitsandbytes (vision tower, output head)
    unquantised_modules: tuple[str, ...] = ("lm_head",)
    #: the token closing each chat turn; it is learned with the answer
    end_token = "<|im_end|>"
    #: passed to every chat template: hybrid-thinking templates (Qwen3.5) then put an empty think block in the
    #: prompt, so the model learns and writes the answer directly; other templates ignore it
    chat_template_kwargs: ClassVar[dict[str, Any]] = {"enable_thinking": False}
    #: False when `visual_tokens` is a documented estimate rather than the processor's exact count
    exact_visual_tokens = True

    def __init__(self, entry: CatalogEntry) -> None:
        self.entry = entry

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.entry.id!r})"

    # --- resolution ----------------------------------------------------------------------------------------
    def settings(
        self, max_pixels: int | None = None, min_pixels: int | None = None, max_tiles: int | None = None
    ) -> VisionSettings:
        """The catalog defaults with the given overrides."""
        v = self.entry.vision
        return VisionSettings(
            min_pixels=v.min_pixels if min_pixels is None else min_pixels,
            max_pixels=v.max_pixels if max_pixels is None else max_pixels,
            max_tiles=v.max_tiles if max_tiles is None else max_tiles,
        )

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        """Placeholder tokens per image (numpy array) for arrays of image sizes (no wrapper tokens)."""
        raise NotImplementedError

    def visual_tokens(self, width: int, height: int, settings: VisionSettings | None = None) -> int:
        """Placeholder tokens the processor inserts for an image of this size (no wrapper tokens)."""
        return int(self.visual_tokens_batch([width], [height], settings)[0])

    def image_wrapper_tokens(self) -> int:
        """Tokens around each image's placeholders (e.g. ``<|vision_start|>`` and ``<|vision_end|>``)."""
        return 0

    # --- boxes --------------------------------------------------------------------------------------------
    #: how an answer writes labelled boxes, as a template for people ('' for a family without boxes)
    box_template = ""
    #: what the template's numbers are
    box_coordinates = "in pixels of the resized image"

    def box_format(self) -> str:
        """The family's box format in words: the template and its coordinates ('' for a family without boxes)."""
        return f"{self.box_template} {self.box_coordinates}" if self.box_template else ""

    def box_map(self, width: int, height: int, settings: VisionSettings | None = None) -> BoxMap:
        """The one conversion between original-image pixels and this family's box coordinates."""
        raise NotImplementedError

    def write_boxes(
        self,
        phrases: list[tuple[str, list[tuple[float, float, float, float]]]],
        width: int,
        height: int,
        settings: VisionSettings | None = None,
    ) -> str:
        """The answer text for labelled boxes given in original-image pixels."""
        raise NotImplementedError

    def parse_boxes(
        self, text: str, width: int, height: int, settings: VisionSettings | None = None
    ) -> ParseResult:
        """Boxes (original-image pixels) read leniently from model output, and what could not be read."""
        raise NotImplementedError

    # --- text ---------------------------------------------------------------------------------------------
    def answer_text(self, sample: Sample, settings: VisionSettings | None = None) -> str:
        if sample.task == "vqa":
            return sample.answer
        items = [(p.text, list(p.boxes)) for p in sample.phrases]
        return self.write_boxes(items, sample.width, sample.height, settings)

    def messages(
        self, sample: Sample, system_prompt: str | None = None, *, answer: str | None = None
    ) -> list[dict[str, Any]]:
        """Chat messages (system, user with the image, and the assistant ``answer`` when given)."""
        system = prompts.system_prompt(sample.task) if system_prompt is None else system_prompt
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
        messages.append(
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": sample.prompt}]}
        )
        if answer is not None:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
        return messages

    def generation_prompt(self, sample: Sample, processor: Any, system_prompt: str | None = None) -> str:
        """The chat text up to where the model writes its answer."""
        return processor.apply_chat_template(
            self.messages(sample, system_prompt), tokenize=False, add_generation_prompt=True,
            **self.template_kwargs(processor),
        )

    def template_kwargs(self, processor: Any) -> dict[str, Any]:
        """The `chat_template_kwargs` this processor's template reads (others would reach the processor itself,
        which warns once per call)."""
        template = str(getattr(processor, "chat_template", "") or "")
        return {key: value for key, value in self.chat_template_kwargs.items() if key in template}

    def training_text(
        self,
        sample: Sample,
        processor: Any,
        settings: VisionSettings | None = None,
        system_prompt: str | None = None,
    ) -> TrainingText:
        """The chat text before image expansion: the prompt and the learned target (answer + end token)."""
        answer = self.answer_text(sample, settings)
        prompt = self.generation_prompt(sample, processor, system_prompt)
        full = processor.apply_chat_template(
            self.messages(sample, system_prompt, answer=answer), tokenize=False, **self.template_kwargs(processor)
        )
        if not full.startswith(prompt + answer):
            raise ValueError(
                f"{self.entry.id}: the chat template does not put the answer right after the "
                f"generation prompt; cannot mask the prompt"
            )
        return TrainingText(prompt=prompt, target=full[len(prompt) :])

    def supervised_example(
        self,
        sample: Sample,
        processor: Any,
        image: Any = None,
        settings: VisionSettings | None = None,
        system_prompt: str | None = None,
    ) -> dict[str, Any]:
        """Tensors for one training example, without batch dimension on the token sequences: the processor's
        outputs plus ``labels`` (-100 everywhere except the answer and its end token)."""
        text = self.training_text(sample, processor, settings, system_prompt)
        batch = self._encode(text.full, sample, processor, image, settings)
        input_ids = batch["input_ids"][0]
        target_ids = list(processor.tokenizer(text.target, add_special_tokens=False)["input_ids"])
        n = len(target_ids)
        if input_ids[-n:].tolist() != target_ids:
            raise ValueError(f"{self.entry.id}: the answer tokenises differently in the chat; cannot mask it")
        end_id = processor.tokenizer.convert_tokens_to_ids(self.end_token)
        learned = n - target_ids[::-1].index(end_id)  # the answer up to and including the end token
        labels = input_ids.clone()
        labels[: len(input_ids) - n] = IGNORE_INDEX
        labels[len(input_ids) - n + learned :] = IGNORE_INDEX
        example = {key: value[0] if key in SEQUENCE_KEYS else value for key, value in batch.items()}
        example["labels"] = labels
        return example

    def prompt_inputs(
        self,
        sample: Sample,
        processor: Any,
        image: Any = None,
        settings: VisionSettings | None = None,
        system_prompt: str | None = None,
    ) -> Any:
        """Processor outputs (batch of one) for generating the answer to ``sample``'s prompt."""
        return self._encode(self.generation_prompt(sample, processor, system_prompt), sample, processor, image,
                            settings)

    def _encode(
        self, text: str, sample: Sample, processor: Any, image: Any, settings: VisionSettings | None
    ) -> Any:
        """The processor's tensors for ``text`` with the sample's image (batch of one)."""
        raise NotImplementedError

    def _image(self, sample: Sample, image: Any = None) -> Any:
        picture = image if image is not None else load_image(sample.image_path)
        if picture.size != (sample.width, sample.height):
            raise ValueError(
                f"{sample.image_path}: the image is {picture.size[0]}x{picture.size[1]} but the "
                f"project records {sample.width}x{sample.height}; re-import it"
            )
        return picture

    # --- training set-up ----------------------------------------------------------------------------------
    def lora_target_modules(self, unfreeze_vision: bool = False) -> str:
        """A peft ``target_modules`` regex: the language model's projections, plus the vision tower's when
        ``unfreeze_vision``. Raises `ValueError` with the reason when this model does not support LoRA."""
        lora = self.entry.lora
        if not lora.supported:
            raise ValueError(f"{self.entry.id}: LoRA is not supported: {lora.reason}")
        parts = [rf"{_escape(lora.language_prefix)}.*\.({'|'.join(lora.target_modules)})"]
        if unfreeze_vision and lora.vision_target_modules:
            parts.append(rf"{_escape(lora.vision_prefix)}.*\.({'|'.join(lora.vision_target_modules)})")
        return "|".join(f"(?:{p})" for p in parts)

    # --- loading ------------------------------------------------------------------------------------------
    def checkpoint_folder(self, folder: str | Path | None = None) -> Path:
        """Where the checkpoint is: ``folder``, the entry's bundled folder, or the Hugging Face cache."""
        if folder is None and self.entry.local_folder() is not None:
            return self.entry.local_folder()
        return resolve_checkpoint(self.entry.hf_id, folder)

    def load_processor(self, settings: VisionSettings | None = None, folder: str | Path | None = None) -> Any:
        raise NotImplementedError

    def code_revision(self, folder: str | Path | None = None) -> trust.CodeRevision:
        """The Python code shipped in the checkpoint ``folder`` (the entry's own when None) that loading would run."""
        return trust.code_revision(self.entry.id, self.checkpoint_folder(folder))

    def trust_code(self, folder: str | Path | None = None) -> trust.CodeRevision | None:
        """Record the user's consent to run this model's code in ``folder`` (this revision only); None for a model
        that runs no code of its own (nothing to consent to)."""
        if not self.entry.remote_code:
            return None
        code = self.code_revision(folder)
        trust.trust(code)
        return code

    def load_model(
        self,
        folder: str | Path | None = None,
        *,
        dtype: str = "auto",
        device: str = "cpu",
        quantization: int | None = None,
    ) -> Any:
        """The model, offline, from safetensors only, with the vision tower and lm_head kept unquantised under
        4/8-bit. Models that need their own remote code load only after the user trusted it (`trust`)."""
        import_ml_stack()
        import torch
        import transformers

        path = self.checkpoint_folder(folder)
        cls = getattr(transformers, self.entry.transformers_class)
        kwargs: dict[str, Any] = {
            "use_safetensors": True,
            "dtype": "auto" if dtype == "auto" else getattr(torch, dtype),
        }
        bnb = quantization_config(quantization, list(self.unquantised_modules))
        if bnb is not None:
            kwargs["quantization_config"] = bnb
            kwargs["device_map"] = {"": device}
        try:
            model = trust.from_pretrained(cls, self.entry, path, **kwargs)
        except OSError as exc:
            raise ModelNotAvailable(f"{path}: cannot load {self.entry.id} ({exc})") from None
        return model if bnb is not None else model.to(device)


class TiledVision:
    """Images cut into square tiles of ``tokens_per_tile`` tokens each, chosen as InternVL does (with a thumbnail
    when tiled): InternVL and NVILA."""

    def visual_tokens_batch(self, widths, heights, settings: VisionSettings | None = None):
        s = settings or self.settings()
        v = self.entry.vision
        tiles = tile_count(widths, heights, v.tile_size, v.min_tiles, s.max_tiles, v.use_thumbnail)
        return tiles * v.tokens_per_tile


class RelativeBoxes:
    """Box coordinates relative to the image, 0-``box_scale`` on both axes (1000: Qwen3-VL, Qwen3.5, InternVL,
    NVILA; 999: DeepSeek-OCR)."""

    box_scale = 1000

    @property
    def box_coordinates(self) -> str:
        return f"with coordinates 0–{self.box_scale}"

    def box_map(self, width: int, height: int, settings: VisionSettings | None = None) -> BoxMap:
        return BoxMap(self.box_scale / width, self.box_scale / height, self.box_scale, self.box_scale)


class RefBoxText:
    """Boxes written ``<ref>label</ref><box>[[x1, y1, x2, y2]]</box>`` with the family's ``box_tags``."""

    box_tags: RefBoxTags

    @property
    def box_template(self) -> str:
        tags = self.box_tags
        return f"{tags.ref_open}label{tags.ref_close}{tags.box_open}[[x1, y1, x2, y2]]{tags.box_close}"

    def write_boxes(self, phrases, width, height, settings=None) -> str:
        box_map = self.box_map(width, height, settings)
        items = [(name, [box_map.to_model_int(b) for b in boxes]) for name, boxes in phrases]
        return write_ref_boxes(items, self.box_tags)

    def parse_boxes(
        self, text: str, width: int, height: int, settings: VisionSettings | None = None
    ) -> ParseResult:
        return parse_ref_boxes(text, self.box_map(width, height, settings), self.box_tags)


def _escape(prefix: str) -> str:
    return prefix.replace(".", r"\.")

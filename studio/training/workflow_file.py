"""A workflow as settings a person writes: ``key=value`` pairs and YAML files in the shape LLaMA-Factory users
know (flat keys: model_name_or_path, finetuning_type, lora_rank, learning_rate, cutoff_len, bf16…), with VLM
Studio's own settings under their own names (lr_floor, keep_last, task_mix, augment…). Each value's type is
checked here, then the whole workflow by `WorkflowConfig.keyed_problems`, the Train page's validation; every
problem names the key as the person wrote it and what it allows."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from studio.adapters import prompts
from studio.training.config import AugmentConfig, TaskMixConfig, WorkflowConfig, default_workflow

# LLaMA-Factory's key -> the workflow setting with the same meaning and unit
ALIASES = {
    "num_train_epochs": "epochs",
    "learning_rate": "lr",
    "lr_scheduler_type": "schedule",
    "warmup_steps": "warmup_steps",
    "weight_decay": "weight_decay",
    "max_grad_norm": "max_grad_norm",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "image_min_pixels": "min_pixels",
    "image_max_pixels": "max_pixels",
    "cutoff_len": "max_seq_len",
    "lora_rank": "lora_r",
    "lora_alpha": "lora_alpha",
    "lora_dropout": "lora_dropout",
    "seed": "seed",
    "gradient_checkpointing": "grad_checkpointing",
    "eval_steps": "eval_every",
    "save_steps": "save_every",
}
# LLaMA-Factory's keys that set a workflow setting their own way -> that setting (model_name_or_path names the
# local folder when model_id is given too, so it clashes with model_folder, not with model_id)
SPECIAL = {
    "model_name_or_path": "model_folder",
    "finetuning_type": "mode",
    "quantization_bit": "mode",
    "quantization_method": "mode",
    "lora_target": "lora_targets",
    "freeze_vision_tower": "train_vision",
    "freeze_multi_modal_projector": "train_projector",
    "bf16": "precision",
    "fp16": "precision",
    "stage": "stage",
    "do_train": "do_train",
}
# LLaMA-Factory's keys that have no equivalent here, and what to do instead
HINTS = {
    "val_size": "validation uses the project's val split; set its size with `vlm-studio split PROJECT --val 0.1`",
    "dataset": "the project's annotated images are the dataset",
    "template": "the model's adapter applies its own chat template",
    "output_dir": "runs are stored in the project folder",
    "warmup_ratio": "use warmup_steps",
}
GROUPS = ("task_mix", "augment", "system_prompts")  # nested settings: a YAML mapping, or dotted keys
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class SettingsError(ValueError):
    """Settings that cannot make a valid workflow; the message names each bad key."""


def kinds() -> dict[str, str]:
    """Each workflow setting's key (nested ones dotted) and its type's name."""
    out = {f.name: str(f.type) for f in fields(WorkflowConfig) if f.name not in GROUPS}
    out |= {f"task_mix.{f.name}": str(f.type) for f in fields(TaskMixConfig)}
    out |= {f"augment.{f.name}": str(f.type) for f in fields(AugmentConfig)}
    out |= {f"system_prompts.{task}": "str" for task in prompts.TASKS}
    return out


def resolve_model(name: str) -> str | None:
    """The catalog id ``name`` stands for (a catalog id or the model's Hugging Face id), or None."""
    from studio.adapters import load_catalog

    catalog = load_catalog()
    if name in catalog:
        return name
    return next((e.id for e in catalog.values() if e.hf_id and e.hf_id.lower() == name.lower()), None)


def new_config(settings: dict[str, Any], names: dict[str, str] | None = None) -> WorkflowConfig:
    """A new workflow: its model's shipped starting point (`default_workflow`) with ``settings`` applied."""
    flat = _flatten(settings)
    named = flat.get("model_id", flat.get("model_name_or_path"))
    if named is None:
        raise SettingsError("model_name_or_path: missing; name the model (a catalog id or its Hugging Face id)")
    model = resolve_model(named) if isinstance(named, str) else None
    return apply_settings(default_workflow(model) if model else WorkflowConfig(), flat, names)


def apply_settings(base: WorkflowConfig, settings: dict[str, Any], names: dict[str, str] | None = None
                   ) -> WorkflowConfig:
    """``base`` with ``settings`` applied (LLaMA-Factory's keys or ours; nested groups as mappings or dotted keys),
    validated as the Train page validates; a `SettingsError` names every bad key (as ``names`` calls it, e.g. a
    command-line option) and what it allows."""
    flat = _flatten(settings)
    types = kinds()
    errors: list[str] = []
    unknown = [key for key in flat if key not in ALIASES and key not in SPECIAL and key not in types]
    for key in unknown:
        errors.append(f"{key}: {HINTS[key]}" if key in HINTS else f"unknown key {key}")
    errors += _clashes([key for key in flat if key not in unknown])
    values: dict[str, Any] = {}  # workflow setting -> value
    written: dict[str, str] = {}  # workflow setting -> the key that set it
    for key, value in flat.items():
        target = ALIASES.get(key, key)
        if key in SPECIAL or key in unknown:
            continue
        try:
            values[target] = _coerce(value, types[target])
            written[target] = key
        except ValueError as exc:
            errors.append(f"{key}: {exc}")
    if isinstance(values.get("model_id"), str):
        values["model_id"] = resolve_model(values["model_id"]) or values["model_id"]
    errors += _special(flat, values, written)
    if errors:
        raise SettingsError(_sentence(errors, unknown))
    data = base.to_dict()
    for key, value in values.items():
        group, _, name = key.rpartition(".")
        (data[group] if group else data)[name] = value
    config = WorkflowConfig.from_dict(data)
    names = names or {}
    problems = [f"{names.get(written.get(key, key), written.get(key, key))}: {message}"
                for key, message in config.keyed_problems()]
    if problems:
        raise SettingsError("; ".join(problems))
    return config


def workflow_settings(config: WorkflowConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config`` as LLaMA-Factory's keys and VLM Studio's own settings: every setting, so that `apply_settings`
    of both gives ``config`` back."""
    from studio.adapters import load_catalog

    entry = load_catalog().get(config.model_id)
    theirs: dict[str, Any] = {}
    if config.model_folder:
        theirs["model_name_or_path"] = config.model_folder
    else:
        theirs["model_name_or_path"] = entry.hf_id if entry is not None and entry.hf_id else config.model_id
    theirs["finetuning_type"] = "full" if config.mode == "full" else "lora"
    if config.mode.startswith("qlora"):
        theirs["quantization_bit"] = int(config.mode.removeprefix("qlora"))
    theirs["lora_target"] = ",".join(config.lora_targets) or "all"
    theirs["freeze_vision_tower"] = not config.train_vision
    theirs["freeze_multi_modal_projector"] = not config.train_projector
    reverse = {ours: key for key, ours in ALIASES.items()}
    own: dict[str, Any] = {}
    if config.model_folder:
        own["model_id"] = config.model_id
    for key, value in config.to_dict().items():
        if key in reverse:
            theirs[reverse[key]] = value
        elif key not in ("model_id", "model_folder", "mode", "lora_targets", "train_vision", "train_projector",
                         "precision"):
            own[key] = value
    if config.precision in ("bf16", "fp16", "fp32"):
        theirs["bf16"], theirs["fp16"] = config.precision == "bf16", config.precision == "fp16"
    else:
        own["precision"] = config.precision
    return theirs, own


def read_workflow_file(path: str | Path) -> dict[str, Any]:
    """The settings in a YAML workflow file (a ``key: value`` mapping)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path} is not a text (YAML) file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict) or not data:
        raise SettingsError(f"{path} holds no settings: expected `key: value` lines (e.g. learning_rate: 1.0e-4)")
    return data


def workflow_yaml(config: WorkflowConfig, name: str) -> str:
    """``config`` as the text of a YAML workflow file."""
    import yaml

    theirs, own = workflow_settings(config)
    return (f"# VLM Studio workflow {name!r}: vlm-studio workflows PROJECT --import THIS.yaml [--name NAME]\n"
            "# The keys LLaMA-Factory users know:\n" + yaml.safe_dump(theirs, sort_keys=False, allow_unicode=True) +
            "# VLM Studio's own settings:\n" + yaml.safe_dump(own, sort_keys=False, allow_unicode=True))


# ---------------------------------------------------------------------------------------------------------------
def _flatten(settings: dict[str, Any]) -> dict[str, Any]:
    """Nested groups (``augment: {scale: 0.1}``) as dotted keys (``augment.scale``)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        key = str(key).strip()
        if key in GROUPS and isinstance(value, dict):
            flat |= {f"{key}.{name}": inner for name, inner in value.items()}
        else:
            flat[key] = value
    return flat


def _clashes(keys: list[str]) -> list[str]:
    """Two keys that set the same setting (learning_rate and lr; bf16 and precision)."""
    by_setting: dict[str, list[str]] = {}
    for key in keys:
        by_setting.setdefault(ALIASES.get(key) or SPECIAL.get(key) or key, []).append(key)
    return [f"{' and '.join(group)} set the same setting: keep one" for group in by_setting.values()
            if len(group) > 1 and not all(key in SPECIAL for key in group)]


def _special(flat: dict[str, Any], values: dict[str, Any], written: dict[str, str]) -> list[str]:
    """LLaMA-Factory's keys that map onto a setting their own way; fills ``values``, returns the errors."""
    errors: list[str] = []

    def take(key: str, kind: str) -> Any:
        try:
            return _coerce(flat[key], kind)
        except ValueError as exc:
            errors.append(f"{key}: {exc}")
            return None

    if "stage" in flat and flat["stage"] != "sft":
        errors.append(f"stage: {flat['stage']!r} is not sft (supervised fine-tuning, the only stage here)")
    if "do_train" in flat and take("do_train", "bool") is False:
        errors.append("do_train: a workflow trains; remove do_train: false")
    if "model_name_or_path" in flat:
        named = take("model_name_or_path", "str")
        model = resolve_model(named) if named else None
        if "model_id" in values:  # a local folder of weights for that catalog model
            if model is not None and model != values["model_id"]:
                errors.append(f"model_name_or_path: {named!r} is the model {model}, but model_id is "
                              f"{values['model_id']}")
            elif model is None and named:
                values["model_folder"] = named
                written["model_folder"] = "model_name_or_path"
        elif model is not None:
            values["model_id"], values["model_folder"] = model, ""
            written["model_id"] = "model_name_or_path"
        elif named is not None:
            errors.append(f"model_name_or_path: {named!r} is not a catalog model or its Hugging Face id (see "
                          "`vlm-studio models`); for a local folder of weights add model_id: the catalog model it is")
    mode_keys = [key for key in ("finetuning_type", "quantization_bit", "quantization_method") if key in flat]
    if mode_keys:
        kind = take("finetuning_type", "str") if "finetuning_type" in flat else None
        bits = take("quantization_bit", "int") if flat.get("quantization_bit") is not None else None
        kind = kind or "lora"
        if kind not in ("lora", "full"):
            errors.append(f"finetuning_type: {kind!r} is not one of lora, full (QLoRA: lora with quantization_bit 4 "
                          "or 8)")
        if bits is not None and bits not in (4, 8):
            errors.append(f"quantization_bit: {bits} is not one of 4, 8")
        if bits is not None and kind == "full":
            errors.append("quantization_bit: full fine-tuning is not quantised; QLoRA is finetuning_type: lora")
        method = flat.get("quantization_method")
        if method is not None and (method not in ("bnb", "bitsandbytes") or bits is None):
            errors.append(f"quantization_method: {method!r}: only bitsandbytes (bnb), with quantization_bit 4 or 8")
        values["mode"] = "full" if kind == "full" else f"qlora{bits}" if bits else "lora"
        written["mode"] = mode_keys[0]
    if "lora_target" in flat:
        target = flat["lora_target"]
        values["lora_targets"] = [] if target == "all" else take("lora_target", "list[str]")
        written["lora_targets"] = "lora_target"
    for key, setting in (("freeze_vision_tower", "train_vision"), ("freeze_multi_modal_projector", "train_projector")):
        if key in flat and (frozen := take(key, "bool")) is not None:
            values[setting] = not frozen
            written[setting] = key
    half = {key: take(key, "bool") for key in ("bf16", "fp16") if key in flat}
    if half:
        if half.get("bf16") and half.get("fp16"):
            errors.append("bf16 and fp16: choose one")
        values["precision"] = next((key for key, on in half.items() if on), "fp32")
        written["precision"] = next(iter(half))
    return errors


def _coerce(value: Any, kind: str) -> Any:
    """``value`` (from YAML, or text from ``--set``) as a setting of type ``kind``; a `ValueError` says why not."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE
        raise ValueError(f"{value!r} is not true or false")
    if kind in ("int", "float"):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        if kind == "float":
            return number
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if kind == "list[str]":
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(part, str) for part in value):
            return list(value)
        raise ValueError(f"{value!r} is not a list of names (e.g. q_proj,v_proj)")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _sentence(errors: list[str], unknown: list[str]) -> str:
    text = "; ".join(errors)
    if any(key not in HINTS for key in unknown):
        text += " (the keys a workflow accepts: vlm-studio workflows --help)"
    return text

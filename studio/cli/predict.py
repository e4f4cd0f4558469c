"""``predict``: one prompt about one image with a run's checkpoint or a catalog model."""

from __future__ import annotations

import argparse
import sys

from studio.cli import CommandError
from studio.cli.consent import TRUST_HELP, trust_model, trust_run
from studio.cli.output import emit


def register(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser("predict", help="answer a prompt about an image with a run or a base model")
    predict.add_argument("project", nargs="?", help="the project holding the run (not needed with --model)")
    predict.add_argument("image")
    predict.add_argument("--prompt", required=True)
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run name or id")
    source.add_argument("--model", help="catalog model id (base model), e.g. tiny")
    predict.add_argument("--checkpoint", default="best",
                         help="best, last, a step-… folder, or start: the model the run started from (default best)")
    predict.add_argument("--task", default="grounding", choices=("grounding", "vqa"))
    predict.add_argument("--system-prompt", help="default: the run's system prompt for the task")
    predict.add_argument("--max-new-tokens", type=int, default=256)
    predict.add_argument("--temperature", type=float, default=0.0)
    predict.add_argument("--top-p", type=float, default=1.0)
    predict.add_argument("--top-k", type=int, default=0)
    predict.add_argument("--repetition-penalty", type=float, default=1.0)
    predict.add_argument("--seed", type=int)
    predict.add_argument("--quantization", type=int, choices=(4, 8),
                         help="load in 4 or 8 bits (CUDA only; QLoRA runs load as trained by default)")
    predict.add_argument("--json", action="store_true")
    predict.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    predict.set_defaults(handler=_predict)


def _predict(args: argparse.Namespace) -> int:
    from studio.inference.generation import GenerationSettings
    from studio.inference.predictor import Predictor

    generation = GenerationSettings(args.max_new_tokens, args.temperature, args.top_p, args.top_k,
                                    args.repetition_penalty, args.seed)
    if args.model:
        trust_model(args, args.model)
        predictor = Predictor.from_model(args.model, quantization=args.quantization)
    else:
        if not args.project:
            raise CommandError("--run needs the project folder before the image: predict PROJECT IMAGE --run RUN")
        from studio.dataset.store import Project

        with Project.open(args.project, read_only=True) as project:
            trust_run(args, project, args.run, args.checkpoint)
            bits = "as-trained" if args.quantization is None else args.quantization
            predictor = Predictor.from_run(project, args.run, args.checkpoint, quantization=bits)
    on_text = None if args.json else (lambda piece: print(piece, end="", file=sys.stderr, flush=True))
    result = predictor(args.image, args.prompt, system_prompt=args.system_prompt, task=args.task,
                       generation=generation, on_text=on_text)
    if on_text is not None:
        print(file=sys.stderr)
    lines = [result.text]
    lines += [f"  {b.label or '(no label)'}: " + ", ".join(f"{v:.1f}" for v in b.box) for b in result.boxes]
    lines += [f"  could not read: {p}" for p in result.problems]
    lines.append(f"  {result.tokens_used:,} tokens ({result.prompt_tokens:,} prompt), first token after "
                 f"{result.time_to_first_token * 1000:.0f} ms, {result.tokens_per_second:.1f} tokens/s")
    emit({"model_id": predictor.model_id, **result.to_dict()}, as_json=args.json, text="\n".join(lines))
    return 0

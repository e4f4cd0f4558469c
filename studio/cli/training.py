"""Training commands: ``train``, ``runs`` and ``launch-config`` (several GPUs or nodes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from studio.cli import CommandError
from studio.cli.consent import TRUST_HELP, trust_model
from studio.cli.output import emit


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="run a workflow headless (the same core as the Train button)")
    train.add_argument("project")
    train.add_argument("--workflow", default="default", help="workflow name (default: default, created if missing)")
    train.add_argument("--resume", metavar="RUN", help="continue a stopped run from its last checkpoint")
    train.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    train.add_argument("--json-progress", action="store_true", help="one JSON event per line on stdout")
    train.add_argument("--check", action="store_true",
                       help="only the pre-flight checks (settings, weights, every sample's tokens, memory): the Train "
                            "page's Check data; exit 2 when they fail (--json for one JSON document); creates the "
                            "default workflow when it is missing, as the Train page does")
    train.add_argument("--json", action="store_true", help="with --check: the report as JSON")
    train.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    train.set_defaults(handler=_train)

    runs = subparsers.add_parser("runs", help="the project's training runs with their status and last metrics")
    runs.add_argument("project")
    runs.add_argument("--log", metavar="RUN", help="print this run's log instead")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=_runs)

    launch = subparsers.add_parser("launch-config", help="write an accelerate config and the launch command")
    launch.add_argument("project")
    launch.add_argument("--workflow", default="default", help="workflow name (default: default, created if missing)")
    launch.add_argument("--gpus", type=int, required=True, help="GPUs per node")
    launch.add_argument("--nodes", type=int, default=1)
    backend = launch.add_mutually_exclusive_group()
    backend.add_argument("--deepspeed", choices=("zero2", "zero3"),
                         help="the ZeRO stage's sharding, run with PyTorch FSDP2 (no DeepSpeed install)")
    backend.add_argument("--fsdp", action="store_true", help="PyTorch FSDP2, fully sharded (as --deepspeed zero3)")
    launch.add_argument("--json", action="store_true")
    launch.set_defaults(handler=_launch)


def _train(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.training import runs
    from studio.training.trainer import RunConfig, TrainingError, train
    from studio.training.workflows import DEFAULT_NAME, ensure_default_workflow

    if args.trust_remote_code:
        config = _train_config(args)
        trust_model(args, config.model_id, config.model_folder or None)
    if args.check:
        return _check(args)
    first = int(os.environ.get("RANK", "0")) == 0  # under several processes only the first keeps records and reports
    if first:
        with Project.open(args.project) as project:
            runs.mark_interrupted(project)
            if args.workflow == DEFAULT_NAME and not args.resume:
                ensure_default_workflow(project)
    as_json = args.json_progress

    def on_progress(event) -> None:
        if not first:
            return
        if as_json:  # one write per line, so no other output lands inside it
            sys.stdout.write(json.dumps({"event": event.kind, "step": event.step, "total_steps": event.total_steps,
                                         "epoch": round(event.epoch, 4), "metrics": event.metrics,
                                         "message": event.message}) + "\n")
            sys.stdout.flush()
        elif event.kind == "step":
            m = event.metrics
            print(f"\rstep {event.step}/{event.total_steps} epoch {event.epoch:.2f} loss {m['loss']:.4f} "
                  f"lr {m['lr']:.2e} {m['samples_per_s']:.1f} samples/s eta {m['eta_s']:.0f}s".ljust(79),
                  end="", file=sys.stderr, flush=True)
        elif event.message:
            print(f"\n{event.message}" if event.kind != "prepare" else f"\r{event.message}".ljust(79),
                  end="" if event.kind == "prepare" else "\n", file=sys.stderr, flush=True)

    try:
        result = train(RunConfig(Path(args.project), args.workflow, resume=args.resume, max_steps=args.max_steps),
                       on_progress)
    except TrainingError as exc:
        raise CommandError(str(exc)) from None
    if not first:
        return 0
    done = {"run": result.run_name, "status": result.status, "steps": result.steps, "summary": result.summary}
    emit(done, as_json=False, text=json.dumps({"event": "result", **done}) if as_json else
         f"run {result.run_name} {result.status} after {result.steps} steps; best "
         f"{result.summary.get('best_checkpoint')} (val loss {result.summary.get('best_val_loss')})")
    return 0


def _workflow(folder: str, name: str, *, locked_ok: bool = False):
    """The settings of the project's workflow ``name``; the ``default`` one is created when missing, as the Train
    page creates it on first open (the project is opened for writing only then). ``locked_ok``: while another
    program writes to the project, the default's settings without saving them."""
    from studio.dataset.lock import ProjectLockedError
    from studio.dataset.store import Project
    from studio.training.config import default_workflow
    from studio.training.workflows import DEFAULT_MODEL, DEFAULT_NAME, ensure_default_workflow, get_workflow

    with Project.open(folder, read_only=True) as project:
        try:
            return get_workflow(project, name).config
        except KeyError:
            if name != DEFAULT_NAME:
                raise
    try:
        with Project.open(folder) as project:
            config = ensure_default_workflow(project).config
    except ProjectLockedError:
        if not locked_ok:
            raise
        return default_workflow(DEFAULT_MODEL)
    print(f"created the workflow {DEFAULT_NAME!r} ({config.model_id}, {config.mode}); change it with "
          f"`vlm-studio workflows {folder} --edit {DEFAULT_NAME} --set KEY=VALUE`", file=sys.stderr)
    return config


def _check(args: argparse.Namespace) -> int:
    """The pre-flight report of a workflow against the project's data; writes nothing but a missing default
    workflow."""
    from studio.cli.output import progress_printer
    from studio.training.preflight import check_project_data

    config = _workflow(args.project, args.workflow, locked_ok=True)
    report = check_project_data(Path(args.project), config, progress=progress_printer(args.json, "check"))
    f = report.facts
    lines = [f"{'ready' if report.ok else 'not ready'}: workflow {args.workflow}, {config.model_id}, {config.mode}"]
    if "train_samples" in f:
        lines.append(f"  {f['train_samples']:,} training and {f['val_samples']:,} validation samples; the longest "
                     f"{f.get('train_longest_tokens', 0):,} tokens (limit {config.max_seq_len:,}), its answer "
                     f"{f.get('longest_answer_tokens', 0):,}")
    if "memory_estimate_bytes" in f:
        lines.append(f"  memory estimate {f['memory_estimate_bytes'] / 2**30:.2f} GiB peak")
    lines += [f"  ! {w}" for w in report.warnings] + [f"  ✗ {e}" for e in report.errors]
    emit({"workflow": args.workflow, "ok": report.ok, "errors": report.errors, "warnings": report.warnings,
          "facts": f}, as_json=args.json, text="\n".join(lines))
    return 0 if report.ok else 2


def _train_config(args: argparse.Namespace):
    """The workflow config ``train`` runs: the resumed run's, else the named workflow's (the default one created
    when missing, as `train` would)."""
    from studio.dataset.store import Project
    from studio.training.config import WorkflowConfig
    from studio.training.runs import find_run

    if args.resume:
        with Project.open(args.project, read_only=True) as project:
            return WorkflowConfig.from_dict(find_run(project, args.resume).config["workflow_config"])
    return _workflow(args.project, args.workflow, locked_ok=True)


def _runs(args: argparse.Namespace) -> int:
    from studio.dataset.store import Project
    from studio.training.runs import LOG_FILE, find_run, list_runs, read_log

    with Project.open(args.project, read_only=True) as project:
        if args.log:
            log = read_log(find_run(project, args.log))
            emit({"name": args.log, "log": log}, as_json=args.json, text=log.rstrip("\n") or "no log")
            return 0
        found = list_runs(project)
    data = [{"name": r.name, "workflow": r.workflow_name, "status": r.status, "folder": str(r.folder),
             "log_file": str(r.folder / LOG_FILE),
             "model_id": r.config.get("model_id"), "mode": r.config.get("mode"), "summary": r.summary,
             "last_metrics": r.metrics_last, "created_at": r.created_at, "finished_at": r.finished_at}
            for r in found]
    lines = [f"{r.name}: {r.status}, workflow {r.workflow_name or '-'}, step {r.summary.get('steps', 0)}, "
             f"loss {r.metrics_last.get('loss', float('nan')):.4f}, val loss "
             f"{r.metrics_last.get('val_loss', float('nan')):.4f}" for r in found]
    emit(data, as_json=args.json, text="\n".join(lines) or "no runs yet")
    return 0


def _launch(args: argparse.Namespace) -> int:
    from studio.training.launch import write_launch

    backend = args.deepspeed or ("fsdp" if args.fsdp else "ddp")
    config = _workflow(args.project, args.workflow)
    folder = Path(args.project).expanduser().resolve() / "launch"
    precision = config.precision if config.precision != "auto" else "bf16"
    path, command = write_launch(folder, Path(args.project).resolve(), args.workflow, args.gpus, args.nodes,
                                 backend, precision)
    note = {"zero2": "DeepSpeed is not needed: PyTorch FSDP2 shards gradients and optimizer state (ZeRO-2)",
            "zero3": "DeepSpeed is not needed: PyTorch FSDP2 shards parameters, gradients and optimizer state "
                     "(ZeRO-3)"}.get(backend, "")
    emit({"config": str(path), "command": command, "note": note}, as_json=args.json,
         text=f"wrote {path}\n{command}" + (f"\n{note}" if note else ""))
    return 0

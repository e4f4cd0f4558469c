"""``--trust-remote-code``: the commands that load a model record the user's consent to run its own code first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TRUST_HELP = ("run the Python code this model's checkpoint ships (models that need it, e.g. NVILA): records your "
              "consent for this model and this revision of its folder; without it such models are refused")


def trust_model(args: argparse.Namespace, model_id: str, folder: str | Path | None = None) -> None:
    """With ``--trust-remote-code``: trust ``model_id``'s code in ``folder`` (its usual folder when None)."""
    if not args.trust_remote_code:
        return
    from studio.adapters import get_adapter

    _said(get_adapter(model_id).trust_code(folder), model_id)


def trust_run(args: argparse.Namespace, project, run: str | int, checkpoint: str = "best") -> None:
    """With ``--trust-remote-code``: trust the code of the model a run's checkpoint loads."""
    if not args.trust_remote_code:
        return
    from studio.inference.loading import trust_checkpoint_code
    from studio.training.runs import find_run

    model_id, code = trust_checkpoint_code(find_run(project, run).checkpoint(checkpoint))
    _said(code, model_id)


def _said(code, model_id: str) -> None:
    if code is None:
        print(f"note: {model_id} runs no code of its own; --trust-remote-code changes nothing", file=sys.stderr)
    else:
        print(f"trusted the code of {model_id}: {code.describe()} (revision {code.revision[:19]})", file=sys.stderr)

"""Reading training runs from the project store (runs table and run folders, see the training contract) and
recording evaluation results in a run's summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.dataset.store import Project

CHECKPOINTS_DIR = "checkpoints"


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    status: str
    folder: Path
    config: dict[str, Any]
    summary: dict[str, Any]

    def checkpoints(self) -> list[Path]:
        """Checkpoint folders, oldest step first."""
        root = self.folder / CHECKPOINTS_DIR
        return sorted(p for p in root.glob("step-*") if p.is_dir()) if root.is_dir() else []

    def checkpoint(self, which: str = "best") -> Path:
        """``best``, ``last``, a ``step-…`` folder name, or a path relative to the run folder."""
        if which in ("best", "last"):
            chosen = self.summary.get(f"{which}_checkpoint") or self.summary.get("last_checkpoint")
            if chosen:
                path = self.folder / chosen
            else:
                found = self.checkpoints()
                if not found:
                    raise ValueError(f"run {self.name!r} has no checkpoint yet ({self.folder / CHECKPOINTS_DIR})")
                path = found[-1]
        else:
            path = self.folder / which
            if not path.exists():
                path = self.folder / CHECKPOINTS_DIR / which
        if not (path / "vlm_studio.json").is_file():
            raise ValueError(f"{path}: not a VLM Studio checkpoint (no vlm_studio.json)")
        return path


def _run(project: Project, row: tuple) -> Run:
    run_id, name, status, folder, config, summary = row
    path = Path(folder)
    if not path.is_absolute():
        path = project.folder / path
    return Run(run_id, name, status, path, json.loads(config or "{}"), json.loads(summary or "{}"))


_COLUMNS = "id, name, status, folder, config, summary"


def list_runs(project: Project) -> list[Run]:
    return [_run(project, row) for row in project.conn.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY id")]


def find_run(project: Project, name_or_id: str | int) -> Run:
    """The run named ``name_or_id`` (or with that id); `ValueError` listing the runs there are otherwise."""
    row = project.conn.execute(
        f"SELECT {_COLUMNS} FROM runs WHERE name = ? OR CAST(id AS TEXT) = ?", (str(name_or_id), str(name_or_id))
    ).fetchone()
    if row is None:
        names = ", ".join(r.name for r in list_runs(project)) or "none yet"
        raise ValueError(f"{project.folder}: no run {name_or_id!r} (runs: {names})")
    return _run(project, row)


def record_evaluation(project: Project, run_id: int, key: str, result: dict[str, Any]) -> None:
    """Store ``result`` under ``summary["evaluation"][key]`` of the run, in one transaction."""
    with project.transaction({"runs"}) as conn:
        raw = conn.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()
        if raw is None:
            raise ValueError(f"no run with id {run_id}")
        summary = json.loads(raw[0] or "{}")
        summary.setdefault("evaluation", {})[key] = result
        conn.execute("UPDATE runs SET summary = ? WHERE id = ?", (json.dumps(summary), run_id))

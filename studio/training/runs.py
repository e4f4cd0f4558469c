"""Run records: the store's ``runs`` and ``run_metrics`` tables and the run folder
(``<project>/runs/<name>/run.json``, checkpoints under ``checkpoints/step-…``, the log ``train.log``), written
by training and read by the playground, evaluation and export; evaluations are kept in the run's summary."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.dataset.store import Project

RUNS_DIR = "runs"
CHECKPOINTS_DIR = "checkpoints"
LOG_FILE = "train.log"  # the run's log lines (what the Train page's log showed), in the run folder
STATUSES = ("created", "running", "stopped", "finished", "failed")


@dataclass(frozen=True)
class Run:
    id: int
    workflow_id: int | None
    name: str
    status: str
    folder: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    created_at: float
    finished_at: float | None
    workflow_name: str = ""
    metrics_last: dict[str, float] = field(default_factory=dict)

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

    def best_checkpoint(self) -> Path | None:
        """The best checkpoint folder, or None while the run has none (or it is gone)."""
        try:
            return self.checkpoint("best")
        except (ValueError, OSError):
            return None


def append_log(run: Run, lines: list[str]) -> None:
    """Add ``lines`` to the run's log file."""
    with open(run.folder / LOG_FILE, "a", encoding="utf-8") as log:
        log.writelines(line + "\n" for line in lines)


def read_log(run: Run) -> str:
    """The run's log ('' for runs without one)."""
    path = run.folder / LOG_FILE
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def new_run_name(project: Project, workflow: str) -> str:
    """``<workflow>-<n>``, the first n not used yet (names are folder names, so they are kept simple)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", workflow).strip("-") or "run"
    taken = {row[0] for row in project.conn.execute("SELECT name FROM runs")}
    n = 1
    while f"{stem}-{n}" in taken or (project.folder / RUNS_DIR / f"{stem}-{n}").exists():
        n += 1
    return f"{stem}-{n}"


def create_run(project: Project, name: str, workflow_id: int | None, config: dict[str, Any]) -> Run:
    folder = project.folder / RUNS_DIR / name
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "run.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    with project.transaction({"runs"}) as conn:
        conn.execute(
            "INSERT INTO runs (workflow_id, name, status, folder, config) VALUES (?, ?, 'created', ?, ?)",
            (workflow_id, name, str(folder), json.dumps(config)),
        )
    return find_run(project, name)


def find_run(project: Project, name_or_id: str | int) -> Run:
    """The run named ``name_or_id`` (or with that id); `ValueError` listing the runs there are otherwise."""
    row = project.conn.execute(
        _SELECT + " WHERE r.name = ? OR CAST(r.id AS TEXT) = ?", (str(name_or_id), str(name_or_id))
    ).fetchone()
    if row is None:
        names = ", ".join(r.name for r in list_runs(project)) or "none yet"
        raise ValueError(f"{project.folder}: no run {name_or_id!r} (runs: {names})")
    return _run(project, row)


def list_runs(project: Project) -> list[Run]:
    """Every run, newest first, with its last value of each metric."""
    return [_run(project, row) for row in project.conn.execute(_SELECT + " ORDER BY r.created_at DESC, r.id DESC")]


def set_status(project: Project, run: Run, status: str, summary: dict[str, Any] | None = None) -> None:
    """Set the run's status; ``summary`` keys replace the stored ones, others (an evaluation) are kept."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    finished = time.time() if status in ("stopped", "finished", "failed") else None
    with project.transaction({"runs"}) as conn:
        if summary is None:
            conn.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, finished, run.id))
        else:
            stored = json.loads(conn.execute("SELECT summary FROM runs WHERE id = ?", (run.id,)).fetchone()[0] or "{}")
            conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                (status, finished, json.dumps({**stored, **summary}), run.id),
            )


def record_evaluation(project: Project, run_id: int, key: str, result: dict[str, Any]) -> None:
    """Store ``result`` under ``summary["evaluation"][key]`` of the run, in one transaction."""
    with project.transaction({"runs"}) as conn:
        raw = conn.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()
        if raw is None:
            raise ValueError(f"no run with id {run_id}")
        summary = json.loads(raw[0] or "{}")
        summary.setdefault("evaluation", {})[key] = result
        conn.execute("UPDATE runs SET summary = ? WHERE id = ?", (json.dumps(summary), run_id))


def add_metrics(project: Project, run: Run, rows: list[tuple[int, str, float]]) -> None:
    """Store (step, name, value) rows; a repeated (step, name) (after a resume) replaces the old value."""
    if not rows:
        return
    with project.transaction({"run_metrics"}) as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO run_metrics (run_id, step, name, value) VALUES (?, ?, ?, ?)",
            [(run.id, step, name, float(value)) for step, name, value in rows],
        )


def metrics(project: Project, run: Run, name: str | None = None) -> dict[str, list[tuple[int, float]]]:
    """Each metric's (step, value) series, in step order."""
    sql = "SELECT name, step, value FROM run_metrics WHERE run_id = ?"
    params: tuple[Any, ...] = (run.id,)
    if name is not None:
        sql += " AND name = ?"
        params += (name,)
    series: dict[str, list[tuple[int, float]]] = {}
    for metric, step, value in project.conn.execute(sql + " ORDER BY name, step", params):
        series.setdefault(metric, []).append((step, value))
    return series


def mark_interrupted(project: Project) -> list[str]:
    """Runs left ``running`` by a crashed or killed process become ``stopped`` (they can be resumed from
    their last checkpoint). Returns their names."""
    names = [row[0] for row in project.conn.execute("SELECT name FROM runs WHERE status = 'running'")]
    if names and not project.read_only:
        with project.transaction({"runs"}) as conn:
            conn.execute("UPDATE runs SET status = 'stopped' WHERE status = 'running'")
    return names


_SELECT = (
    "SELECT r.id, r.workflow_id, r.name, r.status, r.folder, r.config, r.summary, r.created_at, r.finished_at, "
    "coalesce(w.name, '') FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id"
)


def _run(project: Project, row) -> Run:
    rid, wid, name, status, folder, config, summary, created, finished, workflow = row
    last = dict(
        project.conn.execute(
            "SELECT m.name, m.value FROM run_metrics m JOIN (SELECT name, max(step) AS step FROM run_metrics "
            "WHERE run_id = ? GROUP BY name) x ON x.name = m.name AND x.step = m.step WHERE m.run_id = ?",
            (rid, rid),
        ).fetchall()
    )
    path = Path(folder)
    if not path.is_absolute():
        path = project.folder / path
    return Run(rid, wid, name, status, path, json.loads(config), json.loads(summary or "{}"), created, finished,
               workflow, last)

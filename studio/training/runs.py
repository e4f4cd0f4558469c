"""Run records: the store's ``runs`` and ``run_metrics`` tables and the run folder
(``<project>/runs/<name>/run.json``; see RUNS.md for the contract with inference and export)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.dataset.store import Project

RUNS_DIR = "runs"
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
    return get_run(project, name)


def get_run(project: Project, name: str) -> Run:
    row = project.conn.execute(_SELECT + " WHERE r.name = ?", (name,)).fetchone()
    if row is None:
        names = ", ".join(r.name for r in list_runs(project)) or "none"
        raise KeyError(f"no run named {name!r} in {project.folder} (runs: {names})")
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
    return Run(rid, wid, name, status, Path(folder), json.loads(config), json.loads(summary), created, finished,
               workflow, last)

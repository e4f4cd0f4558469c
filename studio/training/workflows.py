"""Saved, named workflows of a project (the store's ``workflows`` table)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from studio.dataset.store import Project
from studio.training.config import WorkflowConfig, default_workflow

DEFAULT_NAME = "default"
DEFAULT_MODEL = "tiny"  # the model of a project's default workflow


@dataclass(frozen=True)
class Workflow:
    id: int
    name: str
    config: WorkflowConfig
    created_at: float
    updated_at: float


def list_workflows(project: Project) -> list[Workflow]:
    rows = project.conn.execute(
        "SELECT id, name, model_id, config, created_at, updated_at FROM workflows ORDER BY name"
    ).fetchall()
    return [_workflow(row) for row in rows]


def get_workflow(project: Project, name: str) -> Workflow:
    """The workflow ``name``; a `KeyError` naming the saved ones when there is none."""
    row = project.conn.execute(
        "SELECT id, name, model_id, config, created_at, updated_at FROM workflows WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        names = ", ".join(w.name for w in list_workflows(project)) or "none"
        raise KeyError(f"no workflow named {name!r} in {project.folder} (saved: {names})")
    return _workflow(row)


def save_workflow(project: Project, name: str, config: WorkflowConfig) -> Workflow:
    """Create or replace the workflow ``name`` after validating ``config``."""
    name = name.strip()
    if not name:
        raise ValueError("a workflow needs a name")
    config.validate()
    with project.transaction({"workflows"}) as conn:
        conn.execute(
            "INSERT INTO workflows (name, model_id, config) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "model_id = excluded.model_id, config = excluded.config, "
            "updated_at = (julianday('now') - 2440587.5) * 86400.0",
            (name, config.model_id, json.dumps(config.to_dict())),
        )
    return get_workflow(project, name)


def delete_workflow(project: Project, name: str) -> None:
    get_workflow(project, name)
    with project.transaction({"workflows"}) as conn:
        conn.execute("DELETE FROM workflows WHERE name = ?", (name,))


def ensure_default_workflow(project: Project, model_id: str = DEFAULT_MODEL) -> Workflow:
    """The project's ``default`` workflow, created from `default_workflow` when missing."""
    try:
        return get_workflow(project, DEFAULT_NAME)
    except KeyError:
        return save_workflow(project, DEFAULT_NAME, default_workflow(model_id))


def _workflow(row) -> Workflow:
    wid, name, model_id, config, created, updated = row
    try:
        data = json.loads(config)
        data.setdefault("model_id", model_id)
        parsed = WorkflowConfig.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"workflow {name!r}: stored settings are unreadable ({exc})") from None
    return Workflow(wid, name, parsed, created, updated)

"""Every committed edit survives a power cut or OS crash, not only a killed process (issue 17.5)."""

from __future__ import annotations

from studio.dataset.store import Project

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL


def test_the_writing_connection_syncs_every_commit(tmp_path):
    with Project.create(tmp_path / "p") as project:
        assert project.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert project.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
    with Project.open(tmp_path / "p") as project:
        assert project.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL

"""An atomic replace leaves the old file whole when the writer fails, and the new one whole when it succeeds."""

from __future__ import annotations

import pytest

from studio.files import replaced_atomically


def test_the_new_file_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "sub" / "data.json"
    with replaced_atomically(target, durable=True) as partial:
        partial.write_text("new")
        assert partial.parent == target.parent and not target.exists()
    assert target.read_text() == "new" and list(target.parent.iterdir()) == [target]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "data.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), replaced_atomically(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]

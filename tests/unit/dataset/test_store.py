"""The project store: schema, edits, notifications, locking, migrations."""

from __future__ import annotations

import sqlite3

import pytest

from studio.dataset import changes as kind
from studio.dataset import schema
from studio.dataset.store import Change, NewImage, Project, ProjectError


def _image(project: Project, name: str = "a.png", size=(100, 80)) -> int:
    return project.add_images([NewImage(f"/data/{name}", *size)])[0]


def test_new_project_is_wal_with_foreign_keys_and_current_schema(project):
    assert project.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert project.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema.version(project.conn) == schema.SCHEMA_VERSION
    tables = set(project.db.table_names())
    assert {"images", "labels", "boxes", "captions", "phrases", "phrase_boxes", "vqa", "workflows", "runs",
            "run_metrics", "predictions"} <= tables


def test_create_refuses_an_existing_project(project):
    with pytest.raises(ProjectError, match="already holds"):
        Project.create(project.folder)


def test_open_refuses_a_folder_without_project(tmp_path):
    with pytest.raises(ProjectError, match="not a VLM Studio project"):
        Project.open(tmp_path)


def test_images_are_unique_by_path(project):
    first = project.add_images([NewImage("/x/a.png", 10, 10), NewImage("/x/b.png", 10, 10)])
    again = project.add_images([NewImage("/x/a.png", 10, 10)])
    assert len(first) == 2 and again == []
    assert project.image_count() == 2


def test_boxes_are_normalised_and_updated(project):
    image_id = _image(project)
    label = project.ensure_label("cat")
    box_id = project.add_box(image_id, label.id, 50.5, 40.25, 10.0, 5.0)
    box = project.box(box_id)
    assert box.xyxy == (10.0, 5.0, 50.5, 40.25)
    moved = project.update_box(box_id, x1=60.0)
    assert moved.xyxy == (50.5, 5.0, 60.0, 40.25)
    with pytest.raises(ValueError, match="no field"):
        project.update_box(box_id, colour="red")


def test_deleting_a_box_unlinks_its_phrases(project):
    image_id = _image(project)
    a = project.add_box(image_id, None, 0, 0, 10, 10)
    b = project.add_box(image_id, None, 20, 20, 30, 30)
    project.set_caption(image_id, "two cats")
    phrase = project.add_phrase(image_id, 0, 8, [a, b])
    project.delete_boxes([a])
    assert project.phrases(image_id)[0].box_ids == (b,)
    assert project.phrases(image_id)[0].id == phrase


def test_caption_edits_shift_phrase_spans_and_remove_deleted_ones(project):
    image_id = _image(project)
    project.set_caption(image_id, "a red circle left of a blue square")
    circle = project.add_phrase(image_id, 0, 12)
    square = project.add_phrase(image_id, 21, 34)
    removed = project.set_caption(image_id, "Look: a red circle above a blue square")
    assert removed == []
    texts = {p.id: p.text for p in project.phrases(image_id)}
    assert texts == {circle: "a red circle", square: "a blue square"}
    removed = project.set_caption(image_id, "Look: a blue square")
    assert [p.id for p in removed] == [circle]
    assert [p.text for p in project.phrases(image_id)] == ["a blue square"]


def test_phrase_outside_caption_is_refused(project):
    image_id = _image(project)
    project.set_caption(image_id, "short")
    with pytest.raises(ValueError, match="outside the caption"):
        project.add_phrase(image_id, 2, 10)


def test_vqa_pairs_keep_their_order(project):
    image_id = _image(project)
    q1 = project.add_vqa(image_id, "one?", "1")
    q2 = project.add_vqa(image_id, "two?", "2")
    q0 = project.add_vqa(image_id, "zero?", "0", position=0)
    assert [p.id for p in project.vqa(image_id)] == [q0, q1, q2]
    project.move_vqa(q0, 2)
    assert [p.id for p in project.vqa(image_id)] == [q1, q2, q0]
    project.delete_vqa(q1)
    assert [(p.id, p.position) for p in project.vqa(image_id)] == [(q2, 0), (q0, 1)]
    project.update_vqa(q2, answer="two")
    assert project.vqa(image_id)[0].answer == "two"


def test_labels_rename_onto_existing_name_merges(project):
    image_id = _image(project)
    cat, kitty = project.ensure_label("cat"), project.ensure_label("kitty")
    assert cat.color != kitty.color
    project.add_box(image_id, kitty.id, 0, 0, 1, 1)
    merged = project.rename_label(kitty.id, "cat")
    assert merged.id == cat.id
    assert [label.name for label in project.labels()] == ["cat"]
    assert project.boxes(image_id)[0].label_id == cat.id


def test_status_and_split_validation(project):
    image_id = _image(project)
    project.set_status(image_id, "done")
    project.set_split([image_id], "val", pinned=True)
    image = project.image(image_id)
    assert (image.status, image.split, image.split_pinned) == ("done", "val", True)
    with pytest.raises(ValueError, match="unknown status"):
        project.set_status(image_id, "finished")
    with pytest.raises(ValueError, match="unknown split"):
        project.set_split([image_id], "holdout")


def test_subscribers_hear_each_commit_once_and_not_rollbacks(project):
    heard = []
    unsubscribe = project.subscribe(heard.append)
    image_id = _image(project)
    with project.transaction({"boxes"}, {image_id}):
        project.add_box(image_id, None, 0, 0, 1, 1)
        project.add_box(image_id, None, 0, 0, 2, 2)
    assert len(heard) == 2
    assert heard[1].image_ids == {image_id} and "boxes" in heard[1].tables
    with pytest.raises(RuntimeError), project.transaction():
        project.add_box(image_id, None, 0, 0, 3, 3)
        raise RuntimeError("abort")
    assert len(heard) == 2
    assert len(project.boxes(image_id)) == 2
    unsubscribe()
    project.set_status(image_id, "done")
    assert len(heard) == 2


def test_a_listener_that_raises_is_logged_and_cannot_fail_the_commit(project, caplog):
    image_id = _image(project)
    heard = []

    def broken(change):
        raise ValueError("listener bug")

    project.subscribe(broken)
    project.subscribe(heard.append)
    with caplog.at_level("ERROR", logger="studio.dataset.store"):
        box_id = project.add_box(image_id, None, 0, 0, 5, 5)  # returns normally
    assert [box.id for box in project.boxes(image_id)] == [box_id]
    assert project.conn.in_transaction is False
    assert len(heard) == 1 and "boxes" in heard[0].tables
    (record,) = caplog.records
    assert "broken" in record.getMessage() and record.exc_info[0] is ValueError


def test_listeners_run_after_the_transaction_so_they_may_edit(project):
    image_id = _image(project)
    seen = []

    def mark_done(change):
        seen.append(project.conn.in_transaction)
        if "boxes" in change.tables:
            project.set_status(image_id, "done")  # a transaction of its own, committed and announced

    project.subscribe(mark_done)
    project.add_box(image_id, None, 0, 0, 5, 5)
    assert seen == [False, False]
    assert project.image(image_id).status == "done"


def test_commits_of_another_connection_are_published_once_as_a_reload(project):
    heard = []
    project.subscribe(heard.append)
    image_id = _image(project)
    assert project.publish_external_changes() is False  # the connection's own commits are announced already
    heard.clear()
    with sqlite3.connect(project.folder / "project.vlmstudio.sqlite") as raw:  # as another process would
        raw.execute("INSERT INTO boxes (image_id, x1, y1, x2, y2) VALUES (?, 0, 0, 7, 7)", (image_id,))
    assert project.publish_external_changes() is True
    assert project.publish_external_changes() is False
    (change,) = heard
    assert change.image_ids == frozenset() and {"images", "boxes", "labels", "runs"} <= change.tables
    assert change.is_reload


def test_commits_of_a_worker_connection_are_published_as_they_were_made(project):
    heard = []
    project.subscribe(heard.append)
    image_id = _image(project)
    project.publish_external_changes()  # starts watching
    heard.clear()
    with project.reopen() as worker:
        box_id = worker.add_box(image_id, None, 0, 0, 5, 5)
        worker.set_status(image_id, "done")
        worker.set_status(image_id, "done")  # the same change again: heard once
    assert project.publish_external_changes() is True
    assert heard == [
        Change(frozenset({"boxes"}), frozenset({image_id}), frozenset({kind.BOXES_ADDED}), frozenset({box_id})),
        Change(frozenset({"images"}), frozenset({image_id}), frozenset({kind.STATUS_CHANGED})),
    ]
    assert project.publish_external_changes() is False


def test_changes_say_what_kind_of_edit_and_how_label_counts_moved(project):
    image_id = _image(project)
    red, blue = project.ensure_label("red"), project.ensure_label("blue")
    heard = []
    project.subscribe(heard.append)
    box_id = project.add_box(image_id, red.id, 0, 0, 5, 5)
    project.update_box(box_id, x2=9)
    project.update_box(box_id, label_id=blue.id)
    project.delete_boxes([box_id])
    ids = project.add_images([NewImage("/x/new.png", 4, 4)])
    assert [(c.kinds, c.box_ids, c.label_deltas) for c in heard[:4]] == [
        ({kind.BOXES_ADDED}, {box_id}, ((red.id, 1),)),
        ({kind.BOXES_MOVED}, {box_id}, ()),
        ({kind.BOXES_RELABELLED}, {box_id}, ((red.id, -1), (blue.id, 1))),
        ({kind.BOXES_DELETED}, {box_id}, ((blue.id, -1),)),
    ]
    assert heard[4].kinds == {kind.IMAGES_ADDED} and heard[4].image_ids == set(ids)
    project.add_box(image_id, red.id, 0, 0, 5, 5)
    project.add_box(ids[0], red.id, 0, 0, 2, 2)
    project.merge_labels([red.id], blue.id)
    assert (heard[-1].kinds, heard[-1].image_ids, heard[-1].label_deltas) == (
        {kind.LABELS_MERGED}, frozenset(), ((red.id, -2), (blue.id, 2)))


def test_a_grouping_transaction_keeps_the_kinds_of_its_blocks_and_an_untyped_block_drops_them(project):
    image_id = _image(project)
    label = project.ensure_label("red")
    heard = []
    project.subscribe(heard.append)
    with project.transaction():
        project.add_box(image_id, label.id, 0, 0, 5, 5)
        project.add_box(image_id, label.id, 1, 1, 5, 5)
    with project.transaction({"boxes"}):
        project.add_box(image_id, label.id, 2, 2, 5, 5)
    assert heard[0].kinds == {kind.BOXES_ADDED} and heard[0].label_deltas == ((label.id, 2),)
    assert heard[1].kinds == frozenset() and heard[1].label_deltas == ()


def test_relink_moves_paths_under_a_folder(project):
    project.add_images([NewImage("/old/place/a.png", 1, 1), NewImage("/old/placebo/b.png", 1, 1)])
    assert project.relink("/old/place", "/new/home") == 1
    assert sorted(i.path for i in project.images()) == ["/new/home/a.png", "/old/placebo/b.png"]


def test_relink_uses_the_systems_separator(project, monkeypatch):
    project.add_images([NewImage("C:\\old\\place\\a.png", 1, 1), NewImage("C:\\old\\placebo\\b.png", 1, 1)])
    monkeypatch.setattr("os.sep", "\\")  # as on Windows, where resolved paths hold backslashes
    assert project.relink("C:\\old\\place\\", "D:\\new") == 1
    assert sorted(i.path for i in project.images()) == ["C:\\old\\placebo\\b.png", "D:\\new\\a.png"]


def test_second_writer_in_another_process_is_refused(project, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from studio.dataset.store import Project\n"
        "try:\n    Project.open(sys.argv[1])\nexcept Exception as e:\n    print(type(e).__name__, e); sys.exit(3)\n"
        "p = Project.open(sys.argv[1], read_only=True); print('read-only', p.image_count())\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(project.folder)], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert "ProjectLockedError" in result.stdout and "already open" in result.stdout
    code_ro = "import sys; from studio.dataset.store import Project\np = Project.open(sys.argv[1], read_only=True)\n" \
              "print(p.image_count())\np.add_images([])"
    result = subprocess.run([sys.executable, "-c", code_ro, str(project.folder)], capture_output=True, text=True)
    assert result.stdout.strip() == "0"
    assert "read-only" in result.stderr


def test_same_process_may_open_a_second_connection(project):
    with project.reopen() as other:
        other.ensure_label("dog")
    assert [label.name for label in project.labels()] == ["dog"]


def test_lock_is_released_on_close(tmp_path):
    Project.create(tmp_path / "p").close()
    import subprocess
    import sys

    code = "import sys; from studio.dataset.store import Project\nProject.open(sys.argv[1]).close(); print('ok')"
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_newer_schema_is_refused(tmp_path):
    Project.create(tmp_path / "p").close()
    conn = sqlite3.connect(tmp_path / "p" / "project.vlmstudio.sqlite")
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(ProjectError, match="newer VLM Studio"):
        Project.open(tmp_path / "p")



def test_image_extent_counts_images_and_finds_the_largest_by_area(project):
    assert project.image_extent() == (0, 0, 0)
    _image(project, "wide.png", (400, 50))
    _image(project, "square.png", (150, 150))
    _image(project, "tall.png", (60, 300))
    assert project.image_extent() == (3, 150, 150)

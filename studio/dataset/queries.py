"""Read-only questions about a project that span images: filters, frequent questions, label use (pure SQL)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from studio.dataset.model import STATUSES
from studio.dataset.store import Project

# An image is annotated when it has a box, caption text or a VQA pair (SQL over ``images i``).
ANNOTATED = (
    "(EXISTS (SELECT 1 FROM boxes b WHERE b.image_id = i.id)"
    " OR EXISTS (SELECT 1 FROM captions c WHERE c.image_id = i.id AND c.text != '')"
    " OR EXISTS (SELECT 1 FROM vqa v WHERE v.image_id = i.id))"
)


@dataclass(frozen=True)
class ImageFilter:
    """Which images to show; empty fields do not filter."""

    unannotated: bool = False  # no box, no caption text, no VQA pair
    status: str = ""  # one of model.STATUSES
    label: str = ""  # has at least one box with this label name
    text: str = ""  # case-insensitive substring of the file path, the caption, a question or an answer

    @property
    def is_empty(self) -> bool:
        return not (self.unannotated or self.status or self.label or self.text.strip())


def filter_images(project: Project, image_filter: ImageFilter) -> list[int]:
    """The ids of the images that pass ``image_filter``, in import order."""
    where: list[str] = []
    params: list[object] = []
    if image_filter.unannotated:
        where.append("NOT " + ANNOTATED)
    if image_filter.status:
        if image_filter.status not in STATUSES:
            raise ValueError(f"unknown status {image_filter.status!r}; expected one of {', '.join(STATUSES)}")
        where.append("i.status = ?")
        params.append(image_filter.status)
    if image_filter.label:
        where.append(
            "EXISTS (SELECT 1 FROM boxes b JOIN labels l ON l.id = b.label_id WHERE b.image_id = i.id AND l.name = ?)"
        )
        params.append(image_filter.label)
    text = image_filter.text.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(i.path LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM captions c WHERE c.image_id = i.id AND c.text LIKE ? ESCAPE '\\')"
            " OR EXISTS (SELECT 1 FROM vqa v WHERE v.image_id = i.id"
            " AND (v.question LIKE ? ESCAPE '\\' OR v.answer LIKE ? ESCAPE '\\')))"
        )
        params += [pattern] * 4
    sql = "SELECT i.id FROM images i"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [row[0] for row in project.conn.execute(sql + " ORDER BY i.id", params)]


def unsplit_annotated(project: Project) -> list[int]:
    """The annotated images in no split, not pinned there: training and evaluation leave them out until a split
    deals them out (images pinned to no split were left out on purpose)."""
    sql = f"SELECT i.id FROM images i WHERE i.split = '' AND NOT i.split_pinned AND {ANNOTATED} ORDER BY i.id"
    return [row[0] for row in project.conn.execute(sql)]


def frequent_questions(project: Project, limit: int = 12) -> list[str]:
    """The project's most asked VQA questions, most frequent first (ties: alphabetical); read from the counts the
    schema's triggers keep, so it costs ``limit`` index rows whatever the project's size."""
    rows = project.conn.execute("SELECT question FROM question_counts ORDER BY n DESC, question LIMIT ?", (limit,))
    return [row[0] for row in rows]


def label_box_counts(
    project: Project, image_id: int | None = None, label_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """How many boxes each label has (labels without boxes are left out), in the whole project or on one image;
    only ``label_ids`` when given. Project totals come from the counts the schema's triggers keep: one row per
    label, whatever the number of boxes; an image's are counted from its own boxes (never through the label index,
    which holds the boxes of every image)."""
    wanted = None if label_ids is None else list(label_ids)
    if image_id is not None:
        counts = dict(
            project.conn.execute(
                "SELECT label_id, count(*) FROM boxes WHERE image_id = ? AND label_id IS NOT NULL GROUP BY label_id",
                (image_id,),
            ).fetchall()
        )
        return counts if wanted is None else {label_id: counts[label_id] for label_id in wanted if label_id in counts}
    if wanted is None:
        return dict(project.conn.execute("SELECT label_id, n FROM label_counts").fetchall())
    sql = f"SELECT label_id, n FROM label_counts WHERE label_id IN ({','.join('?' * len(wanted))})"
    return dict(project.conn.execute(sql, wanted).fetchall())


def box_ids_with_label(project: Project, label_id: int) -> list[int]:
    """Every box (on any image) that carries the label."""
    return [row[0] for row in project.conn.execute("SELECT id FROM boxes WHERE label_id = ? ORDER BY id", (label_id,))]

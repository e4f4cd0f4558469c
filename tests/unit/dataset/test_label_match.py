"""A model's box names a project label the way a person reads it: "A red  ball" is the label "red ball"."""

from __future__ import annotations

from studio.dataset.label_match import LabelIndex, label_key
from studio.dataset.predictions import NewSuggestion, accept, add_suggestions
from studio.dataset.store import NewImage


def test_names_match_without_case_spaces_or_a_leading_article(project):
    red = project.ensure_label("red ball")
    index = LabelIndex(project.labels())
    assert label_key("The  Red ball") == "red ball"
    assert index.label("A red  ball") == red and index.name_for("a red ball") == "red ball"
    assert index.label("blue ball") is None and index.name_for("blue ball") == "blue ball" and index.label("") is None


def test_accepted_suggestions_join_the_label_they_name(project, tmp_path):
    """`vlm-studio accept-suggestions` files boxes as the Playground's Add to annotations does."""
    (image_id,) = project.add_images([NewImage(str(tmp_path / "a.png"), 100, 80)])
    red = project.ensure_label("red ball")
    ids = add_suggestions(project, [NewSuggestion(image_id, "box", "a red ball", (1, 2, 30, 40)),
                                    NewSuggestion(image_id, "box", "a green block", (40, 2, 60, 40))])
    accept(project, ids)
    assert sorted(project.label(b.label_id).name for b in project.boxes(image_id)) == ["a green block", "red ball"]
    assert [label.name for label in project.labels()].count("red ball") == 1 and red.id in {
        b.label_id for b in project.boxes(image_id)}

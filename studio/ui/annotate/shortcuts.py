"""Every Annotate shortcut in one table: the workspace makes its actions from it, the help lists it.

``scope`` says where a shortcut works: "window" (anywhere in the window; text fields keep their own typing
keys), "canvas" (when the canvas has focus), "app" (in every mode, with or without a project: the main window owns
the action), "review" (while the Review queue dock is shown: the dock owns the action) or "gesture" (mouse and keys
handled by a widget, listed only).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    name: str
    keys: tuple[str, ...]  # QKeySequence portable strings, or words for gestures
    text: str
    section: str
    scope: str = "window"
    icon: str = ""


SHORTCUTS: tuple[Shortcut, ...] = (
    # Modes
    Shortcut("mode_annotate", ("Ctrl+1",), "Annotate", "Modes", "app"),
    Shortcut("mode_train", ("Ctrl+2",), "Train", "Modes", "app"),
    Shortcut("mode_playground", ("Ctrl+3",), "Playground", "Modes", "app"),
    Shortcut("mode_evaluate", ("Ctrl+4",), "Evaluate", "Modes", "app"),
    # Navigation and status
    Shortcut("next_image", ("D",), "Next image", "Navigation", icon="mdi6.chevron-right"),
    Shortcut("previous_image", ("A",), "Previous image", "Navigation", icon="mdi6.chevron-left"),
    Shortcut(
        "done_next",
        ("Ctrl+Return",),
        "Mark the image done and go to the next",
        "Navigation",
        icon="mdi6.check-circle-outline",
    ),
    Shortcut(
        "status_review",
        ("Ctrl+Shift+R",),
        "Mark the image for review",
        "Navigation",
        icon="mdi6.eye-check-outline",
    ),
    Shortcut("status_todo", ("Ctrl+Shift+T",), "Mark the image to do", "Navigation", icon="mdi6.circle-outline"),
    # Boxes
    Shortcut(
        "create_mode",
        ("W",),
        "Draw boxes (drag on the image; Esc to stop)",
        "Boxes",
        icon="mdi6.vector-square",
    ),
    Shortcut(
        "relabel",
        ("L",),
        "Change the label of the selected boxes",
        "Boxes",
        "canvas",
        icon="mdi6.tag-outline",
    ),
    Shortcut(
        "delete_boxes",
        ("Del", "Backspace"),
        "Delete the selected boxes",
        "Boxes",
        "canvas",
        icon="mdi6.delete-outline",
    ),
    Shortcut(
        "duplicate_boxes",
        ("Ctrl+D",),
        "Duplicate the selected boxes",
        "Boxes",
        "canvas",
        icon="mdi6.content-duplicate",
    ),
    Shortcut("copy_boxes", ("Ctrl+C",), "Copy the selected boxes", "Boxes", "canvas", icon="mdi6.content-copy"),
    Shortcut(
        "paste_boxes",
        ("Ctrl+V",),
        "Paste boxes (also onto another image)",
        "Boxes",
        "canvas",
        icon="mdi6.content-paste",
    ),
    Shortcut("select_all", ("Ctrl+A",), "Select all boxes", "Boxes", "canvas", icon="mdi6.select-all"),
    Shortcut(
        "nudge",
        ("Arrows", "Shift+Arrows"),
        "Nudge the selected boxes by 1 px (Shift: 10 px)",
        "Boxes",
        "gesture",
    ),
    Shortcut("move_resize", ("Drag", "Drag a handle"), "Move the selected boxes / resize a box", "Boxes", "gesture"),
    Shortcut(
        "select",
        ("Click", "Ctrl+Click", "Drag on empty"),
        "Select, add to selection, select by area",
        "Boxes",
        "gesture",
    ),
    Shortcut("escape", ("Esc",), "Cancel drawing, stop drawing, clear the selection", "Boxes", "gesture"),
    # View
    Shortcut("zoom_fit", ("F",), "Fit the image to the window", "View", "canvas", icon="mdi6.fit-to-screen-outline"),
    Shortcut("zoom_actual", ("1",), "Actual pixels (100 %)", "View", "canvas", icon="mdi6.numeric-1-box-outline"),
    Shortcut("zoom_in", ("Ctrl++", "="), "Zoom in", "View", "canvas", icon="mdi6.magnify-plus-outline"),
    Shortcut("zoom_out", ("Ctrl+-", "-"), "Zoom out", "View", "canvas", icon="mdi6.magnify-minus-outline"),
    Shortcut("zoom_wheel", ("Wheel",), "Zoom around the mouse", "View", "gesture"),
    Shortcut("pan", ("Middle-drag", "Space+Drag"), "Pan", "View", "gesture"),
    # Phrases
    Shortcut(
        "link_phrase",
        ("Ctrl+L",),
        "Link the selected caption words to the selected boxes",
        "Phrases",
        icon="mdi6.link-variant",
    ),
    Shortcut(
        "accept_suggestion",
        ("Ctrl+K",),
        "Accept the suggested link (a box's label is in the caption)",
        "Phrases",
        icon="mdi6.lightning-bolt-outline",
    ),
    Shortcut("drag_phrase", ("Drag a phrase onto a box",), "Link a phrase to that box", "Phrases", "gesture"),
    Shortcut(
        "focus_caption",
        ("C",),
        "Edit the caption (Esc goes back to the image)",
        "Phrases",
        "canvas",
        icon="mdi6.text-box-edit-outline",
    ),
    # VQA
    Shortcut("vqa_add", ("Enter in “Ask a question”",), "Add a question and edit its answer", "VQA", "gesture"),
    Shortcut(
        "focus_question",
        ("Q",),
        "Ask a question (Esc goes back to the image)",
        "VQA",
        "canvas",
        icon="mdi6.comment-question-outline",
    ),
    Shortcut("vqa_move", ("Alt+Up", "Alt+Down"), "Move the selected pair up / down", "VQA", "gesture"),
    Shortcut("vqa_delete", ("Del in the list",), "Delete the selected pair", "VQA", "gesture"),
    # Review queue
    Shortcut("review_show", ("Enter in the queue", "Double-click"), "Show the suspect on its image", "Review",
             "gesture"),
    Shortcut("review_accept", ("Y",), "Accept the model's fix (one undo step) and show the next suspect", "Review",
             "review", icon="mdi6.check"),
    Shortcut("review_dismiss", ("N",), "Dismiss the suspect (remembered) and show the next", "Review", "review",
             icon="mdi6.close"),
    Shortcut("review_next", ("S",), "Skip to the next suspect", "Review", "review", icon="mdi6.skip-next"),
    # Edit and help
    Shortcut("undo", ("Ctrl+Z",), "Undo (boxes, phrases, links, captions, VQA, labels, status)", "Edit", "gesture"),
    Shortcut("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", "Edit", "gesture"),
    Shortcut(
        "shortcuts_help",
        ("F1",),
        "Show this list of keyboard shortcuts",
        "Help",
        "app",
        icon="mdi6.keyboard-outline",
    ),
)


def shortcut(name: str) -> Shortcut:
    """The entry called ``name``."""
    return next(entry for entry in SHORTCUTS if entry.name == name)

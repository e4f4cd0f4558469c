"""The Annotate mode: canvas, label, caption (phrase grounding) and VQA panels, undo commands, shortcuts."""

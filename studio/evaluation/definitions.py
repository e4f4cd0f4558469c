"""What each evaluation metric means, in a sentence a person can read (the Evaluate page's column help)."""

from __future__ import annotations

METRIC_HELP: dict[str, str] = {
    "mean_phrase_iou": "Mean over true phrases of the IoU of their boxes with the boxes predicted for them, matched "
                       "one to one (a missed box counts 0; a phrase without true boxes scores 1 when nothing was "
                       "predicted for it, else 0).",
    "f1@0.5": "F1 of the predicted boxes at IoU 0.5: a box is right when it matches a true box of its phrase; a box "
              "whose label names no phrase is wrong.",
    "AP50": "COCO average precision at IoU 0.5, each phrase a category, answers ranked by the model's confidence; "
            "a box whose label names no phrase is a false detection of the phrase it overlaps most.",
    "mAP": "COCO average precision over IoU 0.50 to 0.95, defined as AP50.",
    "unparseable_rate": "Share of grounding answers from which no box could be read.",
    "exact_match": "Share of answers equal to the true answer, character for character (outer spaces aside).",
    "vqav2_match": "Share of answers equal to the true answer after the VQAv2 evaluation's normalisation: case, "
                   "punctuation (thousands commas dropped, decimal points kept), articles, number words, "
                   "contractions.",
    "anls": "Average normalised Levenshtein similarity (ST-VQA / DocVQA): 1 minus the edit distance over the longer "
            "answer's length, 0 below 0.5.",
    "token_f1": "F1 of the answer's words against the true answer's (SQuAD style).",
}

"""Find label mistakes: a trained run predicts on the project's images and every annotation gets a score for how
likely it is wrong (see ``scoring``), stored as a review queue (``items``) the window and ``vlm-studio review`` show."""

"""TEMPORARY STUB (branch review-ui): replaced by the real package from branch `review`."""

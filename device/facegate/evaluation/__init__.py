"""The evaluation harness: the figures in the README come from here."""

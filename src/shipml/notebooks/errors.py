"""Errors of the notebook tools; each message is one line for the user."""

from __future__ import annotations


class UnreadableNotebook(Exception):
    """A file that cannot be read as a Jupyter notebook of Python cells."""


class NotebookRunUnavailable(Exception):
    """`--run` cannot start: the optional packages or the kernel are missing."""

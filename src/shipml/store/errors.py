"""Errors the store raises, each with a one-line message naming the problem."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class RunNotFound(StoreError, LookupError):
    """No run has the given id."""


class AlertNotFound(StoreError, LookupError):
    """No alert has the given id."""

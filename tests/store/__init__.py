"""Tests of shipml.store (a package so that `tests/` is importable for `_postgres`)."""

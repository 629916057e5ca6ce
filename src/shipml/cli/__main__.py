"""`python -m shipml.cli`."""

from shipml.cli import app

app()

"""The shared logging setup of the CLI and the server."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from collections.abc import Iterator

import pytest

from shipml.logs import logging_config


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(logging_config(json_lines=True))
    yield
    root.handlers, root.level = saved[0], saved[1]


def test_log_lines_follow_stderr_when_it_is_swapped_and_closed(
    configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    logging.getLogger("shipml.test").info("during")
    line = json.loads(swapped.getvalue())
    assert (line["message"], line["level"], line["request_id"]) == ("during", "info", "-")

    swapped.close()  # as Typer's CliRunner does when its invoke ends
    after = io.StringIO()
    monkeypatch.setattr(sys, "stderr", after)
    logging.getLogger("shipml.test").warning("after")
    assert json.loads(after.getvalue())["message"] == "after"
    assert "Logging error" not in after.getvalue()

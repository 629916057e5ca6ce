"""Serve the toy project in DIRECTORY on PORT with its fitted model (no registry needed).

Run as a script: python tests/serving/_fitted_server.py DIRECTORY PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for _projects

from _projects import fitted_model
from shipml.logs import logging_config
from shipml.project.project import Project
from shipml.serving import create_app, server_options


def main(directory: Path, port: int) -> None:
    """Build the app and serve it until interrupted."""
    project = Project.load(directory)
    app = create_app(project, model=fitted_model(directory))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=logging_config(),
        access_log=False,
        # A client process starved of CPU on a busy machine can leave a connection idle past
        # uvicorn's 5 s keep-alive; a POST sent as the server closes it fails in transport.
        timeout_keep_alive=60,
        **server_options(project.settings.serving),  # as `shipml serve` does
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))

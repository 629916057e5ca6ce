"""Real-time inference: a FastAPI app built from a pipeline's online flow and its model."""

from shipml.errors import ServingError
from shipml.serving.app import PROJECT_VARIABLE, create_app, server_app
from shipml.serving.metrics import MULTIPROCESS_VARIABLE
from shipml.serving.model import check_model
from shipml.serving.server import server_options
from shipml.serving.workers import serve_in_workers

__all__ = [
    "MULTIPROCESS_VARIABLE",
    "PROJECT_VARIABLE",
    "ServingError",
    "check_model",
    "create_app",
    "serve_in_workers",
    "server_app",
    "server_options",
]

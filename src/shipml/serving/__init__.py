"""Real-time inference: a FastAPI app built from a pipeline's online flow and its model."""

from shipml.errors import ServingError
from shipml.serving.app import create_app
from shipml.serving.metrics import MULTIPROCESS_VARIABLE
from shipml.serving.registry import check_model
from shipml.serving.worker import PROJECT_VARIABLE, server_app

__all__ = [
    "MULTIPROCESS_VARIABLE",
    "PROJECT_VARIABLE",
    "ServingError",
    "check_model",
    "create_app",
    "server_app",
]

"""Real-time inference: a FastAPI app built from a pipeline's online flow and its model."""

from shipml.serving.app import create_app
from shipml.serving.errors import ServingError

__all__ = ["ServingError", "create_app"]

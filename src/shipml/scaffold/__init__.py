"""`shipml init`: scaffold a new project that trains, runs a window and passes its own tests."""

from shipml.scaffold.project import WINDOW, WINDOW_START, init_project

__all__ = ["WINDOW", "WINDOW_START", "init_project"]

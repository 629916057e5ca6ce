"""`shipml init`: scaffold a new project that trains, runs a window and passes its own tests."""

from shipml.scaffold.project import TASKS, WINDOW, WINDOW_START, ScaffoldTask, init_project

__all__ = ["TASKS", "WINDOW", "WINDOW_START", "ScaffoldTask", "init_project"]

"""`shipml init`: scaffold a new project that trains, runs a window and passes its own tests."""

from shipml.scaffold.project import (
    TASKS,
    WINDOW,
    WINDOW_START,
    ScaffoldTask,
    check_new_project,
    init_project,
    template_text,
    window_values,
)

__all__ = [
    "TASKS",
    "WINDOW",
    "WINDOW_START",
    "ScaffoldTask",
    "check_new_project",
    "init_project",
    "template_text",
    "window_values",
]

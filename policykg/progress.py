"""Build progress on stderr: a live bar with counts and ETA on a terminal, one line per stage in logs.

Why two forms: an analyst building a thousand plans at a terminal wants to see how far the parse
is (``parse 412/1000``) and when it will end; a log or a test reading stderr wants a few stable
lines (``policykg: parse a.txt``, one per stage), no escape codes and no redraws.

The build reports ``(stage, fraction)`` (:data:`policykg.build.Progress`); a reporter that also has a
``count(stage, done, total)`` method is told counts too (:func:`report_count`), so plain two-argument
callbacks (the app's progress bar, the tests' lambdas) keep working.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import Any

Report = Callable[[str, float], None]


def stage_key(stage: str) -> str:
    """One line (or bar) per stage: "parse a.txt", "parse b.txt" … are one stage."""
    return "parse" if stage.startswith("parse ") else stage


def report_count(report: Report, stage: str, done: int, total: int) -> None:
    """Report ``done`` of ``total`` items of a stage: the fraction to every reporter, the counts to
    one that takes them."""
    report(stage, done / max(1, total))
    count = getattr(report, "count", None)
    if count is not None:
        count(stage_key(stage), done, total)


class LinePrinter:
    """One line per stage (``policykg: parse a.txt``), for logs and pipes."""

    def __init__(self, stream: Any) -> None:
        self.out = stream
        self.last = ""

    def __call__(self, stage: str, fraction: float) -> None:
        if stage_key(stage) != self.last:
            self.out.write(f"policykg: {stage}\n")
            self.out.flush()
        self.last = stage_key(stage)


class BarPrinter:
    """A rich progress display: one bar per stage with its count (when told), elapsed time and ETA.

    Refreshed on each report, not by a thread, so nothing runs when the build does not report; the
    display is stopped at "done" and at exit (a failed build must not leave the cursor hidden).
    """

    def __init__(self, stream: Any) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskID,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
            TaskProgressColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=stream), auto_refresh=False, redirect_stdout=False, redirect_stderr=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.current = ""
        self.started = False

    def _task(self, key: str) -> Any:
        if not self.started:
            self.progress.start()
            atexit.register(self.stop)
            self.started = True
        if key != self.current and self.current in self.tasks:
            self.progress.update(self.tasks[self.current], completed=1.0)  # the previous stage is over
        self.current = key
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(key, total=1.0, count="")
        return self.tasks[key]

    def __call__(self, stage: str, fraction: float) -> None:
        if stage == "done":
            self.stop()
            return
        task = self._task(stage_key(stage))
        self.progress.update(task, completed=max(0.0, min(1.0, fraction)), description=stage)
        self.progress.refresh()

    def count(self, key: str, done: int, total: int) -> None:
        task = self._task(key)
        self.progress.update(task, count=f"{done}/{total}")
        self.progress.refresh()

    def stop(self) -> None:
        if self.started:
            if self.current in self.tasks:
                self.progress.update(self.tasks[self.current], completed=1.0)
            self.progress.refresh()
            self.progress.stop()
            self.started = False


def progress_printer(stream: Any = None) -> Report:
    """Progress on stderr: live bars on a terminal, one line per stage otherwise."""
    out = stream or sys.stderr
    return BarPrinter(out) if out.isatty() else LinePrinter(out)

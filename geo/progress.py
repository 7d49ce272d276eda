"""Progress of the long commands (demo load, risk compute, encroachment check, plan, import, backup) on a terminal:
a Rich spinner with the step and the time taken, on stderr; nothing at all when stderr is not a terminal."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner `title … 0:00:03` while the block runs; the callable it yields names the current step.

    Rich is imported only here, so `riskmap --help` stays fast; off a terminal (cron, pipes, tests) it is silent.
    """
    if not sys.stderr.isatty():
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(file=sys.stderr), transient=True,
                  redirect_stdout=sys.stdout.isatty(), redirect_stderr=False) as bar:
        task = bar.add_task(title, total=None)
        yield lambda step: bar.update(task, description=f"{title}：{step}")


def with_progress(title: str) -> Callable[[F], F]:
    """Runs a command handler inside progress(title)."""
    def wrap(handler: F) -> F:
        @functools.wraps(handler)
        def run(*args: Any, **kwargs: Any) -> Any:
            with progress(title):
                return handler(*args, **kwargs)
        return run  # type: ignore[return-value]
    return wrap

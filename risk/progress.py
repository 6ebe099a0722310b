"""Progress of long commands: phases shown as text, then counts that only go up.

A *sink* takes two calls: ``sink.phase(name)`` starts a phase (shown as its name alone, for
work whose size is unknown: loading, compiling on first use, writing a PDF) and
``sink(done, total)`` counts within it (``done`` of ``total`` draws or parameters; the
signature of the ``progress`` callback of :func:`risk.simulate`). :meth:`Sink.counter` gives
a callback that starts a phase at its first count, so that a phase shown as text ("preparing
(compiling on first use)") stays until the first chunk of draws is done. The library reports
to a sink; the command line shows one on the terminal with rich (:func:`shown`); tests
record one.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

__all__ = ["Sink", "start", "shown", "phase", "PREPARING"]

#: The first phase of a run: sampling, and numba compiling or loading its cache on first use.
PREPARING = "preparing (compiling on first use)"


class Sink:
    """Where progress goes; this one drops it (subclasses show or record it)."""

    def phase(self, name: str, unit: str = "draws") -> None:
        """Start the phase ``name`` (shown as text until counts of ``unit`` arrive)."""

    def __call__(self, done: int, total: int) -> None:
        """``done`` of ``total`` units of the current phase are finished."""

    def end(self) -> None:
        """Stop showing progress (before the command prints its results)."""

    def counter(self, name: str, unit: str = "draws") -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback that starts the phase ``name`` at its first count."""
        started = False

        def count(done: int, total: int) -> None:
            nonlocal started
            if not started:
                started = True
                self.phase(name, unit)
            self(done, total)

        return count


def phase(sink: Sink | None, name: str, unit: str = "draws") -> None:
    """``sink.phase(name, unit)``, for a sink that may be None."""
    if sink is not None:
        sink.phase(name, unit)


class _Rich(Sink):
    """A sink shown as one rich progress line: the phase, a bar, the counts and the time."""

    def __init__(self, bar):
        self.bar = bar
        self.task = bar.add_task("", total=None, unit="")

    def phase(self, name: str, unit: str = "draws") -> None:
        self.bar.update(self.task, description=name, total=None, completed=0, unit=unit)

    def __call__(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def end(self) -> None:
        self.bar.stop()


def start(console, enabled: bool) -> Sink:
    """A sink shown on ``console`` (a rich Console, stderr) from now until its :meth:`Sink.end`, if
    ``enabled``; else one that drops everything, so that commands report progress the same way
    whether or not it is shown. The line disappears when it ends (transient)."""
    if not enabled:
        return Sink()
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Counts(ProgressColumn):
        def render(self, task) -> Text:
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed):,}/{int(task.total):,} {task.fields.get('unit', '')}")

    import atexit

    bar = Progress(TextColumn("{task.description}"), BarColumn(), Counts(), TimeElapsedColumn(), console=console,
                   transient=True)
    bar.start()
    sink = _Rich(bar)
    atexit.register(sink.end)  # an interrupted command still gives the terminal its cursor back
    return sink


@contextlib.contextmanager
def shown(console, enabled: bool) -> Iterator[Sink]:
    """:func:`start` for the length of a ``with`` block."""
    sink = start(console, enabled)
    try:
        yield sink
    finally:
        sink.end()

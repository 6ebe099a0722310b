"""Errors raised on bad input, worded for the analyst who wrote it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError", "DataError", "OptionError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes
    ----------
    path : str
        Dotted key path of the offending entry ("" for the whole document).
    message : str
        What is wrong and what is allowed.
    value : object
        The offending value, if any.
    """

    path: str
    message: str
    value: object = None
    has_value: bool = False

    def render(self) -> str:
        where = self.path or "(top level)"
        got = f" (got {self.value!r})" if self.has_value else ""
        return f"{where}: {self.message}{got}"


class ScenarioError(ValueError):
    """A scenario that cannot be used: names the file, each key path, value and what is allowed."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = str(source)
        self.problems = list(problems)
        lines = [f"{self.source}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"]
        lines += [f"  - {p.render()}" for p in self.problems]
        super().__init__("\n".join(lines))


class DataError(ValueError):
    """A data file that is missing, malformed, or lacks a figure the model needs."""


class OptionError(ValueError):
    """A command-line option or argument that cannot be used: names it, the value and what is allowed."""

    def __init__(self, option: str, value, message: str):
        self.option, self.value = option, value
        super().__init__(f"{option}: {message} (got {value!r})")

"""The one error type for bad input, and the one helper that says where the input was."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn


class ModelError(ValueError):
    """A model file (or an API argument) that cannot be used as given.

    The message always reads ``FILE: FIELD = VALUE: PROBLEM. Fix: FIX`` so that a user can find
    and mend the line without reading a traceback. The CLI prints it and exits with status 2.
    """

    def __init__(self, problem: str, *, path=None, field: str | None = None,
                 value=None, fix: str | None = None):
        self.path = str(path) if path is not None else None
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<model>"
        if self.field:
            where += f": {self.field}"
            if self.value is not None:
                where += f" = {self.value!r}"
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text

    def located(self, path) -> "ModelError":
        """The same error, attributed to ``path`` when it had no file yet."""
        if self.path is not None:
            return self
        return ModelError(self.problem, path=path, field=self.field, value=self.value, fix=self.fix)


@dataclass(frozen=True)
class Location:
    """A place in a model file (``path`` and dotted ``field``) that errors are reported against.

    >>> Location("m.toml", "parameters.pue").fail("must be at least 1", "min", 0.9, "use min = 1")
    Traceback (most recent call last):
    simulate.errors.ModelError: m.toml: parameters.pue.min = 0.9: must be at least 1. Fix: use min = 1
    """

    path: object = None
    field: str | None = None

    def at(self, key: str) -> "Location":
        """The location of ``key`` inside this one (``parameters.pue`` -> ``parameters.pue.min``)."""
        return Location(self.path, f"{self.field}.{key}" if self.field else key)

    def fail(self, problem: str, key: str | None = None, value=None, fix: str | None = None) -> NoReturn:
        """Raise a :class:`ModelError` at this location (or at ``key`` inside it)."""
        field = self.at(key).field if key else self.field
        raise ModelError(problem, path=self.path, field=field, value=value, fix=fix)

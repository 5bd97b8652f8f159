"""The one error type for bad input, and the one helper that says where the input was."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

MAX_SHOWN_CHARS = 200   # a bad value is shown in a message up to this length, then cut


def shown_text(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` safe to print: control characters (ESC, newlines...) escaped, cut after ``limit``."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text[:limit + 1]))
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def shown_value(value, limit: int = MAX_SHOWN_CHARS) -> str:
    """``repr(value)`` for a message, cut after ``limit`` characters (its length said when cut)."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    try:
        text = repr(value)
    except (RecursionError, ValueError):   # nested too deep; an int too long to print
        return f"<a {type(value).__name__} too large to show>"
    return shown_text(text, limit) + (f" ({len(text):,} characters)" if len(text) > limit else "")


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
        parts = [shown_text(self.path, 1000) if self.path else ("" if self.is_argument else "<model>")]
        if self.field:
            parts.append(shown_text(self.field) + (f" = {shown_value(self.value)}" if self.value is not None else ""))
        parts.append(shown_text(self.problem, 2000))
        text = ": ".join(p for p in parts if p)
        if self.fix:
            text += f". Fix: {shown_text(self.fix, 2000)}"
        return text

    @property
    def is_argument(self) -> bool:
        """An error about a command-line option (``--out``...): its message names no model file."""
        return bool(self.field) and self.field.startswith("--")

    def located(self, path) -> "ModelError":
        """The same error, attributed to ``path`` when it had no file yet."""
        if self.path is not None or self.is_argument:
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

    def item(self, index: int) -> "Location":
        """The location of entry ``index`` of the list here (``weights`` -> ``weights[1]``)."""
        return Location(self.path, f"{self.field or ''}[{index}]")

    def fail(self, problem: str, key: str | None = None, value=None, fix: str | None = None) -> NoReturn:
        """Raise a :class:`ModelError` at this location (or at ``key`` inside it)."""
        field = self.at(key).field if key else self.field
        raise ModelError(problem, path=self.path, field=field, value=value, fix=fix)

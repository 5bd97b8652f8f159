"""The one error type for bad input: it names the file, the field, the bad value and the fix."""
from __future__ import annotations


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

"""The one error type every build step raises: where the problem is and what was expected."""

from __future__ import annotations


class BuildError(Exception):
    """A problem a contributor can fix, located by file, line and field."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file, self.line, self.field = file, line, field
        self.problem, self.expected = problem, expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        text = f"{where}: " + (f"field '{self.field}': " if self.field else "") + self.problem
        return text + (f"; expected {self.expected}" if self.expected else "")

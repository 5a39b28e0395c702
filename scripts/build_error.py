"""The one error type every build step raises: where the problem is and what was expected.

Its text is the single line a contributor sees when a build fails, for example

    data/fees.csv:7: field 'value': 'lots' is not of the declared type; expected a number
    docs/methodology.ipynb: cell 3, line 2: ZeroDivisionError: division by zero; expected ...
"""

from __future__ import annotations

try:  # Under MkDocs, a BuildError stops the build with its message and no traceback.
    from mkdocs.exceptions import PluginError as _Base
except ImportError:  # another generator, or none: a plain exception
    _Base = Exception


class BuildError(_Base):
    """A problem a contributor can fix, located by file, line (or notebook cell) and field."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        cell: int | None = None,
    ) -> None:
        self.file, self.line, self.field, self.cell = file, line, field, cell
        self.problem, self.expected = problem, expected
        super().__init__(str(self))

    def __reduce__(self):  # travels intact from a worker process of the chart build
        keywords = {k: getattr(self, k) for k in ("line", "field", "expected", "cell")}
        return _rebuild, (self.file, self.problem, keywords)

    def __str__(self) -> str:
        if self.cell:
            where = f"{self.file}: cell {self.cell}" + (f", line {self.line}" if self.line else "")
        else:
            where = self.file + (f":{self.line}" if self.line else "")
        text = f"{where}: " + (f"field '{self.field}': " if self.field else "") + self.problem
        return text + (f"; expected {self.expected}" if self.expected else "")


def _rebuild(file: str, problem: str, keywords: dict) -> BuildError:
    return BuildError(file, problem, **keywords)

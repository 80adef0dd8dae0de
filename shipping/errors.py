"""The library's own errors; the application maps them onto its LimsError tree."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ManifestProblem:
    """One thing wrong in a manifest CSV, where the user will find it in the file."""

    line: int  # 1-based line of the file, as a text editor or spreadsheet numbers it
    column: str  # the column (or, in the [Manifest] section, the key) it is in; "" for a line
    value: str  # what the file said
    reason: str  # why it cannot be read, in the user's words

    def __str__(self) -> str:
        where = f"line {self.line}, {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.value!r} {self.reason}" if self.value else f"{where}: {self.reason}"


class ManifestErrors(ValueError):
    """A manifest CSV that cannot be loaded; `problems` names every problem, not the first."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problems in the manifest: {shown}{more}")
        self.problems = problems

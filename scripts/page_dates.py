"""Each page's last-updated date, from git: the day of the last commit that touched its file.

One `git log` for the whole docs/ folder (not one per page). Outside a git checkout, or for a
file git does not know yet, the date is SOURCE_DATE_EPOCH's (scripts/build_site.py sets it from
the last commit), never the clock, so two builds of one commit are byte-identical. A CI checkout
needs the full history (GitHub Actions: fetch-depth: 0), or every page shows the last commit.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path


def fallback_date() -> str:
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1767225600"))
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def last_updated(docs: Path) -> dict[str, str]:
    """Return {path under docs/: 'YYYY-MM-DD'} for every file under docs/."""
    default = fallback_date()
    dates = {p.relative_to(docs).as_posix(): default for p in docs.rglob("*") if p.is_file()}
    try:
        log = subprocess.run(
            ["git", "log", "--format=%x00%cs", "--name-only", "--relative", "--", "."],
            cwd=docs,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return dates
    seen: set[str] = set()
    date = default
    for line in log.splitlines():
        if line.startswith("\0"):
            date = line[1:]
        elif line and line not in seen:
            seen.add(line)
            if line in dates:
                dates[line] = date
    return dates

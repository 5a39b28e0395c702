"""Build step: the whole static site into site/, replaced only when the build succeeds.

MkDocs empties its output folder before it writes, so a failing page would leave a half-built
site. We build into .build/ and swap the folders at the end: a failed build leaves the last good
site/ complete and unchanged. Dates (sitemap) come from the last commit, not the clock, so two
builds of one commit are byte-identical.

Run: python -m scripts.build_site [-d OUT] [-v]   (exit 1 with file, line and field on bad input)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a contributor needs from MkDocs' output: its warnings and errors, and our BuildError line.
KEEP = re.compile(r"^(ERROR|WARNING)\b|^(error:|Aborted)")
FALLBACK = re.compile(r"(BuildError|Error): ")


def source_date_epoch(root: Path) -> str:
    """Return SOURCE_DATE_EPOCH: as set, else the last commit's time, else a fixed date."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out or "1767225600"
    except (OSError, subprocess.CalledProcessError):
        return "1767225600"  # 2026-01-01, for a tree outside git


def build_site(root: Path = ROOT, out: Path | None = None, verbose: bool = False) -> int:
    """Build the site into out (default site/); return the process exit code."""
    out = (out or root / "site").resolve()
    work = root / ".build"
    work.mkdir(exist_ok=True)
    fresh = work / f"site-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": source_date_epoch(root),
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONPATH": str(root),
    }
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(fresh)]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        shutil.rmtree(fresh, ignore_errors=True)
        lines = (
            output.splitlines()
            if verbose
            else [line for line in output.splitlines() if KEEP.search(line)]
        )
        print("\n".join(lines) or output, file=sys.stderr)
        print(f"build failed; {_rel(out, root)} is unchanged", file=sys.stderr)
        return 1
    if verbose:
        print(output, file=sys.stderr)
    old = work / f"site-old-{os.getpid()}"
    if out.exists():
        out.replace(old)
    fresh.replace(out)
    shutil.rmtree(old, ignore_errors=True)
    print(f"built {_rel(out, root)}", file=sys.stderr)
    return 0


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-d", "--site-dir", type=Path, help="output folder (default: site/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show MkDocs' full output")
    args = parser.parse_args(argv)
    return build_site(out=args.site_dir, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())

"""Build step: each chart's download PNG (chart.png), drawn while the pages are being built.

The PNG is a pure function of the chart's download SVG (chart.svg), and the slowest part of a
chart (resvg, about as long as the chart's two SVG drawings together). Yet no page needs its
bytes: a page links it and states its size in its social-card tags. So:

- its size is known before it is drawn (png_size). resvg makes the image width x scale by
  height x scale, truncated; the scale is chosen so that neither product falls within a hair of
  a whole number, where single-precision rounding could tip it either way;
- it is queued on the second process as soon as the chart's SVG exists (Drawing.add), and the
  build waits for it only when the pages are written (Drawing.finish, from the MkDocs hook);
  whatever the second process has not started by then is drawn here;
- drawn images are cached in .cache/png/ by the SVG's bytes and the library's version.

`python -m scripts.build_charts` (no pages to overlap with) waits before it writes.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

from scripts import chart_fonts, fingerprint
from scripts.build_error import BuildError

CARD_WIDTH = 1200  # px: social cards' large image needs at least this width
KEEP = 200  # images kept in the cache, the most recently used
_CLEAR = 0.01  # how far from a whole number width x scale and height x scale must stay


def svg_size(svg: bytes) -> tuple[float, float]:
    import re

    head = svg[:400].decode()
    w = re.search(r'width="([\d.]+)"', head)
    h = re.search(r'height="([\d.]+)"', head)
    if not (w and h):
        raise ValueError("the SVG has no width and height")
    return float(w.group(1)), float(h.group(1))


def png_scale(svg: bytes) -> float:
    """The scale the PNG is drawn at: at least CARD_WIDTH pixels wide, never below 1."""
    w, h = svg_size(svg)
    scale = max(1.0, (CARD_WIDTH + 0.5) / w)
    while scale > 1.0 and any(abs(v * scale - round(v * scale)) < _CLEAR for v in (w, h)):
        scale *= 1.00001
    return scale


def png_size(svg: bytes) -> tuple[int, int]:
    """The pixel size of draw(svg), without drawing it."""
    w, h = svg_size(svg)
    scale = png_scale(svg)
    return math.floor(w * scale), math.floor(h * scale)


def draw(svg: bytes, where: str, scale: float | None = None) -> bytes:
    """The SVG as PNG (at png_scale unless given); BuildError naming where on failure."""
    vlc = chart_fonts.vl_convert()

    try:
        return vlc.svg_to_png(svg.decode(), scale=png_scale(svg) if scale is None else scale)
    except Exception as err:
        raise BuildError(where, f"PNG rendering failed: {err}".split("\n")[0]) from None


def _key(svg: bytes) -> str:
    return fingerprint.sha(svg, fingerprint.versions("vl-convert-python"), chart_fonts.KEY)[:24]


class Drawing:
    """The PNGs of one build: rel path -> image, from the cache or drawn on pool (an executor:
    the second process), else on the one start_pool returns when the first is needed, else on
    a thread here. owned_pool, if set, is shut down when they are done."""

    def __init__(self, cache: Path, pool=None, start_pool=None) -> None:
        self.cache = cache
        self.pool = pool
        self.start_pool = start_pool
        self.owned_pool = None
        self.done: dict[str, bytes] = {}
        self.jobs: dict[str, tuple] = {}  # rel -> (future, svg, where)
        self._lock = threading.Lock()
        self._thread = None

    def add(self, rel: str, svg: bytes, where: str) -> bytes | None:
        """The image for rel if it is cached or drawn; else queue it and return None."""
        with self._lock:
            if rel in self.done:
                return self.done[rel]
            if rel in self.jobs and self.jobs[rel][1] == svg:
                return None
            hit = self.cache / f"{_key(svg)}.png"
            if hit.is_file():
                self.done[rel] = hit.read_bytes()
                os.utime(hit)  # recently used: kept longest
                return self.done[rel]
            self.jobs[rel] = (self._executor().submit(draw, svg, where), svg, where)
            return None

    def pending(self) -> list[str]:
        return sorted(self.jobs)

    def finish(self, outs: list[Path] = (), help_out: bool = True) -> dict[str, bytes]:
        """Wait for every queued image (drawing here those the pool has not started, if
        help_out), cache it, write it under each folder of outs; return rel -> image."""
        drawn = {}
        try:
            for rel, (future, svg, where) in sorted(self.jobs.items()):
                if help_out and future.cancel():
                    drawn[rel] = draw(svg, where)
                else:
                    drawn[rel] = future.result()
                self._store(svg, drawn[rel])
        finally:
            self.close(cancel=True)
        for rel, data in drawn.items():
            for out in outs:
                write_file(out / rel, data)
        self.done.update(drawn)
        self.jobs.clear()
        return drawn

    def close(self, cancel: bool = False) -> None:
        for future, _, _ in self.jobs.values():
            if cancel:
                future.cancel()
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=cancel)
            self._thread = None
        if self.owned_pool is not None:
            self.owned_pool.shutdown(wait=True, cancel_futures=cancel)
            self.owned_pool = None

    def _executor(self):
        if self.pool is None and self.start_pool is not None:
            self.pool = self.start_pool()
        if self.pool is not None:
            return self.pool
        if self._thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="png")
        return self._thread

    def _store(self, svg: bytes, data: bytes) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        write_file(self.cache / f"{_key(svg)}.png", data)
        held = sorted(self.cache.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for stale in held[:-KEEP]:
            stale.unlink(missing_ok=True)


def write_file(target: Path, data: bytes) -> bool:
    """Replace target atomically unless it holds data already; return whether it changed.
    Under `mkdocs serve` the site's copy may be a hard link to the file in docs/generated:
    replacing (never writing through) keeps the two apart. The temporary file is this thread's
    own: a build's sync and a PNG landing may write the same target."""
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return True

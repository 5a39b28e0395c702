"""vl-convert set to draw with the fonts it carries (Liberation Sans), never the machine's.

Every use of vl-convert goes through vl_convert() (ruff bans a direct import elsewhere), for
two reasons:

- the images are the same on every machine: the chart SVGs' text layout and the PNGs' glyphs
  do not depend on which fonts a machine happens to have installed;
- speed: fontdb keeps a machine's font as a file path and opens and maps the file again at
  every glyph it looks up. That was about 1,300 times per chart SVG and 2,300 per PNG, 25-50 ms
  of system time each on this project's 2-core machines, about half of a chart's drawing time.
  The fonts vl-convert carries sit in memory.

vl-convert 1.9 has no switch for the machine's fonts. fontdb reads the machine's font folders
from fontconfig's file, FONTCONFIG_FILE. So while vl-convert loads its font list (once per
process, at its first font call) that variable names a file listing one empty folder, and is put
back at once: browsers and programs started later see the machine's fonts as before. A forked
process inherits the loaded list; a spawned one calls vl_convert() itself.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

KEY = "fonts=bundled"  # in the cache key of every drawn image

_lock = threading.Lock()
_ready = False


def vl_convert():
    """The vl_convert module, its fonts loaded without the machine's."""
    global _ready
    import vl_convert as vlc  # noqa: TID251 (the one place it is imported)

    with _lock:
        if not _ready:
            _load_own_fonts(vlc)
            _ready = True
    return vlc


def _load_own_fonts(vlc) -> None:
    before = os.environ.get("FONTCONFIG_FILE")
    with tempfile.TemporaryDirectory(prefix="fonts-") as tmp:
        empty = Path(tmp, "none")
        empty.mkdir()
        config = Path(tmp, "fonts.conf")
        config.write_text(f"<fontconfig><dir>{empty}</dir></fontconfig>\n", encoding="utf-8")
        os.environ["FONTCONFIG_FILE"] = str(config)
        try:
            # Registering a folder makes vl-convert load its font list now (and starts no
            # thread, so a later fork is still safe); the folder is empty, so adds nothing.
            vlc.register_font_directory(str(empty))
        finally:
            if before is None:
                del os.environ["FONTCONFIG_FILE"]
            else:
                os.environ["FONTCONFIG_FILE"] = before

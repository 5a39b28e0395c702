"""The chart images are drawn with vl-convert's own fonts, so a machine's fonts do not change
them (and are not reopened at every glyph, which cost half of a chart's drawing time)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Draws one word in a family the machine has and vl-convert does not carry (DejaVu Sans, which
# the Makefile installs with Chromium), and in the family vl-convert carries (Liberation Sans).
DRAW = """
import hashlib, json, os, sys
if sys.argv[1] == "build":
    from scripts.chart_fonts import vl_convert
    vlc = vl_convert()
else:
    import vl_convert as vlc  # noqa: TID251 (the library as it comes, for comparison)

def png(family):
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="220" height="40">'
           f'<text x="5" y="26" font-size="18" font-family="{family}">Deliveries 2024</text></svg>')
    return hashlib.sha256(vlc.svg_to_png(svg)).hexdigest()

print(json.dumps({"machine": png("DejaVu Sans, sans-serif"), "own": png("Liberation Sans"),
                  "env": os.environ.get("FONTCONFIG_FILE")}))
"""


def _draw(how: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FONTCONFIG_FILE", None)
    out = subprocess.run(
        [sys.executable, "-c", DRAW, how], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_build_draws_with_vl_converts_own_fonts_only():
    plain = _draw("plain")
    if plain["machine"] == plain["own"]:
        pytest.skip("this machine has no DejaVu Sans: nothing to tell the two apart")
    built = _draw("build")
    # A family only the machine has falls back to the sans-serif vl-convert carries.
    assert built["machine"] == built["own"], "the build drew text with one of the machine's fonts"
    # The setting is put back: a browser started later by the same process sees the fonts.
    assert built["env"] is None

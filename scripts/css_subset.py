"""Build step: Material's stylesheets cut to the rules this site can ever use.

Material ships one stylesheet for every feature it has (blog, tabs, code annotations, keys,
right-to-left pages, ...): 137 KB, 23 KB gzip, every rule of it matched against every element
of a page before its first paint. Under a phone's CPU that style pass, not the download, is most
of the time between the stylesheets arriving and the first chart on screen (bench, timing).

A rule stays if every class, id, element, attribute name and attribute value its selector needs
is a word somewhere in the built pages or in the scripts that can run in them (Material's bundle,
the site's own): a page's DOM can only hold what its HTML or a script writes, so no rule that
could ever match is lost, whatever the reader clicks, and pseudo-classes (:hover, :checked,
:focus, ...) and @media print are untouched. Words inside :not(), :is() and the like are not
required (the test only ever keeps more). Custom properties that nothing reads with var() go too
(Material's icons for admonition kinds the site never writes). Words that merely appear in a
script keep their rules, so the cut is conservative: it needs no list to maintain.

The cut file gets a new content hash in its name (a cached copy of another build's cut must never
be used: it may lack a rule a new page needs) and every page's link is rewritten to it; its
source map, which no longer matches, is dropped. `mkdocs serve` previews with Material's whole
sheets; tests/test_reader_styles.py checks that every element of every built page looks the same
with the cut sheets as with the whole ones.

Run: python -m scripts.css_subset SITE_DIR   (build_site runs it after scripts/harden_site.py)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import tinycss2

WORD = re.compile(r"[A-Za-z_][\w-]*")
SHEETS = "assets/stylesheets/*.min.css"  # Material's main and palette stylesheets
SCRIPTS = ("assets/javascripts/bundle.*.js", "javascripts/**/*.js")
NESTED = {"media", "supports", "container", "layer"}


def site_words(site: Path) -> set[str]:
    """Every identifier-like word in the pages and in the scripts that run in them."""
    files = [*site.rglob("*.html"), *(f for g in SCRIPTS for f in site.glob(g))]
    words: set[str] = set()
    for f in files:
        if f.suffix != ".map":
            words.update(WORD.findall(f.read_text(encoding="utf-8", errors="replace")))
    return words


def _selectors(prelude: list) -> list[list]:
    """A selector list split at its top-level commas."""
    out: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            out.append([])
        else:
            out[-1].append(token)
    return out


def _needs(selector: list) -> list[str]:
    """The words a compound selector needs in the DOM: element names, .classes, #ids and the
    names and values in [attribute] tests; not pseudo-class names nor their arguments."""
    needs, prev = [], None
    for token in selector:
        after_colon = prev is not None and prev.type == "literal" and prev.value in (":", "::")
        if token.type == "ident" and not after_colon:
            needs.append(token.value)  # an element name, or a class after "."
        elif token.type == "hash":
            needs.append(token.value)
        elif token.type == "[] block":
            # Only values that are words can be looked for ([data-md-level="0"] is kept).
            tests = [t.value for t in token.content if t.type in ("ident", "string")]
            needs += [v for v in tests if WORD.fullmatch(v)]
        if token.type != "whitespace":
            prev = token
    return needs


def _kept(selector: list, words: set[str]) -> bool:
    return all(w in words or w.lower() in words for w in _needs(selector))


def _rule(rule, words: set[str], read: set[str] | None) -> str:
    """The rule as kept, or "" (read: the custom properties to keep; None keeps all)."""
    if rule.type == "qualified-rule":
        kept = [s for s in _selectors(rule.prelude) if _kept(s, words)]
        if not kept:
            return ""
        body = tinycss2.serialize(rule.content).strip()
        items = tinycss2.parse_blocks_contents(
            rule.content, skip_comments=True, skip_whitespace=True
        )
        if read is not None and all(d.type == "declaration" for d in items):
            kept_items = [d for d in items if not d.name.startswith("--") or d.name in read]
            body = ";".join(d.serialize() for d in kept_items)
            if not body:
                return ""
        prelude = ",".join(tinycss2.serialize(s).strip() for s in kept)
        return prelude + "{" + body + "}"
    if rule.type == "at-rule":
        if rule.lower_at_keyword in NESTED and rule.content is not None:
            inner = "".join(
                _rule(r, words, read)
                for r in tinycss2.parse_rule_list(
                    rule.content, skip_comments=True, skip_whitespace=True
                )
            )
            if not inner:
                return ""
            return f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude).rstrip()}{{{inner}}}"
        return tinycss2.serialize([rule])  # @charset, @keyframes, @font-face, @page: as they are
    return ""


READS = re.compile(r"var\(\s*(--[\w-]+)")


def subset(sheets: dict[str, str], words: set[str], readers: str = "") -> dict[str, str]:
    """Each stylesheet with only the rules a DOM made of these words can match, and only the
    custom properties that a var() reads, in any of them or in readers (one sheet reads what
    another declares, and declarations read others)."""
    parsed = {
        name: tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        for name, css in sheets.items()
    }
    read = None
    while True:
        out = {
            name: "".join(_rule(r, words, read) for r in rules) for name, rules in parsed.items()
        }
        now = set(READS.findall("".join(out.values()) + readers))
        if now == read:
            return out
        read = now


def cut_stylesheets(site: Path, cache: Path | None = None) -> dict[str, int]:
    """Cut each of Material's stylesheets in place (under a new name); return bytes saved.
    cache: a folder keeping cuts by what they are made from (the cut is a quarter second)."""
    words = site_words(site)
    # Custom properties may be read by the site's own CSS, inline styles or scripts.
    readers = "".join(
        f.read_text(encoding="utf-8")
        for pattern in ("**/*.html", "stylesheets/**/*.css", "generated/*.css", *SCRIPTS)
        for f in site.glob(pattern)
    )
    paths = sorted(site.glob(SHEETS))
    sheets = {p.name: p.read_text(encoding="utf-8") for p in paths}
    key = hashlib.sha256(
        json.dumps([sheets, sorted(words), sorted(set(READS.findall(readers)))]).encode()
    ).hexdigest()[:24]
    held = cache / f"{key}.json" if cache else None
    if held is not None and held.is_file():
        cut = json.loads(held.read_text(encoding="utf-8"))
    else:
        cut = subset(sheets, words, readers)
        if held is not None:
            cache.mkdir(parents=True, exist_ok=True)
            for stale in sorted(cache.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-3]:
                stale.unlink(missing_ok=True)
            held.write_text(json.dumps(cut), encoding="utf-8")
    renamed, saved = {}, 0
    for sheet in paths:
        data = cut[sheet.name].encode()
        name = re.sub(r"\.[0-9a-f]{8}\.min\.css$", "", sheet.name)
        new = sheet.with_name(f"{name}.{hashlib.sha256(data).hexdigest()[:8]}.min.css")
        saved += sheet.stat().st_size - len(data)
        sheet.unlink()
        sheet.with_name(sheet.name + ".map").unlink(missing_ok=True)
        new.write_bytes(data)
        renamed[sheet.name] = new.name
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new_html = re.sub(
            r"(assets/stylesheets/)([\w.-]+\.min\.css)",
            lambda m: m.group(1) + renamed.get(m.group(2), m.group(2)),
            html,
        )
        if new_html != html:
            page.write_text(new_html, encoding="utf-8")
    return {"stylesheets": len(renamed), "bytes_saved": saved}


if __name__ == "__main__":
    print(cut_stylesheets(Path(sys.argv[1])), file=sys.stderr)

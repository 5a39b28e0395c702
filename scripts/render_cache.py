"""Under `mkdocs serve`: a Markdown page whose inputs did not change is not converted again.

A rebuild converts every page, though an edit to one page, one CSV or one chart changes only a
few pages' HTML: about a tenth of a second per page here. A page's HTML depends on its Markdown
(after the hooks that see it), mkdocs.yml, the list of files its links resolve against,
docs/includes/ and our code in scripts/ (inputs_digest), and on what the Markdown extensions read
from docs/generated/ while converting it: the files of the charts it embeds, the figures it
states. The extensions report those reads with note(); remember() keys the result of Page.render
on all of it and keeps the last one per page, in memory only. A one-off build converts
everything, so strict mode sees every warning.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

_RENDERED: dict[str, tuple[str, dict, tuple]] = {}  # src_uri -> (key, reads, what render made)
_reads: dict | None = None  # (path, parts) -> digest, read by the page being converted
_json: dict[str, object] = {}  # parsed JSON files, for one build


def _digest(value: object) -> str:
    if not isinstance(value, bytes):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(value).hexdigest()


def note(path: Path, value: object, *parts: str) -> None:
    """The Markdown extensions call this for what they read from docs/generated/: a file's bytes
    (no parts), or one part of a JSON file (parts: the keys down to it), with its value. Outside
    `mkdocs serve` it does nothing."""
    if _reads is not None:
        _reads[str(path), parts] = _digest(value)


def _current(path: str, parts: tuple) -> str | None:
    try:
        if not parts:
            return _digest(Path(path).read_bytes())
        if path not in _json:
            _json[path] = json.loads(Path(path).read_text(encoding="utf-8"))
        value = _json[path]
        for part in parts:
            value = value[part]
        return _digest(value)
    except (OSError, KeyError, TypeError, ValueError):
        return None  # gone: convert the page again, which reports the error


def inputs_digest(root: Path, files) -> str:
    """Hash everything but the page itself and docs/generated/ that a page's HTML can depend on
    (called once per build, after build_charts wrote)."""
    _json.clear()
    h = hashlib.sha256((root / "mkdocs.yml").read_bytes())
    h.update("\n".join(sorted(f.src_uri for f in files)).encode())
    for folder in ("docs/includes", "scripts"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def remember(page, digest: str) -> None:
    """Give page a render() that reuses its last result when nothing it reads changed."""
    original = page.render

    def render(config, files) -> None:
        global _reads
        key = hashlib.sha256(f"{digest}\0{page.file.src_uri}\0{page.markdown}".encode()).hexdigest()
        held = _RENDERED.get(page.file.src_uri)
        if (
            held is None
            or held[0] != key
            or any(_current(*read) != seen for read, seen in held[1].items())
        ):
            _reads = {}
            try:
                original(config, files)
                reads = _reads
            finally:
                _reads = None
            links = page.links_to_anchors
            anchors = None if links is None else {f.src_uri: a for f, a in links.items()}
            result = (page.content, page.toc, page._title_from_render, page.present_anchor_ids)
            _RENDERED[page.file.src_uri] = (key, reads, (*copy.deepcopy(result), anchors))
            return
        content, toc, title, present, anchors = copy.deepcopy(held[2])
        page.content, page.toc, page._title_from_render = content, toc, title
        page.present_anchor_ids = present
        if anchors is not None:  # links point at this build's File objects
            page.links_to_anchors = {
                files.get_file_from_path(uri): a
                for uri, a in anchors.items()
                if files.get_file_from_path(uri)
            }

    page.render = render

"""Under `mkdocs serve`: a Markdown page whose inputs did not change is not converted again.

A rebuild converts every page, though an edit to one page changes only that page's HTML: about a
tenth of a second per page here. A page's HTML depends on its Markdown (after the hooks that see
it), the files the extensions read (docs/generated/, docs/includes/, their code in scripts/),
mkdocs.yml and the list of files its links resolve against. remember() keys the result of
Page.render on exactly those and keeps the last one per page, in memory only: a one-off build
converts everything, so strict mode sees every warning.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

_RENDERED: dict[str, tuple[str, tuple]] = {}  # src_uri -> (key, what render produced)


def inputs_digest(root: Path, files) -> str:
    """Hash everything but the page itself that a page's HTML can depend on."""
    h = hashlib.sha256((root / "mkdocs.yml").read_bytes())
    h.update("\n".join(sorted(f.src_uri for f in files)).encode())
    for folder in ("docs/generated", "docs/includes", "scripts"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def remember(page, digest: str) -> None:
    """Give page a render() that reuses its last result when nothing it reads changed."""
    original = page.render

    def render(config, files) -> None:
        key = hashlib.sha256(f"{digest}\0{page.file.src_uri}\0{page.markdown}".encode()).hexdigest()
        held = _RENDERED.get(page.file.src_uri)
        if held is None or held[0] != key:
            original(config, files)
            links = page.links_to_anchors
            anchors = None if links is None else {f.src_uri: a for f, a in links.items()}
            result = (page.content, page.toc, page._title_from_render, page.present_anchor_ids)
            _RENDERED[page.file.src_uri] = (key, (*copy.deepcopy(result), anchors))
            return
        content, toc, title, present, anchors = copy.deepcopy(held[1])
        page.content, page.toc, page._title_from_render = content, toc, title
        page.present_anchor_ids = present
        if anchors is not None:  # links point at this build's File objects
            page.links_to_anchors = {
                files.get_file_from_path(uri): a
                for uri, a in anchors.items()
                if files.get_file_from_path(uri)
            }

    page.render = render

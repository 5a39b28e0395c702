"""Build step: make a built site safe and valid to publish. Runs on the folder MkDocs wrote.

It works on the finished HTML, so it does not care which generator wrote it:

- Content-Security-Policy: overrides/partials/csp.html writes the policy with
  `script-src 'self' 'unsafe-inline'` (what `mkdocs serve` needs: its live-reload script is
  inline and changes on every request). Here that becomes `'self'` plus the SHA-256 hash of every
  inline script the site contains, the same list on every page (instant navigation keeps the
  first page's policy for the whole visit), so no other inline script can run.
- External links get rel="noopener noreferrer": the page they open cannot reach back into ours
  or learn which page the reader came from. Characters a URL may not contain unencoded
  (brackets, spaces: some sources publish them) are percent-encoded.
- Notebook pages (mkdocs-jupyter): the ~600 KB of JupyterLab CSS it inlines in <body> moves to
  one cached stylesheet linked from <head>; its inline scripts move to one external file; the
  empty MathJax <script src=""> and the Mermaid loader (which imports from a CDN, and is dead
  code without diagrams) are dropped; <clipboard-copy> gets the role its script gives it at run
  time, so its aria-label is valid. Each code cell carried its code twice (highlighted, and
  again as hidden text for the copy button): the button now copies the highlighted <pre>, whose
  text is the same. Highlighting spans that no stylesheet draws (names, punctuation, spaces:
  their only rules read JupyterLab colours, whose definitions overrides/main.html drops) are
  unwrapped to their text. tests/nu_allowlist.txt lists what the Nu checker still says.
- The site's own scripts and stylesheets (OWN_ASSETS) lose their comments and indentation:
  every page loads them before the reader does anything, and the comments, written for
  contributors, were a quarter of their weight. The sources under docs/ and overrides/ keep
  them. The scan knows strings, template literals and regular expressions; where it cannot be
  sure of the code's shape it raises BuildError and the file is left as it was.

Run: python -m scripts.harden_site SITE_DIR   (build_site runs it on every build)
"""

from __future__ import annotations

import ast
import base64
import hashlib
import os
import re
import sys
from pathlib import Path

from scripts.build_error import BuildError

CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"\s*/?>')
DEV_SCRIPTS = "script-src 'self' 'unsafe-inline'"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S)
ANCHOR = re.compile(r"<a\s[^>]*>")
HREF = re.compile(r'\shref="(https?:)?//([^/"]+)')
REL = re.compile(r'\srel="([^"]*)"')
EXECUTABLE = re.compile(r'type="(text/javascript|module|application/javascript)"')


def is_executable(attrs: str) -> bool:
    """Return whether a <script> with these attributes runs (JSON and templates do not)."""
    return "type=" not in attrs or bool(EXECUTABLE.search(attrs))


def inline_scripts(html: str) -> list[str]:
    """Return the text of every inline script that a browser would execute."""
    return [
        body
        for attrs, body in SCRIPT.findall(html)
        if "src=" not in attrs and is_executable(attrs) and body.strip()
    ]


def csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


# Characters a URL may not carry unencoded after its host (RFC 3986); sources are copied as
# published, and some publishers put brackets or spaces in their paths.
UNSAFE_IN_PATH = re.compile(r"[\[\]\s<>\\^`{|}]")
URL_ATTR = re.compile(r'(\shref=")((?:https?:)?//[^/"]+)([^"]*)"')


def encode_url_path(tag: str) -> str:
    """Percent-encode what may not stand unencoded in an external link's path and query."""
    return URL_ATTR.sub(
        lambda m: (
            m.group(1)
            + m.group(2)
            + UNSAFE_IN_PATH.sub(lambda c: f"%{ord(c.group(0)):02X}", m.group(3))
            + '"'
        ),
        tag,
    )


def safe_links(html: str, own_host: str | None = None) -> str:
    """Add rel="noopener noreferrer" to every link that leaves the site (and encode its URL)."""

    def fix(m: re.Match) -> str:
        tag = encode_url_path(m.group(0))
        href = HREF.search(tag)
        if not href or (own_host and href.group(2) == own_host):
            return tag
        rel = REL.search(tag)
        if rel:
            words = rel.group(1).split()
            words += [w for w in ("noopener", "noreferrer") if w not in words]
            return tag[: rel.start()] + f' rel="{" ".join(words)}"' + tag[rel.end() :]
        return tag[:-1].rstrip("/").rstrip() + ' rel="noopener noreferrer">'

    return ANCHOR.sub(fix, html)


# Files the site ships from docs/ and overrides/ (paths in the built site); Material's own are
# minified already.
OWN_ASSETS = ("javascripts/**/*.js", "stylesheets/**/*.css", "assets/javascripts/workers/*.js")
# After one of these (or at the start) a "/" begins a regular expression, not a division.
REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}
REGEX_KEYWORDS = ("return", "typeof", "case", "do", "else", "in", "of", "void", "yield")


def strip_js(src: str) -> str:
    """Return the script without comments, indentation and blank lines, same meaning.

    Line breaks stay where code was (automatic semicolon insertion depends on them); strings,
    template literals and regular expressions are copied as they are. Raises ValueError on
    an unterminated string, comment, template or regular expression.
    """
    out: list[str] = []
    i, n = 0, len(src)
    # Each entry is the brace depth of code inside a template literal's ${ }.
    templates: list[int] = []

    def last() -> str:
        """The last character of code written so far (blank at a line start is skipped)."""
        for chunk in reversed(out):
            stripped = chunk.rstrip()
            if stripped:
                return stripped[-1]
        return ""

    def last_word() -> str:
        text = "".join(out[-8:]).rstrip()
        m = re.search(r"[A-Za-z_$][\w$]*$", text)
        return m.group(0) if m else ""

    def quoted(start: int, quote: str) -> int:
        """Index just past the string literal opening at start."""
        j = start + 1
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == quote:
                return j + 1
            if c == "\n":
                break
            j += 1
        raise ValueError(f"unterminated string at offset {start}")

    def template(start: int) -> int:
        """Index just past the template text from start up to its end or its next ${."""
        j = start
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == "`":
                return j + 1
            if src.startswith("${", j):
                return j + 2
            j += 1
        raise ValueError(f"unterminated template literal at offset {start}")

    def regex(start: int) -> int:
        j, in_class = start + 1, False
        while j < n and src[j] != "\n":
            c = src[j]
            if c == "\\":
                j += 2
                continue
            if c == "[":
                in_class = True
            elif c == "]":
                in_class = False
            elif c == "/" and not in_class:
                j += 1
                while j < n and (src[j].isalpha()):
                    j += 1  # flags
                return j
            j += 1
        raise ValueError(f"unterminated regular expression at offset {start}")

    at_line_start = True
    while i < n:
        c = src[i]
        if at_line_start and c in " \t":
            i += 1
            continue
        at_line_start = False
        if src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
            continue
        if src.startswith("/*", i):
            end = src.find("*/", i + 2)
            if end < 0:
                raise ValueError(f"unterminated comment at offset {i}")
            i = end + 2
            continue
        if c == "\n":
            while out and out[-1] in (" ", "\t"):
                out.pop()
            if out and out[-1] != "\n":
                out.append("\n")
            at_line_start = True
            i += 1
            continue
        if c in "'\"":
            end = quoted(i, c)
        elif c == "`" or (c == "}" and templates and templates[-1] == 0):
            if c == "}":
                templates.pop()  # back into the template's text
            end = template(i + 1)
            if src[end - 2 : end] == "${":
                templates.append(0)
        elif c == "/" and (last() in REGEX_AFTER or last_word() in REGEX_KEYWORDS):
            end = regex(i)
        else:
            if templates and c == "{":
                templates[-1] += 1
            elif templates and c == "}":
                templates[-1] -= 1
            end = i + 1
        out.append(src[i:end])
        i = end
    if templates:
        raise ValueError("unterminated template literal")
    return "".join(out).strip() + "\n"


def strip_css(src: str) -> str:
    """Return the stylesheet without comments, indentation and blank lines, same meaning.

    Raises ValueError on an unterminated string or comment.
    """
    out: list[str] = []
    i, n = 0, len(src)
    for m in re.finditer(r"/\*|'|\"", src):
        if m.start() < i:
            continue
        out.append(src[i : m.start()])
        if m.group(0) == "/*":
            end = src.find("*/", m.end())
            if end < 0:
                raise ValueError(f"unterminated comment at offset {m.start()}")
            i = end + 2
        else:
            end = re.compile(rf"(?:\\.|[^\\{m.group(0)}\n])*{m.group(0)}").match(src, m.end())
            if end is None:
                raise ValueError(f"unterminated string at offset {m.start()}")
            out.append(src[m.start() : end.end()])
            i = end.end()
    out.append(src[i:n])
    lines = (line.strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def strip_own_assets(site: Path) -> int:
    """Strip the site's own scripts and stylesheets in place; return how many bytes went.

    Raises BuildError naming the file whose code the scan could not follow.
    """
    saved = 0
    for pattern in OWN_ASSETS:
        for path in sorted(site.glob(pattern)):
            if ".min." in path.name:
                continue
            src = path.read_text(encoding="utf-8")
            try:
                slim = strip_js(src) if path.suffix == ".js" else strip_css(src)
            except ValueError as err:
                raise BuildError(path.relative_to(site).as_posix(), str(err)) from None
            saved += len(src.encode()) - len(slim.encode())
            path.write_text(slim, encoding="utf-8")
    return saved


def _css_text(css: str) -> str:
    # mkdocs-jupyter 0.26 writes one of its style blocks as a Python list's repr: unwrap it.
    stripped = css.strip()
    if stripped.startswith("['") or stripped.startswith('["'):
        try:
            return "\n".join(ast.literal_eval(stripped))
        except (ValueError, SyntaxError):
            pass
    return css


COPY_SOURCE = re.compile(
    r'(<div class="highlight-ipynb[^"]*"><pre)(>(.*?)</pre></div>\s*)'
    r'<div class="clipboard-copy-txt" id="([^"]+)">(.*?)</div>',
    re.S,
)
UNDRAWN_TOKEN = re.compile(r'<span class="(?:n|p|w)">([^<]*)</span>')
HIGHLIGHTED = re.compile(r'(<div class="highlight-ipynb[^"]*"><pre[^>]*>)(.*?)(</pre>)', re.S)


def _one_copy_of_the_code(html: str) -> str:
    """Point each copy button at the highlighted code instead of a hidden second copy."""

    def repoint(m: re.Match) -> str:
        shown = re.sub(r"<[^>]+>", "", m.group(3)).rstrip("\n")
        if shown != m.group(5).rstrip("\n"):
            return m.group(0)  # not the same text: keep what the button copied
        return f'{m.group(1)} id="{m.group(4)}"{m.group(2).rstrip()}'

    html = COPY_SOURCE.sub(repoint, html)
    return HIGHLIGHTED.sub(
        lambda m: m.group(1) + UNDRAWN_TOKEN.sub(r"\1", m.group(2)) + m.group(3), html
    )


def fix_notebook_page(html: str, page: Path, site: Path, assets: dict[str, bytes]) -> str:
    """Move a notebook page's inline CSS and scripts to files; drop dead and CDN scripts."""
    if 'class="jupyter-wrapper"' not in html:
        return html
    styles = [_css_text(m.group(1)) for m in STYLE.finditer(html)]
    html = STYLE.sub("", html)
    scripts: list[str] = []

    def script(m: re.Match) -> str:
        attrs, body = m.group(1), m.group(2)
        if re.search(r'\ssrc=""', attrs):
            return ""  # MathJax with no URL configured: loads nothing, invalid markup
        if "type=" in attrs and 'type="module"' in attrs and "mermaid" in body:
            # Mermaid from a CDN, for diagrams the page does not have.
            return "" if "jp-Mermaid" not in html.replace(body, "") else m.group(0)
        if "src=" in attrs or not is_executable(attrs) or "clipboard" not in body.lower():
            return m.group(0)  # Material's own inline scripts stay (and get hashed)
        scripts.append(body)
        return "\0script\0"

    html = SCRIPT.sub(script, html)
    css = "\n".join(styles).encode()
    js = "\n;\n".join(scripts).encode()
    prefix = os.path.relpath(site, page.parent).replace(os.sep, "/")
    css_name = f"assets/stylesheets/notebook.{hashlib.sha256(css).hexdigest()[:8]}.css"
    assets[css_name] = css
    html = html.replace(
        "</head>", f'<link rel="stylesheet" href="{prefix}/{css_name}">\n</head>', 1
    )
    if scripts:
        js_name = f"assets/javascripts/notebook.{hashlib.sha256(js).hexdigest()[:8]}.js"
        assets[js_name] = js
        html = html.replace("\0script\0", f'<script src="{prefix}/{js_name}"></script>', 1)
        html = html.replace("\0script\0", "")
    html = _one_copy_of_the_code(html)
    # The element's script sets role="button" when it connects; say so in the markup already.
    return re.sub(
        r'<clipboard-copy ,="" aria-label=', '<clipboard-copy role="button" aria-label=', html
    )


def harden(site: Path, own_host: str | None = None) -> dict[str, int]:
    """Rewrite every page under site in place; raise BuildError if a page has no CSP."""
    pages = sorted(site.rglob("*.html"))
    assets: dict[str, bytes] = {}
    texts: dict[Path, str] = {}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        html = fix_notebook_page(html, page, site, assets)
        texts[page] = safe_links(html, own_host)
    hashes = sorted({csp_hash(s) for html in texts.values() for s in inline_scripts(html)})
    policy_scripts = " ".join(["script-src 'self'", *hashes])
    for page, html in texts.items():
        meta = CSP_META.search(html)
        if meta is None or DEV_SCRIPTS not in meta.group(1):
            raise BuildError(
                "overrides/partials/csp.html",
                f"{page.relative_to(site).as_posix()} has no Content-Security-Policy to finish",
                expected=f'a <meta http-equiv="Content-Security-Policy"> with "{DEV_SCRIPTS}"',
            )
        policy = meta.group(1).replace(DEV_SCRIPTS, policy_scripts)
        html = html[: meta.start(1)] + policy + html[meta.end(1) :]
        page.write_text(html, encoding="utf-8")
    for name, data in assets.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    stripped = strip_own_assets(site)
    return {
        "pages": len(pages),
        "script_hashes": len(hashes),
        "assets": len(assets),
        "comment_bytes_stripped": stripped,
    }


if __name__ == "__main__":
    print(harden(Path(sys.argv[1])), file=sys.stderr)

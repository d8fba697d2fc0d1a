"""mkdocs hook: keep every page self-contained (nothing fetched from another host at view time).

nbconvert's HTML templates, which mkdocs-jupyter renders the chapters with, put three CDN loaders in
each notebook page: MathJax 2 (with its configuration), require.js (off here through
`include_requirejs: false`) and a mermaid module that imports mermaid from cdnjs when the page has a
diagram. The site typesets maths with its own KaTeX copy (assets/site.js) and has no diagrams, so
`on_post_page` removes the loaders; `external_loads(html)` lists what is left, and the build fails
when that list is not empty.

`on_page_content` gives every PNG figure of a chapter its legible width: the notebook's execution
stamps each figure with its smallest text size (docs/notebook_cache.py), and the figure may shrink
with the column only down to the width at which that text is still `MIN_POINTS` (CSS points, 96 px
to the inch): `style="min-width: ...px"` and `data-min-width` (which `make site-check` measures);
below it the output scrolls sideways. A PNG without the stamp keeps its own width as its minimum.

It also turns the reStructuredText "::" that introduces a literal block in the docstrings
into ":" on API pages, and mends the table of contents of notebook pages: mkdocs-jupyter slugs the
headings for the TOC with Python-Markdown, which drops inline code (a heading "Why `_unbroadcast`"
gives "why"), while the headings themselves get ids from nbconvert, which keeps it
("why-_unbroadcast"). The TOC entries take the ids (and the text) of the page's headings, in order.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_cache import MIN_POINTS, MIN_TEXT_KEY  # noqa: E402  (what the figure check stamps on each PNG)

_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MERMAID = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>", re.S)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.I)

# What a browser would fetch: src= of any element, href= of <link>, url(...) in CSS, import("...").
_LOADS = [re.compile(p, re.I) for p in (
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc=[\"']?((?:https?:)?//[^\"' >]+)",
    r"<link\b[^>]*\bhref=[\"']?((?:https?:)?//[^\"' >]+)",
    r"url\(\s*[\"']?((?:https?:)?//[^\"')]+)",
    r"import\(\s*[\"']((?:https?:)?//[^\"']+)",
    r"@import\s+[\"']((?:https?:)?//[^\"']+)",
)]


_HEADING = re.compile(r"<h([1-6])\b[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)


def _flat(toc):
    for link in toc:
        yield link
        yield from _flat(link.children)


_PNG_IMG = re.compile(r'<img\b[^>]*?\bsrc="data:image/png;base64,([A-Za-z0-9+/=\s]+)"[^>]*>')


def png_facts(data: bytes) -> tuple[int, float, float | None]:
    """(width in pixels, dots per inch, smallest text in points or None) of a PNG: its IHDR, its pHYs
    (100 dpi when absent) and the tEXt chunk MIN_TEXT_KEY."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width = struct.unpack(">I", data[16:20])[0]
    dpi, min_pt, i = 100.0, None, 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I", data[i:i + 4])[0], data[i + 4:i + 8]
        body = data[i + 8:i + 8 + length]
        if kind == b"pHYs" and length == 9 and body[8] == 1:          # unit: metre
            dpi = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            if key.decode("latin-1") == MIN_TEXT_KEY:
                min_pt = float(value.decode("latin-1"))
        elif kind == b"IDAT":
            break                                                      # text chunks come first (matplotlib)
        i += 12 + length
    return width, dpi, min_pt


def legible_width(width: int, dpi: float, min_pt: float | None) -> int:
    """The narrowest display width (CSS px) at which text of `min_pt` points on a `width`-pixel image
    made at `dpi` is still MIN_POINTS CSS points; the image's own width when nothing is known, and
    never more than it."""
    if not min_pt:
        return width
    return min(width, math.ceil(MIN_POINTS * 96.0 * width / (min_pt * dpi)))


def add_legible_widths(html: str) -> str:
    """Every PNG <img> with `data-min-width` and a CSS min-width (see the module docstring)."""
    def fix(m: re.Match) -> str:
        tag = m.group(0)
        if "data-min-width" in tag:
            return tag
        try:
            width, dpi, min_pt = png_facts(base64.b64decode(m.group(1)))
        except (ValueError, struct.error):
            return tag
        least = legible_width(width, dpi, min_pt)
        rule = f"min-width:{least}px"
        if re.search(r'\bstyle="', tag):
            tag = re.sub(r'\bstyle="([^"]*)"', lambda s: f'style="{s.group(1).rstrip(";")}; {rule}"', tag, count=1)
        else:
            tag = tag.replace("<img", f'<img style="{rule}"', 1)
        return tag.replace("<img", f'<img data-min-width="{least}"', 1)
    return _PNG_IMG.sub(fix, html)


def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        html = add_legible_widths(html)
    if page.file.src_uri.startswith("api/"):
        html = html.replace("::</p>", ":</p>")     # docstrings end a line with "::" before a literal block
    if page.file.src_uri.endswith(".ipynb") and page.toc is not None:
        headings = _HEADING.findall(html)
        links = list(_flat(page.toc))
        if [int(level) for level, _, _ in headings] == [link.level for link in links]:
            for link, (_, anchor, inner) in zip(links, headings):
                link.id = anchor
                link.title = re.sub(r"<[^>]+>|¶", "", inner).strip()
    return html


def strip_remote_loaders(html: str) -> str:
    html = _MATHJAX.sub("", html)
    html = _MERMAID.sub("", html)
    return _REMOTE_SCRIPT.sub("", html)


def external_loads(html: str) -> list[str]:
    """Every URL on another host that the page would load (links to other sites do not count)."""
    return [m.group(1) for pattern in _LOADS for m in pattern.finditer(html)]


def on_post_page(output: str, page, config) -> str:
    output = strip_remote_loaders(output)
    left = external_loads(output)
    if left:
        raise RuntimeError(f"{page.file.src_uri}: the page would load {left[:3]} from another host; "
                           "ship the file in site/ instead (see docs/site_hooks.py)")
    return output

"""mkdocs hook: keep every page self-contained (nothing fetched from another host at view time).

nbconvert's HTML templates, which mkdocs-jupyter renders the chapters with, put three CDN loaders in
each notebook page: MathJax 2 (with its configuration), require.js (off here through
`include_requirejs: false`) and a mermaid module that imports mermaid from cdnjs when the page has a
diagram. The site typesets maths with its own KaTeX copy (assets/site.js) and has no diagrams, so
`on_post_page` removes the loaders; `external_loads(html)` lists what is left, and the build fails
when that list is not empty.

`on_page_content` turns the reStructuredText "::" that introduces a literal block in the docstrings
into ":" on API pages, and mends the table of contents of notebook pages: mkdocs-jupyter slugs the
headings for the TOC with Python-Markdown, which drops inline code (a heading "Why `_unbroadcast`"
gives "why"), while the headings themselves get ids from nbconvert, which keeps it
("why-_unbroadcast"). The TOC entries take the ids (and the text) of the page's headings, in order.
"""

from __future__ import annotations

import re

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


def on_page_content(html: str, page, config, files) -> str:
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

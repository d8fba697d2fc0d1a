"""Open every page of the built site in a real headless browser and check it: `make site-check`.

    python docs/site_check.py [SITE] [--shots DIR]

Serves SITE (default site/) on 127.0.0.1 only, opens each .html page in Debian's chromium through
Playwright (its own browser download is not needed) at two widths, a 1280 px laptop screen and a
390 px phone (`WIDTHS`), saves a full-page screenshot of each page at each width into DIR/1280/ and
DIR/390/ (default build/site-shots/, with report.json: per page its figures, maths, links, where each
image sits, and its problems) and fails, listing every problem, unless

| check | how |
|---|---|
| no console errors, no failed requests | console messages of type "error", uncaught page errors, failed requests, HTTP status >= 400 |
| nothing fetched from another host | every request not to the local server is aborted and reported; the HTML is also scanned for remote `src=`/`href=`/`url()`/`import()` (docs/site_hooks.py) |
| figures shown | every <img> has loaded with a non-zero natural size; a chapter shows as many PNG figures as its executed notebook holds (site-manifest.json), at least one |
| maths rendered | a page whose text has `$...$`, `\\(...\\)` or `\\[...\\]` outside code gets KaTeX elements, no `.katex-error`, and no delimiter is left in the visible text |
| internal links resolve | every link to the same server is fetched (HTTP 200) and its `#anchor`, if any, is an id on the target page |
| no stub pages | each page's article has at least MIN_TEXT characters of visible text; each chapter says how to run it (`make lab`) |
| nothing cut off, nothing wrapped (both widths) | no `<pre>` (code or output) and no displayed equation is wider than its box unless the box or a parent scrolls sideways; none sticks out of the screen; none breaks a line its text does not break (measured against a copy laid out with `white-space: pre`); no code span in a table cell (a path) breaks across lines; the page itself is no wider than the screen |
| figures legible (both widths) | every figure is shown at least as wide as its legible width (`data-min-width`, where its smallest text is 8 pt: docs/site_hooks.py), or, without it, as wide as its own pixels |
| no machine paths, no warning boxes | no page holds the build machine's checkout or home folder; no notebook output holds an absolute path (/home/..., /tmp/..., ...); no output is a raw stderr or error box |
| the banner says the mode | every chapter of a fast-mode site (site-manifest.json) shows the banner "fast mode: budgets shrunk for CI; not for reading"; no page of a full-mode site does |
| questions match their answers | a page with `Answer to question N` numbers its questions 1, 2, ... (a decimal list with at least N items) |

Chromium runs with a fresh profile and the switches that keep it from calling home
(--disable-background-networking, --disable-component-update, --disable-sync, --no-first-run).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import re
import shutil
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS))
from site_hooks import external_loads  # noqa: E402

MIN_TEXT = 200          # characters of visible article text below which a page is a stub
WIDTHS = {"laptop": (1280, 900), "phone": (390, 844)}     # viewport (width, height) in CSS px
FAST_BANNER = "fast mode: budgets shrunk for CI; not for reading"     # docs/site_build.py writes it
# An absolute path in a notebook's output (a learner's or the build machine's folder).
_ABS_PATH = r"(?:^|[\s'\"(=:])(/(?:home|Users|tmp|work|root|var|private|opt|mnt|srv|data)/[\w.-]+(?:/[\w.-]+)*)"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
                 "--no-default-browser-check"]
_MATH_IN_HTML = re.compile(r"\$[^$<>\n]+\$|\\\(|\\\[")
_STRIP = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1>", re.S | re.I)

# Runs in the page: what it shows, measured after load.
_PAGE_JS = r"""() => {
  const imgs = [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
      w: i.naturalWidth, h: i.naturalHeight, chapter: !!i.closest('.jupyter-wrapper'),
      y: Math.round(i.getBoundingClientRect().top + window.scrollY)}));
  const article = document.querySelector('article') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, .katex, .headerlink, .clipboard-copy-txt').forEach(e => e.remove());
  const text = clone.innerText || clone.textContent || '';
  const raw = text.match(/\$[^$\n]+\$|\\\(|\\\)|\\\[|\\\]/g) || [];
  return {imgs, katex: document.querySelectorAll('.katex').length,
          katexErrors: [...document.querySelectorAll('.katex-error')].map(e => e.textContent.slice(0, 80)),
          raw: raw.slice(0, 5), rawCount: raw.length, textLength: (article.innerText || '').trim().length,
          articleText: (article.innerText || '').slice(0, 4000),
          links: [...document.querySelectorAll('a[href]')].map(a => a.href)};
}"""


# Runs in the page at each width: what a reader of that screen gets to see.
_LEGIBLE_JS = r"""(args) => {
  const vw = window.innerWidth, found = [];
  const article = document.querySelector('article') || document.body;
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const scroller = e => { for (let p = e; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return p; } return null; };
  const name = e => (e.closest('.jp-OutputArea-output') ? 'output' : 'code block') + ' "' +
      (e.innerText || '').trim().split('\n')[0].slice(0, 50) + '"';
  if (document.documentElement.scrollWidth > vw + 1)
    found.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${vw} px screen`);
  for (const pre of [...article.querySelectorAll('pre')].filter(shown)) {
    const r = pre.getBoundingClientRect();
    const inner = [pre, ...pre.querySelectorAll('*')];
    const wide = inner.some(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'auto'
                                 && getComputedStyle(e).overflowX !== 'scroll' && !scroller(e.parentElement));
    if (wide || (r.right > vw + 1 && !scroller(pre)))
      found.push(`${name(pre)} is cut off (${Math.round(pre.scrollWidth)} px of text in ${Math.round(r.width)} px)`);
    const copy = pre.cloneNode(true);
    for (const e of [copy, ...copy.querySelectorAll('*')]) { e.style.whiteSpace = 'pre'; e.style.overflow = 'visible'; }
    Object.assign(copy.style, {position: 'absolute', visibility: 'hidden', width: 'max-content', left: '0', top: '0'});
    pre.parentElement.appendChild(copy);
    const natural = copy.scrollHeight;
    copy.remove();
    let bars = 0;                              // horizontal scrollbars inside the block take height too
    for (const e of inner) {
      const cs = getComputedStyle(e);
      if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && e.scrollWidth > e.clientWidth + 1)
        bars += e.offsetHeight - e.clientHeight - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
    }
    const line = parseFloat(getComputedStyle(pre).lineHeight) || 1.2 * parseFloat(getComputedStyle(pre).fontSize);
    if (pre.scrollHeight > natural + bars + 0.5 * line && (pre.innerText || '').trim().length)
      found.push(`${name(pre)} wraps its lines (${Math.round(pre.scrollHeight)} px tall, ${Math.round(natural)} px unwrapped)`);
  }
  for (const eq of [...article.querySelectorAll('.katex-display')].filter(shown))
    if (eq.scrollWidth > eq.clientWidth + 1 && !scroller(eq))
      found.push(`an equation is cut off (${eq.scrollWidth} px wide in ${eq.clientWidth} px): ` +
                 `"${(eq.innerText || '').trim().split('\n')[0].slice(0, 40)}"`);
  for (const code of [...article.querySelectorAll('td code, th code')].filter(shown))
    if (code.getClientRects().length > 1)
      found.push(`"${(code.innerText || '').slice(0, 50)}" breaks across lines in a table cell`);
  const figures = [];
  for (const img of [...article.querySelectorAll('img')].filter(shown)) {
    const r = img.getBoundingClientRect();
    const png = img.currentSrc.startsWith('data:image/png') || /\.png($|\?)/i.test(img.currentSrc);
    const least = img.dataset.minWidth ? Number(img.dataset.minWidth)
                : (png && img.closest('.jupyter-wrapper') ? img.naturalWidth : 0);
    figures.push({w: Math.round(r.width), least, natural: img.naturalWidth});
    if (least && r.width < least - 1)
      found.push(`a figure is shown ${Math.round(r.width)} px wide, below its legible width ${least} px ` +
                 `(its smallest text would be under 8 pt): ${img.currentSrc.slice(0, 40)}`);
    if (r.right > vw + 1 && !scroller(img))
      found.push(`a figure is cut off at the screen's edge (${Math.round(r.left)}-${Math.round(r.right)} px of ${vw})`);
  }
  return {found, figures};
}"""

# Runs in the page once: what must and must not be on it, whatever the width.
_CONTENT_JS = r"""(args) => {
  const article = document.querySelector('article') || document.body;
  const found = [];
  const text = article.innerText || '';
  for (const p of args.paths) if (p && text.includes(p)) found.push(`shows the build machine's path ${p}`);
  const re = new RegExp(args.absPath, 'm');
  for (const out of article.querySelectorAll('.jp-OutputArea-output')) {
    const m = (out.innerText || '').match(re);
    if (m) found.push(`an output shows the absolute path ${m[1]}`);
  }
  const boxes = article.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"], ' +
                                         '[data-mime-type="application/vnd.jupyter.error"]');
  for (const b of boxes) found.push(`a raw warning or error box: "${(b.innerText || '').trim().slice(0, 80)}"`);
  const banners = [...document.querySelectorAll('.minirl-fast-banner')]
      .filter(b => b.getBoundingClientRect().height > 0).map(b => b.innerText.trim());
  const answers = [...article.querySelectorAll('summary')].map(s => (s.innerText.match(/^Answer to question (\d+)/) || [])[1])
      .filter(Boolean).map(Number);
  const lists = [...article.querySelectorAll('ol')].map(ol => ({style: getComputedStyle(ol).listStyleType,
      start: Number(ol.getAttribute('start') || 1), items: ol.querySelectorAll(':scope > li').length}));
  return {found, banners, answers, lists};
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):      # the check reports what matters itself
        pass


def serve(root: Path):
    """A static server of `root` on 127.0.0.1 (an unused port), in a daemon thread; (server, base URL)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _ids(page_html: str) -> set[str]:
    return {html.unescape(m) for m in re.findall(r"\b(?:id|name)=[\"']([^\"']+)[\"']", page_html)}


class LinkChecker:
    """Fetches each internal URL once (HTTP 200 or a problem) and checks #anchors against its ids."""

    def __init__(self, base: str):
        self.base = base
        self.pages: dict[str, str | None] = {}     # url without fragment -> html text, or None if broken
        self.errors: dict[str, str] = {}

    def _get(self, url: str) -> str | None:
        if url not in self.pages:
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    body = resp.read()
                    kind = resp.headers.get("Content-Type", "")
                self.pages[url] = body.decode("utf-8", "replace") if "html" in kind else ""
            except (urllib.error.URLError, OSError) as exc:
                self.pages[url] = None
                self.errors[url] = str(exc)
        return self.pages[url]

    def check(self, href: str) -> str | None:
        """None when `href` resolves, else what is wrong."""
        url, _, fragment = href.partition("#")
        body = self._get(url)
        if body is None:
            return f"{href}: {self.errors[url]}"
        if fragment and body and urllib.parse.unquote(fragment) not in _ids(body):
            return f"{href}: no element with id {urllib.parse.unquote(fragment)!r} on that page"
        return None


def check_site(root: Path, shots: Path, log=print) -> dict:
    """Run every check on the site in `root`; returns {"problems": [...], totals...}."""
    from playwright.sync_api import sync_playwright

    root = Path(root).resolve()
    manifest_path = root / "site-manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} not found: build the site first (`make site`)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html"))
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not found on PATH: apt-get install -y chromium")
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("**/*.png"):
        old.unlink()
    for width, _ in WIDTHS.values():
        (shots / str(width)).mkdir(exist_ok=True)
    machine = [str(REPO)] + ([str(Path.home())] if len(str(Path.home())) > 1 else [])

    problems: list[str] = []
    report: dict[str, dict] = {}          # per page, written to DIR/report.json beside the screenshots
    totals = {"pages": 0, "figures": 0, "images": 0, "maths": 0, "links": 0, "external_blocked": 0}
    missing = sorted(set(manifest.get("chapters", {})) - set(pages))
    problems += [f"{p}: chapter in site-manifest.json but not in the site" for p in missing]
    for page in pages:
        for url in external_loads((root / page).read_text(encoding="utf-8")):
            problems.append(f"{page}: loads {url} from another host")

    server, base = serve(root)
    links = LinkChecker(base)
    checked_links: set[str] = set()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="minirl-chromium-") as profile:
            laptop = {"width": WIDTHS["laptop"][0], "height": WIDTHS["laptop"][1]}
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
                viewport=laptop, service_workers="block")
            events: list[str] = []

            def route(r):
                url = r.request.url
                if url.startswith((base, "data:", "blob:")):
                    r.continue_()
                else:
                    events.append(f"request to another host blocked: {url[:120]}")
                    totals["external_blocked"] += 1
                    r.abort()

            context.route("**/*", route)
            page_obj = context.pages[0] if context.pages else context.new_page()
            page_obj.on("console", lambda m: events.append(f"console {m.type}: {m.text[:200]}")
                        if m.type == "error" else None)
            page_obj.on("pageerror", lambda e: events.append(f"page error: {str(e)[:200]}"))
            page_obj.on("requestfailed", lambda r: events.append(
                f"request failed: {r.url[:120]} ({r.failure})") if r.url.startswith(base) else None)
            page_obj.on("response", lambda r: events.append(f"HTTP {r.status}: {r.url[:120]}")
                        if r.status >= 400 else None)

            for page in pages:
                events.clear()
                page_obj.set_viewport_size(laptop)
                page_obj.goto(base + page, wait_until="networkidle", timeout=60_000)
                page_obj.evaluate("document.fonts.ready")
                info = page_obj.evaluate(_PAGE_JS)
                content = page_obj.evaluate(_CONTENT_JS, {"paths": machine, "absPath": _ABS_PATH})
                shot_name = page[:-len(".html")].replace("/", "__") + ".png"
                legibility = {}
                for label, (width, height) in WIDTHS.items():
                    if label != "laptop":
                        page_obj.set_viewport_size({"width": width, "height": height})
                        page_obj.wait_for_timeout(150)
                    legibility[label] = page_obj.evaluate(_LEGIBLE_JS)
                    page_obj.screenshot(path=str(shots / str(width) / shot_name), full_page=True)
                found = [f"{page}: {e}" for e in events]
                for label, (width, _) in WIDTHS.items():
                    found += [f"{page} at {width} px: {p}" for p in dict.fromkeys(legibility[label]["found"])]
                found += [f"{page}: {p}" for p in content["found"]]
                chapter_page = page in manifest.get("chapters", {})
                if manifest.get("mode") == "fast" and chapter_page and FAST_BANNER not in content["banners"]:
                    found.append(f"{page}: a chapter of a fast-mode site without the banner \"{FAST_BANNER}\"")
                if manifest.get("mode") == "full" and content["banners"]:
                    found.append(f"{page}: a full-mode site page shows the fast-mode banner")
                if content["answers"]:
                    needed = max(content["answers"])
                    if not any(ol["style"] == "decimal" and ol["start"] == 1 and ol["items"] >= needed
                               for ol in content["lists"]):
                        styles = sorted({ol["style"] for ol in content["lists"]}) or ["no numbered list"]
                        found.append(f"{page}: the answers go up to question {needed}, but no list numbers its "
                                     f"questions 1 to {needed} ({', '.join(styles)})")

                for img in info["imgs"]:
                    if not img["complete"] or img["w"] == 0 or img["h"] == 0:
                        found.append(f"{page}: image not shown ({img['w']}x{img['h']}): {img['src'][:80]}")
                pngs = [i for i in info["imgs"] if i["chapter"] and i["w"] > 0 and
                        (i["src"].startswith("data:image/png") or i["src"].lower().endswith(".png"))]
                chapter = manifest.get("chapters", {}).get(page)
                if chapter is not None:
                    if chapter["figures"] < 1:
                        found.append(f"{page}: its executed notebook holds no PNG figure")
                    if len(pngs) != chapter["figures"]:
                        found.append(f"{page}: {len(pngs)} PNG figures shown, its notebook holds {chapter['figures']}")
                    if "make lab" not in info["articleText"]:
                        found.append(f"{page}: does not say how to run the lesson (`make lab`)")

                source_text = _STRIP.sub("", (root / page).read_text(encoding="utf-8"))
                if _MATH_IN_HTML.search(source_text) and info["katex"] == 0:
                    found.append(f"{page}: has maths but no KaTeX element was rendered")
                found += [f"{page}: KaTeX error in {e!r}" for e in info["katexErrors"]]
                if info["rawCount"]:
                    found.append(f"{page}: {info['rawCount']} maths delimiters left as text, e.g. {info['raw']}")
                if info["textLength"] < MIN_TEXT and page != "404.html":
                    found.append(f"{page}: only {info['textLength']} characters of text (a stub?)")

                n_links = 0
                for href in info["links"]:
                    if not href.startswith(base):
                        continue
                    n_links += 1
                    if href in checked_links:
                        continue
                    checked_links.add(href)
                    wrong = links.check(href)
                    if wrong:
                        found.append(f"{page}: broken link {wrong}")
                log(f"{'ok  ' if not found else 'FAIL'} {page}: {len(pngs)} figures, {info['katex']} maths, "
                    f"{n_links} internal links" + (f", {len(found)} problems" if found else ""))
                problems += found
                report[page] = {"screenshot": shot_name, "figures": len(pngs), "maths": info["katex"],
                                "internal_links": n_links, "text_chars": info["textLength"],
                                "image_top_px": [i["y"] for i in info["imgs"]],
                                "figure_widths": {str(WIDTHS[k][0]): v["figures"] for k, v in legibility.items()},
                                "problems": found}
                totals["pages"] += 1
                totals["figures"] += len(pngs)
                totals["images"] += len(info["imgs"])
                totals["maths"] += info["katex"]
                totals["links"] += n_links
            context.close()
    finally:
        server.shutdown()
        server.server_close()
    (shots / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    totals["unique_links"] = len(checked_links)
    totals["problems"] = problems
    totals["mode"] = manifest.get("mode")
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path, default=REPO / "site", help="the built site (default: site/)")
    parser.add_argument("--shots", type=Path, default=REPO / "build" / "site-shots",
                        help="folder for a full-page screenshot of each page at each width, in 1280/ and 390/ "
                             "(default: build/site-shots/)")
    args = parser.parse_args(argv)
    try:
        from minirl.outputs import OutputPathError, check_out_dir
        check_out_dir(args.shots, flag="--shots")
    except OutputPathError as exc:
        print(f"minirl site-check: error: {exc}", file=sys.stderr)
        return 2
    try:
        result = check_site(args.site, args.shots)
    except FileNotFoundError as exc:
        print(f"minirl site-check: error: {exc}", file=sys.stderr)
        return 2
    problems = result.pop("problems")
    print(f"site-check: {result['pages']} pages ({result['mode']} mode), {result['figures']} notebook figures "
          f"loaded, {result['maths']} maths elements rendered, {result['links']} internal links "
          f"({result['unique_links']} distinct) resolved; screenshots in {args.shots}")
    if problems:
        print(f"site-check: {len(problems)} problems:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

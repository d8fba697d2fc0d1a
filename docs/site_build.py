"""Build the course website into site/: `make site` (full mode) or `make site FAST=1`.

    python docs/site_build.py [--fast] [--out site] [--katex DIR] [--repo-url URL]

What goes in (found on disk, so new lessons and modules appear without editing this file):

| page | from |
|---|---|
| home (`index`) | docs/pages/index.md, the course's landing page: what you learn, what you need, the lessons (a table built from the chapters), how to get the code (`git clone` of `--repo-url`) and work an exercise |
| readme | README.md, relative links rewritten to site pages |
| chapters/NN_topic | every notebooks/*.ipynb, executed (docs/notebook_cache.py reuses the test suite's outputs and executes only what is missing or stale), with a box on top: how to run it locally and links to its exercise file and tests; in fast mode a banner says the page is not for reading. Outputs are cleaned of the build machine's paths |
| exercises | docs/pages/exercises.md and a table of the lessons (minirl.exercises.LESSONS, tests/exercises/test_lessonNN_*.py) |
| benchmarks, contributing | benchmarks/README.md, CONTRIBUTING.md |
| api/... | one page per top-level module or sub-package of minirl/, rendered by mkdocstrings from the docstrings |
| files/... | each lesson stub (lessons/...) and exercise test file (tests/exercises/...), as highlighted source |

The pages are assembled in build/site-src/docs with a generated mkdocs.yml (docs/mkdocs.yml plus
the nav), KaTeX is copied in from the npm package the Makefile installs into build/katex, and
`mkdocs build --strict` writes site/. The repository's URL (the home page's `git clone`, the
header's link) is `--repo-url`, by default the `REPO_URL` environment variable (`make site
REPO_URL=https://...`) or else the checkout's `origin` remote. site/site-manifest.json lists the pages and, per chapter, the
number of PNG figures its executed notebook holds, for docs/site_check.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS))
import notebook_cache  # noqa: E402

KATEX_DEFAULT = REPO / "build" / "katex" / "node_modules" / "katex" / "dist"
SRC_DEFAULT = REPO / "build" / "site-src"
MANIFEST = "site-manifest.json"

# Repository documents that become pages (repository path -> page path in the site's docs dir).
DOCUMENTS = {"README.md": "readme.md", "CONTRIBUTING.md": "contributing.md",
             "benchmarks/README.md": "benchmarks.md"}
FAST_BANNER = "fast mode: budgets shrunk for CI; not for reading"
LESSON_RE = re.compile(r"^(\d+)_")
LINK_RE = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)((?:\s+\"[^\"]*\")?)\)")


# ------------------------------------------------------------------------------------- helpers
def rel(target: str, from_page: str) -> str:
    """Relative URL from the page `from_page` to `target` (both paths inside the docs dir)."""
    return os.path.relpath(target, os.path.dirname(from_page) or ".").replace(os.sep, "/")


def html_of(page: str) -> str:
    """The URL mkdocs gives a page with use_directory_urls: false (.md and .ipynb become .html)."""
    return re.sub(r"\.(md|ipynb)(?=$|#)", ".html", page)


def source_page(repo_path: str) -> str:
    """The page that shows a repository source file: files/<path>.md (lessons/returns.py -> files/lessons/returns.md)."""
    return "files/" + re.sub(r"\.py$", ".md", repo_path)


def source_text(repo_path: str) -> str | None:
    """The text of a repository source file; a lesson file (`lessons/...`) is its fresh stub as
    generated, never what a learner's course folder on this machine holds (None if there is none)."""
    if repo_path.startswith("lessons/"):
        from minirl.exercises import LESSONS, lesson_stub
        lesson = next((les for les in LESSONS if f"lessons/{les.module}" == repo_path), None)
        return lesson_stub(lesson) if lesson is not None else None
    path = REPO / repo_path
    return path.read_text(encoding="utf-8") if path.is_file() else None


def fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def first_heading(nb_node) -> str:
    for cell in nb_node.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def png_count(nb_node) -> int:
    """PNG figures a notebook shows: its image/png outputs, and the PNGs inlined in its HTML outputs
    (a learning curve beside a GIF of the agent, `minirl.plotting.watch`)."""
    count = 0
    for cell in nb_node.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            count += "image/png" in data
            html = data.get("text/html", "")
            count += ("".join(html) if isinstance(html, list) else html).count('src="data:image/png')
    return count


def fast_banner() -> str:
    """The banner on top of every chapter (and the home page) of a fast-mode site."""
    return f'<div class="minirl-fast-banner" markdown="0">{FAST_BANNER}</div>'


def lesson_plan(nb_node) -> dict:
    """{"difficulty": "★★☆", "study": "2–3 hours"} from a lesson's first cell (empty strings if absent)."""
    first = next((c.source for c in nb_node.cells if c.cell_type == "markdown"), "")
    stars = re.search(r"\*\*Difficulty\.\*\*\s*([★☆]+)", first)
    study = re.search(r"\*\*Study time\.\*\*\s*(?:About\s+)?([^,\n]+?)(?:,|\.(?:\s|$))", first)
    return {"difficulty": stars[1] if stars else "", "study": study[1].strip() if study else ""}


def machine_paths() -> list[str]:
    """Absolute paths of the build machine that must not appear on a page: the checkout, the home
    folder, the temporary folder (longest first, so the most specific one is replaced)."""
    import tempfile
    paths = {str(REPO), str(Path.home()), tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
    return sorted((p.rstrip("/") for p in paths if p and p.rstrip("/") not in ("", "/")), key=len, reverse=True)


def clean_text(text: str) -> str:
    """`text` with the build machine's paths made relative: the checkout's path is dropped (a file of the
    repository is shown from its root, `lessons/returns.py`), any other becomes `~` or `<tmp>`."""
    for path in machine_paths():
        if path == str(REPO):
            text = text.replace(path + "/", "")
            text = re.sub(re.escape(path) + r"(?![\w-]|\.\w)", ".", text)
        else:
            name = "~" if path == str(Path.home()) else "<tmp>"
            text = re.sub(re.escape(path) + r"(?![\w-]|\.\w)", name, text)
    return text


def clean_outputs(nb_node) -> list[str]:
    """Remove the build machine's paths from every text output of an executed notebook (in place);
    returns a warning per raw stderr output (a warning box on the page: say it in prose instead)."""
    found = []
    for i, cell in enumerate(nb_node.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                out["text"] = clean_text(out.get("text", ""))
                if out.get("name") == "stderr":
                    found.append(f"cell {i} writes to stderr (a raw warning box on the page): "
                                 f"{out['text'].strip().splitlines()[0][:120] if out['text'].strip() else ''}")
            for mime in ("text/plain", "text/html", "text/markdown"):
                data = out.get("data", {})
                if mime in data:
                    value = data[mime]
                    data[mime] = clean_text("".join(value) if isinstance(value, list) else value)
    return found


# ------------------------------------------------------------------------------------- the pages
class Site:
    """Collects the pages of the site in `docs_dir` while the build assembles them."""

    def __init__(self, docs_dir: Path, mode: str, repo_url: str = ""):
        self.docs = docs_dir
        self.mode = mode
        self.repo_url = repo_url
        self.source_files: set[str] = set()    # repository .py files that get a files/ page
        self.chapters: list[dict] = []
        self.warnings: list[str] = []

    def write(self, page: str, text: str) -> None:
        path = self.docs / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def page_for(self, repo_path: str) -> str | None:
        """The site page of a repository path, or None when the site has no page for it."""
        if repo_path in DOCUMENTS:
            return DOCUMENTS[repo_path]
        if repo_path.startswith("notebooks/") and repo_path.endswith(".ipynb"):
            return "chapters/" + repo_path.split("/", 1)[1]
        if repo_path.endswith(".py") and source_text(repo_path) is not None:
            self.source_files.add(repo_path)
            return source_page(repo_path)
        return None

    def rewrite_links(self, text: str, repo_path: str, page: str) -> str:
        """Markdown links and images of a repository document, pointed at the site's pages.

        A link to a document the site has becomes a link to its page; an image in the repository is
        copied next to the pages; a link to anything else in the repository (or outside it) is
        replaced by its text in code style, since the site cannot serve it. Links with a scheme
        (https:, mailto:) and in-page anchors are kept.
        """
        base = os.path.dirname(repo_path)

        def fix(m: re.Match) -> str:
            bang, label, target, title = m.groups()
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
                return m.group(0)
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(base, path)).replace(os.sep, "/")
            if bang:
                if (REPO / resolved).is_file() and not resolved.startswith(".."):
                    dest = "repo/" + resolved
                    (self.docs / dest).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(REPO / resolved, self.docs / dest)
                    return f"![{label}]({rel(dest, page)}{title})"
                self.warnings.append(f"{repo_path}: image {target} is not in the repository; left out")
                return f"*(figure: {label or target})*"
            target_page = None if resolved.startswith("..") else self.page_for(resolved)
            if target_page is None:
                self.warnings.append(f"{repo_path}: link to {target} has no page on the site; shown as text")
                return f"{label} (`{target}`)" if label and label != target else f"`{target}`"
            return f"[{label}]({rel(target_page, page)}{'#' + anchor if anchor else ''}{title})"

        return LINK_RE.sub(fix, text)

    # -- documents
    def add_documents(self) -> None:
        for repo_path, page in DOCUMENTS.items():
            text = (REPO / repo_path).read_text(encoding="utf-8")
            self.write(page, self.rewrite_links(text, repo_path, page))

    # -- the home page
    def add_home(self) -> None:
        """docs/pages/index.md with its lesson table and `git clone` filled in."""
        text = (DOCS / "pages" / "index.md").read_text(encoding="utf-8")
        rows = ["| lesson | you write | difficulty | study time | runs (this build) |", "|---|---|---|---|---|"]
        for ch in self.chapters:
            exercise, _, _ = self.lesson_files(ch["number"])
            own = (f"[`{exercise}`]({rel(self.page_for(exercise), 'index.md')})"
                   if exercise and (REPO / exercise).is_file() else "—")
            minutes = ch["seconds"] / 60
            runs = f"{ch['seconds']:.0f} s" if minutes < 1.5 else f"{minutes:.0f} min"
            rows.append(f"| [{ch['nav']}]({ch['page']}) | {own} | {ch['plan']['difficulty'] or '—'} | "
                        f"{ch['plan']['study'] or '—'} | {runs} |")
        note = ("Run times are those of this site's build, in " + ("full mode (every budget as written)"
                if self.mode == "full" else "fast mode (budgets shrunk for CI)") + ", on one core.")
        url = self.repo_url or "<URL of this repository>"
        clone = ("```sh\n"
                 f"git clone {url} minirl\n"
                 "cd minirl\n"
                 "make setup                   # once: .venv with minirl, pytest and Jupyter's kernel\n"
                 "source .venv/bin/activate    # in every new terminal\n"
                 "make lab                     # JupyterLab on the notebooks: open notebooks/01_autograd.ipynb\n"
                 "```\n")
        if not self.repo_url:
            self.warnings.append("no repository URL (make site REPO_URL=https://...): the home page says "
                                 f"`git clone {url}`")
        text = text.replace("<!-- minirl:lessons -->", "\n".join(rows) + "\n\n" + note)
        text = text.replace("<!-- minirl:clone -->", clone)
        if self.mode == "fast":
            text = fast_banner() + "\n\n" + text
        self.write("index.md", text)

    # -- chapters
    def add_chapters(self, notebooks: list[Path]) -> None:
        import nbformat
        for nb_path in notebooks:
            node = notebook_cache.load_fresh(nb_path, self.mode)
            if node is not None:
                seconds = node.metadata[notebook_cache.META_KEY]["seconds"]
                print(f"site: {nb_path.name}: reusing its {self.mode}-mode outputs "
                      f"(executed in {seconds:.0f} s)", flush=True)
            else:
                print(f"site: {nb_path.name}: executing in {self.mode} mode ...", flush=True)
                node, seconds = notebook_cache.execute(nb_path, self.mode)
                print(f"site: {nb_path.name}: executed in {seconds:.0f} s", flush=True)
            match = LESSON_RE.match(nb_path.name)        # "07_learning_models.ipynb" -> lesson "07"
            number = match[1] if match else None
            page = "chapters/" + nb_path.name
            plan = lesson_plan(node)
            self.warnings += [f"{nb_path.name}: {w}" for w in clean_outputs(node)]
            node.cells.insert(1 if node.cells else 0,
                              nbformat.v4.new_markdown_cell(self.chapter_box(nb_path, number, seconds, page)))
            if self.mode == "fast":
                node.cells.insert(0, nbformat.v4.new_markdown_cell(fast_banner()))
            node.metadata.pop(notebook_cache.META_KEY, None)
            self.write(page, nbformat.writes(node))
            title = first_heading(node) or nb_path.stem
            short = re.sub(r"^Lesson\s+\d+\s*[—–:-]\s*", "", title)
            self.chapters.append({"page": page, "notebook": f"notebooks/{nb_path.name}", "number": number,
                                  "title": title, "nav": f"{number} {short}" if number else short,
                                  "figures": png_count(node), "seconds": round(seconds, 1),
                                  "plan": plan})

    def lesson_files(self, number: str | None) -> tuple[str | None, list[str], str | None]:
        """(exercise file, exercise test files, reference module) of a lesson, from the repository."""
        if number is None:
            return None, [], None
        from minirl.exercises import LESSONS
        lesson = next((les for les in LESSONS if int(les.number) == int(number)), None)
        tests = sorted(p.relative_to(REPO).as_posix()
                       for p in (REPO / "tests" / "exercises").glob(f"test_lesson{int(number):02d}_*.py"))
        if lesson is None:
            return None, tests, None
        return f"lessons/{lesson.module}", tests, "minirl." + lesson.dotted

    def chapter_box(self, nb_path: Path, number: str | None, seconds: float, page: str) -> str:
        """The markdown cell on top of a chapter: how to run it, its exercise and tests (HTML links)."""
        mode = ("**full mode** (every budget as written)" if self.mode == "full" else
                "**fast mode** (`MINIRL_FAST=1`: small budgets, so curves are short and noisy; the sentences "
                "under the figures describe this run, and the chapter ends with what it cannot show)")
        lines = [f"> **Run this lesson yourself.** This page is `notebooks/{nb_path.name}`, executed in "
                 f"{mode} in {seconds:.0f} s on the machine that built the site. From the repository "
                 f"root ([get the code]({html_of(rel('index.md', page))}#get-the-code)), `make lab` opens it "
                 f"in Jupyter with minirl's environment as kernel "
                 f"([this page as a notebook, with its outputs]({nb_path.name})).", ">"]
        exercise, tests, module = self.lesson_files(number)
        parts = []
        if exercise:
            exists = source_text(exercise) is not None
            target = html_of(rel(self.page_for(exercise), page)) if exists else None
            parts.append(f"your exercise file [`{exercise}`]({target})" if target else f"your exercise file `{exercise}`")
        for test in tests:
            parts.append(f"its tests [`{test}`]({html_of(rel(self.page_for(test), page))})")
        if module:
            parts.append(f"the reference [`{module}`]({html_of(rel(self.api_anchor(module), page))})")
        if parts:
            lines.append(f"> **Lesson {number}:** " + "; ".join(parts) + ". Check your code with "
                         f"`minirl exercises check {int(number):02d}` (or "
                         f"`pytest --impl lessons -m lesson{int(number):02d}`), with the environment "
                         f"`make setup` made active (`source .venv/bin/activate`; "
                         f"[how to work the exercises]({html_of(rel('exercises.md', page))})).")
        else:
            lines.append(f"> This chapter has no exercise file; [how the exercises work]"
                         f"({html_of(rel('exercises.md', page))}).")
        return "\n".join(lines)

    # -- API reference
    def api_pages(self) -> list[tuple[str, str, list[str]]]:
        """(page, title, modules) per top-level module and per sub-package of minirl (private ones skipped)."""
        pkg = REPO / "minirl"
        pages = []
        for path in sorted(pkg.iterdir()):
            if path.name.startswith("_"):
                continue
            if path.suffix == ".py":
                pages.append((f"api/{path.stem}.md", f"minirl.{path.stem}", [f"minirl.{path.stem}"]))
            elif path.is_dir() and (path / "__init__.py").is_file():
                modules = []
                for py in sorted(path.rglob("*.py")):
                    parts = py.relative_to(REPO).with_suffix("").parts
                    if parts[-1] == "__init__":
                        parts = parts[:-1]
                    elif parts[-1].startswith("_"):
                        continue
                    if any(p.startswith("_") or p == "__pycache__" for p in parts):
                        continue
                    modules.append(".".join(parts))
                pages.append((f"api/{path.name}.md", f"minirl.{path.name}", sorted(modules)))
        return pages

    def api_anchor(self, module: str) -> str:
        """page#anchor of a module in the API reference ("minirl.algos.ppo_loss" -> api/algos.md#...)."""
        top = module.split(".")[1]
        return f"api/{top}.md" + ("" if module.count(".") == 1 else f"#{module}")

    def add_api(self) -> list[tuple[str, str]]:
        rows, nav = [], []
        for page, title, modules in self.api_pages():
            blocks = []
            for i, module in enumerate(modules):
                level = 1 if i == 0 else 2
                blocks.append(f"::: {module}\n    options:\n      heading_level: {level}\n")
            self.write(page, "\n".join(blocks))
            nav.append((title, page))
            for module in modules:
                rows.append(f"| [`{module}`]({rel(self.api_anchor(module), 'api/index.md')}) | "
                            f"{module_summary(module)} |")
        self.write("api/index.md", "# API reference\n\nGenerated from the docstrings by mkdocstrings. "
                   "Each docstring states the equation it implements and a table of symbols and shapes; "
                   "this page lists the modules with the first line of each.\n\n"
                   "| module | what |\n|---|---|\n" + "\n".join(rows) + "\n")
        return nav

    # -- exercises page and source files
    def add_exercises(self) -> None:
        text = (DOCS / "pages" / "exercises.md").read_text(encoding="utf-8")
        rows = ["| lesson | chapter | your file | its tests |", "|---|---|---|---|"]
        for ch in self.chapters:
            exercise, tests, _ = self.lesson_files(ch["number"])
            if not exercise:
                continue
            own = (f"[`{exercise}`]({rel(self.page_for(exercise), 'exercises.md')})"
                   if source_text(exercise) is not None else f"`{exercise}`")
            test_links = ", ".join(f"[`{t.split('/')[-1]}`]({rel(self.page_for(t), 'exercises.md')})" for t in tests)
            short = ch["nav"].split(" ", 1)[-1]
            rows.append(f"| {ch['number']} | [{short}]({rel(ch['page'], 'exercises.md')}) | {own} | "
                        f"{test_links or '-'} |")
        self.write("exercises.md", text.rstrip() + "\n\n" + "\n".join(rows) + "\n")

    def add_source_pages(self) -> None:
        for repo_path in sorted(self.source_files):
            text = source_text(repo_path)
            page = source_page(repo_path)
            if repo_path.startswith("lessons/"):
                what = ("Your copy in your course folder, as `minirl course start` writes it: the lines "
                        "`raise NotImplementedError(...)` are what you replace. The reference is "
                        f"`minirl/{repo_path.split('/', 1)[1]}`.")
            elif repo_path.startswith("tests/exercises/"):
                what = ("Exercise tests: they check the reference by default and your file in "
                        "`lessons/` with `--impl lessons`.")
            else:
                what = "Source file of the repository."
            f = fence(text)
            self.write(page, f"# {repo_path}\n\n{what}\n\n{f}python\n{text}{f}\n")

    # -- configuration
    def write_config(self, src: Path, out: Path, api_nav) -> Path:
        config = (DOCS / "mkdocs.yml").read_text(encoding="utf-8")
        nav = [
            {"Home": "index.md"},
            {"How to work the exercises": "exercises.md"},
            {"Chapters": [{ch["nav"]: ch["page"]} for ch in self.chapters]},
            {"Benchmarks": "benchmarks.md"},
            {"API reference": [{"Overview": "api/index.md"}] + [{t: p} for t, p in api_nav]},
            {"Contributing": "contributing.md"},
            {"The repository (README)": "readme.md"},
        ]
        hooks = (DOCS / "site_hooks.py").as_posix()
        config = config.replace("  - site_hooks.py", f"  - {json.dumps(hooks)}")
        path = src / "mkdocs.yml"
        if self.repo_url:
            config += f"\nrepo_url: {json.dumps(self.repo_url)}\nrepo_name: {json.dumps(repo_name(self.repo_url))}\n"
        path.write_text(config + "\n" + f"docs_dir: {json.dumps(str(self.docs))}\n"
                        f"site_dir: {json.dumps(str(out))}\n" + "nav: " + json.dumps(nav, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path


def repo_name(url: str) -> str:
    """What the header shows for the repository link: "owner/name" of its URL (https://host/you/minirl.git
    or git@host:you/minirl.git -> "you/minirl")."""
    path = re.sub(r"(\.git)?/*$", "", re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+/|^[^@/]+@[^:]+:", "", url.strip(), flags=re.I))
    return "/".join(path.split("/")[-2:]) or url


def module_summary(module: str) -> str:
    """First line of a module's docstring, read with ast (nothing imported)."""
    import ast
    parts = module.split(".")
    path = REPO.joinpath(*parts).with_suffix(".py")
    if not path.is_file():
        path = REPO.joinpath(*parts, "__init__.py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0].replace("|", "\\|") if doc.strip() else ""


# ------------------------------------------------------------------------------------- main
def web_url(remote: str) -> str:
    """The web address of a git remote, or "" when it has none: https://host/you/minirl.git stays,
    git@host:you/minirl.git becomes https://host/you/minirl.git, and a local path or file:// remote (a
    clone of a clone, as CI's) has no address a reader could open."""
    remote = remote.strip()
    if re.match(r"^https?://[^/\s]+/\S+$", remote, flags=re.I):
        return remote
    scp = re.match(r"^[^@/\s]+@([^:/\s]+):(?!/)(\S+)$", remote)
    return f"https://{scp.group(1)}/{scp.group(2)}" if scp else ""


def default_repo_url() -> str:
    """REPO_URL from the environment (`make site REPO_URL=...`), else the web address of the checkout's
    origin remote, else "" (the home page then says where the URL goes)."""
    url = os.environ.get("REPO_URL", "").strip()
    if url:
        return url
    try:
        proc = subprocess.run(["git", "-C", str(REPO), "remote", "get-url", "origin"], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return web_url(proc.stdout) if proc.returncode == 0 else ""


def build(out: Path, mode: str, katex: Path, src: Path = SRC_DEFAULT, notebooks=None, repo_url: str = "") -> dict:
    """Assemble the pages in `src`, run mkdocs into `out`; returns the manifest."""
    if not (katex / "katex.min.js").is_file():
        raise SystemExit(f"site: error: KaTeX not found in {katex}; `make site` installs it from npm "
                         "(npm install --prefix build/katex katex@VERSION)")
    start = time.perf_counter()
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb")) if notebooks is None else notebooks
    if src.exists():
        shutil.rmtree(src)
    site = Site(src / "docs", mode, repo_url)
    site.add_chapters(notebooks)
    executed_s = time.perf_counter() - start
    site.add_home()
    site.add_documents()
    site.add_exercises()
    api_nav = site.add_api()
    site.add_source_pages()
    shutil.copytree(katex, site.docs / "assets" / "katex",
                    ignore=shutil.ignore_patterns("*.mjs", "*.js.map", "README.md", "katex.js", "katex.css",
                                                  "katex-swap*"))
    for asset in (DOCS / "assets").iterdir():
        shutil.copy(asset, site.docs / "assets" / asset.name)
    config = site.write_config(src, out, api_nav)
    for warning in site.warnings:
        print(f"site: warning: {warning}", file=sys.stderr)
    if out.exists():
        shutil.rmtree(out)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config)],
                          cwd=src, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    if proc.returncode != 0:
        raise SystemExit(f"site: error: mkdocs build failed (exit {proc.returncode}); config {config}")
    manifest = {"mode": mode, "built": time.strftime("%Y-%m-%d %H:%M:%S"),
                "pages": sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")),
                "chapters": {html_of(ch["page"]): {k: ch[k] for k in ("notebook", "title", "figures", "seconds", "number")}
                             for ch in site.chapters},
                "notebook_seconds": round(sum(ch["seconds"] for ch in site.chapters), 1),
                "build_seconds": round(time.perf_counter() - start, 1),
                "execute_or_reuse_seconds": round(executed_s, 1)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="notebooks in fast mode (MINIRL_FAST=1), as CI builds it")
    parser.add_argument("--out", type=Path, default=REPO / "site", help="output folder (default: site/)")
    parser.add_argument("--katex", type=Path, default=KATEX_DEFAULT, help="KaTeX's dist folder (from npm)")
    parser.add_argument("--repo-url", default=None,
                        help="the repository's URL, for the home page's `git clone` (default: $REPO_URL, else "
                             "the origin remote)")
    args = parser.parse_args(argv)
    given = default_repo_url() if args.repo_url is None else args.repo_url
    repo_url = web_url(given)                    # git@host:owner/name as its https address
    if given and not repo_url:
        print(f"minirl site: error: the repository URL {given!r} is not a web address: give "
              "https://host/owner/name (make site REPO_URL=... or --repo-url)", file=sys.stderr)
        return 2
    out = args.out.resolve()
    if REPO.is_relative_to(out) or any(out.is_relative_to(REPO / d) for d in
                                       ("docs", "notebooks", "minirl", "tests", "lessons", "benchmarks")):
        print(f"minirl site: error: --out {args.out} would replace the repository's own files; "
              "give a folder of its own (default: site/)", file=sys.stderr)
        return 2
    from minirl.outputs import OutputPathError, check_out_dir
    try:
        check_out_dir(out)
    except OutputPathError as exc:
        print(f"minirl site: error: {exc}", file=sys.stderr)
        return 2
    mode = "fast" if args.fast else "full"
    manifest = build(out, mode, args.katex.resolve(), repo_url=repo_url)
    print(f"site: {len(manifest['pages'])} pages, {len(manifest['chapters'])} chapters ({mode} mode, "
          f"notebooks {manifest['notebook_seconds']:.0f} s of execution), built in "
          f"{manifest['build_seconds']:.0f} s into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

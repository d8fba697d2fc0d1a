"""The course website's build (docs/site_build.py) and its browser check (docs/site_check.py).

The real site is built and checked by `make site FAST=1` and `make site-check`, which .ci/run runs
after `make test` (they reuse the notebooks this suite executes). Here:

* the pieces of the build that need no browser: CDN loaders stripped, links rewritten, executed
  notebooks reused only while fresh, every lesson's chapter box says how to run it and links files
  that exist;
* outputs cleaned of the build machine's paths, the home page's lesson table and `git clone`, the
  fast-mode banner, each PNG figure's legible width (docs/site_hooks.py);
* the checker itself, in headless chromium, on a small hand-made site: a clean site passes at both
  widths, and each kind of defect it must catch (console error, request to another host, broken
  image, missing figure, raw maths, broken link or anchor, stub page; at 1280 and 390 px: a block cut
  off or wrapping inside its lines, an equation cut off, a page wider than the screen, a figure below
  its legible width; an absolute path, a raw warning box, a missing or stray banner, questions numbered otherwise than
  their answers) is reported. Skipped when chromium or playwright (the `docs` extra) is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "docs"))
import notebook_cache  # noqa: E402
import site_hooks  # noqa: E402

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


# ------------------------------------------------------------------------------ no browser needed
def test_cdn_loaders_are_stripped_and_remaining_remote_loads_found():
    page = ('<head><!-- Load mathjax --><script src="https://cdnjs.cloudflare.com/mathjax.js"> </script>'
            '<script type="text/x-mathjax-config">init_mathjax()</script>'
            '<!-- End of mathjax configuration -->'
            '<script src="https://cdn.example.org/require.min.js"></script>'
            '<script type="module">const m = (await import("https://cdnjs.x/mermaid.mjs")).default;</script>'
            '<script src="assets/site.js"></script></head>'
            '<body><a href="https://arxiv.org/abs/1707.06347">PPO</a></body>')
    clean = site_hooks.strip_remote_loaders(page)
    assert "mathjax" not in clean.lower() and "require.min.js" not in clean and "mermaid" not in clean
    assert '<script src="assets/site.js"></script>' in clean, "a local script was removed"
    assert site_hooks.external_loads(clean) == [], "a link to another site is not a load"
    assert set(site_hooks.external_loads(page)) == {
        "https://cdnjs.cloudflare.com/mathjax.js", "https://cdn.example.org/require.min.js",
        "https://cdnjs.x/mermaid.mjs"}
    assert site_hooks.external_loads('<link rel="stylesheet" href="//fonts.example/css">'
                                      '<style>@import "https://x.org/a.css"; b{background:url(https://x.org/i.png)}</style>'
                                      '<img src="http://x.org/i.png">') == [
        "http://x.org/i.png", "//fonts.example/css", "https://x.org/i.png", "https://x.org/a.css"]


@pytest.fixture
def site_build():
    pytest.importorskip("nbformat")
    import site_build
    return site_build


def test_links_of_repository_documents_point_at_site_pages(site_build, tmp_path):
    site = site_build.Site(tmp_path, "fast")
    nb = NOTEBOOKS[0].name if NOTEBOOKS else "01_autograd.ipynb"
    # a missing image no command writes (runs/demo/compare.png was one until `make demo` wrote it: a
    # test must not depend on what the working tree holds)
    missing = "docs/assets/missing-on-purpose-for-test-site.png"
    assert not (REPO / missing).exists(), f"{missing} must not exist: this test needs a missing image"
    text = ("[contributing](CONTRIBUTING.md) [lesson](notebooks/" + nb + "#set-up) [code](minirl/returns.py) "
            "[design](../shared/DESIGN.md) [paper](https://arxiv.org/abs/1707.06347) [here](#top) "
            f"![missing]({missing})")
    out = site.rewrite_links(text, "README.md", "index.md")
    assert "[contributing](contributing.md)" in out
    assert f"[lesson](chapters/{nb}#set-up)" in out
    assert "[code](files/minirl/returns.md)" in out and "minirl/returns.py" in site.source_files
    assert "[design]" not in out and "`../shared/DESIGN.md`" in out, "a file outside the site stays text"
    assert "[paper](https://arxiv.org/abs/1707.06347)" in out and "[here](#top)" in out
    assert "![missing]" not in out and len(site.warnings) == 2
    # from a page one folder down, and an image that exists is copied next to the pages
    out = site.rewrite_links("[b](../CONTRIBUTING.md) ![logo](../docs/assets/site.css)", "benchmarks/README.md",
                             "sub/page.md")
    assert "[b](../contributing.md)" in out and "![logo](../repo/docs/assets/site.css)" in out
    assert (tmp_path / "repo" / "docs" / "assets" / "site.css").is_file()


def test_executed_notebook_is_reused_only_while_fresh(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    source = tmp_path / "99_probe.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nbformat.write(nb, source)
    build = tmp_path / "build"
    assert notebook_cache.load_fresh(source, "fast", build) is None, "nothing stored yet"
    executed = nbformat.read(source, as_version=4)
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    path = notebook_cache.store(executed, source, "fast", 1.5, build=build)
    assert path == build / "fast" / "99_probe.ipynb"
    again = notebook_cache.load_fresh(source, "fast", build)
    assert again is not None and again.cells[0].outputs[0].text == "1\n"
    assert again.metadata[notebook_cache.META_KEY]["seconds"] == 1.5
    assert notebook_cache.load_fresh(source, "full", build) is None, "fast outputs are not full-mode outputs"
    injected = nbformat.read(source, as_version=4)
    injected.cells.insert(0, nbformat.v4.new_code_cell("import test_harness"))
    with pytest.raises(ValueError, match="cells differ from the lesson's"):
        notebook_cache.store(injected, source, "fast", 1.0, build=build)
    nb.cells[0].source = "print(2)"
    nbformat.write(nb, source)
    assert notebook_cache.load_fresh(source, "fast", build) is None, "an edited notebook must run again"
    with pytest.raises(ValueError, match="mode must be one of"):
        notebook_cache.cache_path(source, "slow")


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_chapter_says_how_to_run_it_and_links_its_exercise(site_build, tmp_path, path):
    site = site_build.Site(tmp_path, "full")
    match = site_build.LESSON_RE.match(path.name)          # an appendix (04b_...) is a chapter without an exercise
    number = match[1] if match else None
    box = site.chapter_box(path, number, 12.0, "chapters/" + path.name)
    assert "make lab" in box and f"notebooks/{path.name}" in box and "full mode" in box
    exercise, tests, module = site.lesson_files(number)
    from minirl.exercises import LESSONS
    if number is not None and any(int(les.number) == int(number) for les in LESSONS):
        # the exercise file is the generated stub (lessons/ is a learner's folder, absent from a fresh clone)
        assert exercise and site_build.source_text(exercise), f"lesson {number}: no stub for {exercise}"
        assert tests, f"lesson {number}: no tests/exercises/test_lesson{number}_*.py"
        for target in [exercise, *tests]:
            assert f"../{site_build.html_of(site_build.source_page(target))}" in box, f"no link to {target}"
        assert f"--impl lessons -m lesson{number}" in box
        anchor = site.api_anchor(module)
        assert f"../{site_build.html_of(anchor)})" in box and ".md#" not in box, f"no link to {module}"
    else:
        assert "no exercise file" in box


def test_a_chapter_without_exercise_says_so(site_build, tmp_path):
    site = site_build.Site(tmp_path, "fast")
    box = site.chapter_box(tmp_path / "99_probe.ipynb", "99", 3.0, "chapters/99_probe.ipynb")
    assert "fast mode" in box and "make lab" in box and "no exercise file" in box
    assert "[how the exercises work](../exercises.html)" in box


def test_page_urls(site_build):
    assert site_build.html_of("api/algos.md#minirl.algos.dpo") == "api/algos.html#minirl.algos.dpo"
    assert site_build.html_of("chapters/01_autograd.ipynb") == "chapters/01_autograd.html"
    assert site_build.source_page("lessons/algos/dpo.py") == "files/lessons/algos/dpo.md"
    assert site_build.repo_name("https://github.com/you/minirl.git") == "you/minirl"
    assert site_build.repo_name("git@github.com:you/minirl.git") == "you/minirl"


def test_png_count_includes_the_pngs_inlined_in_html_outputs(site_build):
    """A learning curve beside a GIF of the agent is one HTML output holding a PNG and a GIF: the
    browser check counts the PNG, so the manifest must too (chapters 03 and 04 failed on it)."""
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}),
            nbformat.v4.new_output("display_data", data={"text/html": '<img src="data:image/png;base64,AA">'
                                                                      '<img src="data:image/gif;base64,AA">'})]),
        nbformat.v4.new_markdown_cell('<img src="data:image/png;base64,AA">')])
    assert site_build.png_count(nb) == 2


def test_site_build_refuses_to_replace_repository_files(site_build, capsys):
    assert site_build.main(["--out", str(REPO / "notebooks")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minirl site: error: --out") and "\n" not in err


def test_outputs_lose_the_machine_paths_and_stderr_is_reported(site_build):
    import nbformat
    repo = str(site_build.REPO)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"01  not started  {repo}/lessons/autograd.py\n"),
        nbformat.v4.new_output("stream", name="stderr", text=f"{repo}/minirl/algos/model_based.py:193: ModelWarning: few\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": f"<tmp dir {site_build.machine_paths()[-1]}/x>",
                                                     "text/html": f"<p>{repo}/notebooks</p>"})])])
    warnings = site_build.clean_outputs(nb)
    outs = nb.cells[0].outputs
    assert outs[0].text == "01  not started  lessons/autograd.py\n"
    assert outs[1].text.startswith("minirl/algos/model_based.py:193: ModelWarning")
    assert outs[2].data["text/html"] == "<p>notebooks</p>" and repo not in outs[2].data["text/plain"]
    assert len(warnings) == 1 and "cell 0 writes to stderr" in warnings[0] and "ModelWarning" in warnings[0]
    kept = site_build.clean_text(f"{repo}-old and /tmpfile")     # a sibling of the checkout, not the checkout
    assert kept.endswith(f"{site_build.REPO.name}-old and /tmpfile") and not kept.startswith("-old"), \
        f"only whole paths: {kept!r}"


def test_home_page_has_the_lessons_the_clone_and_in_fast_mode_the_banner(site_build, tmp_path):
    nb = NOTEBOOKS[0] if NOTEBOOKS else None
    if nb is None:
        pytest.skip("no notebooks")
    site = site_build.Site(tmp_path, "full", repo_url="https://example.org/minirl.git")
    site.chapters.append({"page": f"chapters/{nb.name}", "number": nb.name[:2], "nav": f"{nb.name[:2]} first",
                          "seconds": 125.0, "plan": {"difficulty": "★☆☆", "study": "1.5–2 hours"}})
    site.add_home()
    home = (tmp_path / "index.md").read_text()
    assert f"| [{nb.name[:2]} first](chapters/{nb.name}) |" in home and "| ★☆☆ | 1.5–2 hours | 2 min |" in home
    assert "git clone https://example.org/minirl.git minirl" in home and "make setup" in home
    assert "<!-- minirl:" not in home and site_build.FAST_BANNER not in home and not site.warnings
    fast = site_build.Site(tmp_path / "fast", "fast")
    fast.add_home()
    home = (tmp_path / "fast" / "index.md").read_text()
    assert site_build.FAST_BANNER in home and "git clone <URL of this repository> minirl" in home
    assert any("no repository URL" in w for w in fast.warnings)


def _commands(markdown: str) -> list[str]:
    """The command lines of a markdown text's ```sh blocks (indented ones too), comments dropped."""
    import re
    found = []
    for block in re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", markdown, re.S | re.M):
        found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    return found


def test_the_site_pages_give_the_readmes_commands(site_build, tmp_path):
    """The exercises page and the home page tell a learner the README's commands, spelled as the
    README spells them (so tests/test_documented_commands.py, which runs the README's, covers them);
    only the home page's `git clone URL` / `cd minirl` are its own."""
    readme = set(_commands((REPO / "README.md").read_text(encoding="utf-8")))
    exercises = _commands((REPO / "docs" / "pages" / "exercises.md").read_text(encoding="utf-8"))
    assert {"make setup", "source .venv/bin/activate", "minirl exercises check 01"} <= set(exercises)
    site = site_build.Site(tmp_path, "full", repo_url="https://example.org/minirl.git")
    site.add_home()
    home = _commands((tmp_path / "index.md").read_text(encoding="utf-8"))
    own = {"git clone https://example.org/minirl.git minirl", "cd minirl"}
    assert own <= set(home)
    stray = [c for c in exercises + home if c not in readme | own]
    assert not stray, f"site pages give commands the README does not: {stray}"


def test_lesson_plan_is_read_from_the_first_cell(site_build):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# Lesson 99\n\n**Difficulty.** ★★☆ (needs lesson 01).\n**Study time.** About 2–3 hours, the exercise included.")])
    assert site_build.lesson_plan(nb) == {"difficulty": "★★☆", "study": "2–3 hours"}
    nb.cells[0].source = "**Difficulty.** ★☆☆\n**Study time.** About 1.5–2 hours.\n"
    assert site_build.lesson_plan(nb) == {"difficulty": "★☆☆", "study": "1.5–2 hours"}


def test_figures_get_the_width_at_which_their_text_is_8_pt():
    import io
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1])
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={site_hooks.MIN_TEXT_KEY: "10.00"})
    plt.close(fig)
    width, dpi, min_pt = site_hooks.png_facts(png.getvalue())
    assert (width, round(dpi), min_pt) == (600, 100, 10.0)
    # 10 pt at 100 dpi is 13.9 px; shown at D px of 600 it is 13.9 D / 600 px = 0.75 * that in CSS points
    assert site_hooks.legible_width(600, 100.0, 10.0) == 461 and site_hooks.legible_width(600, 100.0, 6.0) == 600
    assert site_hooks.legible_width(600, 100.0, None) == 600
    import base64
    html = (f'<p><img src="data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}"></p>'
            f'<img src="data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}" style="width:600px">')
    out = site_hooks.add_legible_widths(html)
    assert out.count('data-min-width="461"') == 2 and 'style="min-width:461px"' in out
    assert 'style="width:600px; min-width:461px"' in out


# ------------------------------------------------------------------------------ the browser check
@pytest.fixture(scope="module")
def checker():
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[docs]')")
    import site_check
    if site_check.find_chromium() is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return site_check


_HEAD = '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body><article>'
_TEXT = "<p>" + "A paragraph long enough to count as a real page of the course. " * 5 + "</p>"
_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
        "hKmMIQAAAABJRU5ErkJggg==")


_BANNER = '<div class="minirl-fast-banner">fast mode: budgets shrunk for CI; not for reading</div>'


def _write_site(root: Path, pages: dict[str, str], chapters: dict[str, int], mode: str = "fast") -> Path:
    for name, body in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(_HEAD + body + "</article></body></html>", encoding="utf-8")
    manifest = {"mode": mode, "chapters": {p: {"notebook": p, "title": p, "figures": n, "seconds": 1.0}
                                           for p, n in chapters.items()}}
    (root / "site-manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def test_checker_passes_a_clean_site(checker, tmp_path):
    root = _write_site(tmp_path / "site", {
        "index.html": _TEXT + '<a href="chapters/01.html#fig">chapter</a> <a href="https://example.org">out</a>',
        "chapters/01.html": _BANNER + _TEXT + '<p>Run it: make lab</p><div class="jupyter-wrapper">'
                            f'<img id="fig" src="{_PNG}"><img src="{_PNG}" data-min-width="1">'
                            '<div class="jp-OutputArea-output"><pre>step  return\n1000  -1234.5</pre></div>'
                            '<pre><code>print("hello")</code></pre></div>'
                            '<div class="katex-display" style="width:200px; overflow-x:auto">'
                            '<span style="display:inline-block; width:500px">a long sum that scrolls</span></div>'
                            '<ul><li>Questions:<ol><li>one?</li><li>two?</li></ol></li></ul>'
                            '<details><summary>Answer to question 1</summary>1</details>'
                            '<details><summary>Answer to question 2</summary>2</details>'
                            '<a href="../index.html">home</a>',
    }, {"chapters/01.html": 2})
    result = checker.check_site(root, tmp_path / "shots", log=lambda *a: None)
    assert result["problems"] == []
    assert (result["pages"], result["figures"], result["unique_links"]) == (2, 2, 2)
    shots = tmp_path / "shots"
    assert sorted(p.name for p in shots.iterdir()) == ["1280", "390", "report.json"]
    for width in ("1280", "390"):
        assert sorted(p.name for p in (shots / width).iterdir()) == ["chapters__01.png", "index.png"]
    report = json.loads((shots / "report.json").read_text())
    assert report["chapters/01.html"]["figures"] == 2 and report["index.html"]["problems"] == []
    assert set(report["chapters/01.html"]["figure_widths"]) == {"1280", "390"}


def test_checker_reports_every_kind_of_defect(checker, tmp_path):
    root = _write_site(tmp_path / "site", {
        "index.html": _TEXT + '<script>console.error("boom")</script>'
                      '<a href="missing.html">gone</a> <a href="chapters/01.html#nowhere">anchor</a>',
        "remote.html": _TEXT + '<img src="http://figures.invalid/figure.png">',
        "maths.html": _TEXT + "<p>The return $G_t = r_t + \\gamma G_{t+1}$ is not typeset.</p>",
        "stub.html": "<p>TODO</p>",
        "chapters/01.html": _TEXT + '<p>make lab</p><div class="jupyter-wrapper">'
                            f'<img src="{_PNG}"><img src="broken.png"></div>',
        "chapters/02.html": _TEXT + '<div class="jupyter-wrapper"><p>no figure</p></div>',
        "legible.html": _TEXT + '<pre style="overflow:hidden; width:200px">' + "0.123456 " * 40 + '</pre>'
                        '<pre style="white-space:pre-wrap; width:200px">' + "1.23/82 " * 40 + '</pre>'
                        f'<img src="{_PNG}" data-min-width="600" style="width:300px">'
                        '<div style="width:800px">a wide block</div>',
        "paths.html": _TEXT + f'<p>built in {REPO}</p><div class="jp-OutputArea-output"><pre>01 not started '
                      '/home/alice/minirl/lessons/autograd.py</pre></div>'
                      '<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">'
                      '<pre>model_based.py:193: ModelWarning: few transitions</pre></div>',
        "table.html": _TEXT + '<table style="width:300px"><tr><td style="width:60px">'
                      '<code style="overflow-wrap:anywhere">lessons/algos/world_models.py</code></td><td>x</td></tr></table>',
        "equation.html": _TEXT + '<div class="katex-display" style="width:200px"><span style="display:inline-block; '
                         'width:500px">a long displayed sum</span></div>',
        "questions.html": _TEXT + '<ul><li>Questions:<ol style="list-style-type: lower-alpha"><li>a?</li><li>b?</li>'
                          '</ol></li></ul><details><summary>Answer to question 2</summary>b</details>',
    }, {"chapters/01.html": 2, "chapters/02.html": 1, "chapters/03.html": 1})
    problems = "\n".join(checker.check_site(root, tmp_path / "shots", log=lambda *a: None)["problems"])
    expected = [
        "index.html: console error: boom",
        "index.html: broken link http://127.0.0.1:",                       # missing.html: HTTP 404
        "no element with id 'nowhere' on that page",
        "remote.html: loads http://figures.invalid/figure.png from another host",  # static scan
        "remote.html: request to another host blocked: http://figures.invalid/figure.png",
        "remote.html: image not shown (0x0)",
        "maths.html: has maths but no KaTeX element was rendered",
        "maths.html: 1 maths delimiters left as text",
        "stub.html: only 4 characters of text (a stub?)",
        "chapters/01.html: image not shown (0x0)",
        "chapters/01.html: 1 PNG figures shown, its notebook holds 2",
        "chapters/02.html: 0 PNG figures shown, its notebook holds 1",
        "chapters/02.html: does not say how to run the lesson (`make lab`)",
        "chapters/03.html: chapter in site-manifest.json but not in the site",
        "chapters/01.html: a chapter of a fast-mode site without the banner",
        "legible.html at 1280 px: code block \"0.123456 0.123456",                        # cut off
        "is cut off (",
        "legible.html at 1280 px: code block \"1.23/82 1.23/82",
        "wraps its lines (",
        "legible.html at 1280 px: a figure is shown 300 px wide, below its legible width 600 px",
        "legible.html at 390 px: the page is",
        "paths.html: shows the build machine's path " + str(REPO),
        "paths.html: an output shows the absolute path /home/alice/minirl/lessons/autograd.py",
        "paths.html: a raw warning or error box: \"model_based.py:193: ModelWarning",
        "table.html at 1280 px: \"lessons/algos/world_models.py\" breaks across lines in a table cell",
        "equation.html at 1280 px: an equation is cut off (500 px wide in 200 px): \"a long displayed sum\"",
        "questions.html: the answers go up to question 2, but no list numbers its questions 1 to 2 (lower-alpha)",
    ]
    for text in expected:
        assert text in problems, f"the check did not report {text!r}; it reported:\n{problems}"


def test_checker_wants_no_banner_on_a_full_site(checker, tmp_path):
    root = _write_site(tmp_path / "site", {
        "index.html": _BANNER + _TEXT,
        "chapters/01.html": _TEXT + f'<p>make lab</p><div class="jupyter-wrapper"><img src="{_PNG}"></div>',
    }, {"chapters/01.html": 1}, mode="full")
    problems = checker.check_site(root, tmp_path / "shots", log=lambda *a: None)["problems"]
    assert problems == ["index.html: a full-mode site page shows the fast-mode banner"], problems


def test_checker_needs_a_built_site(checker, tmp_path):
    with pytest.raises(FileNotFoundError, match="make site"):
        checker.check_site(tmp_path, tmp_path / "shots", log=lambda *a: None)


def test_site_check_command_says_what_is_missing(checker, tmp_path, capsys):
    assert checker.main([str(tmp_path), "--shots", str(tmp_path / "shots")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minirl site-check: error:") and "\n" not in err and "make site" in err


def test_the_repository_url_is_a_web_address_or_none(site_build, tmp_path, monkeypatch, capsys):
    """A clone of a clone (CI's) has a local path as its origin: the site then has no repository link,
    instead of a mkdocs configuration error; an scp-style remote becomes its https address."""
    assert site_build.web_url("https://github.com/you/minirl.git\n") == "https://github.com/you/minirl.git"
    assert site_build.web_url("git@github.com:you/minirl.git") == "https://github.com/you/minirl.git"
    for remote in ("/work/main", "../minirl", "file:///srv/git/minirl.git", "ssh://git@host/you/minirl.git", ""):
        assert site_build.web_url(remote) == "", remote
    monkeypatch.delenv("REPO_URL", raising=False)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(site_build.REPO), str(clone)], check=True)   # origin: a path
    monkeypatch.setattr(site_build, "REPO", clone)
    assert site_build.default_repo_url() == ""
    monkeypatch.setenv("REPO_URL", "/some/path")
    assert site_build.main(["--out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert "'/some/path' is not a web address" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "site").exists()
    seen = {}                                    # an scp-style REPO_URL reaches the build as its https address

    def build(out, mode, katex, repo_url=""):
        seen["url"] = repo_url
        return {"pages": [], "chapters": [], "notebook_seconds": 0, "build_seconds": 0}

    monkeypatch.setattr(site_build, "build", build)
    monkeypatch.setenv("REPO_URL", "git@github.com:you/minirl.git")
    assert site_build.main(["--out", str(tmp_path / "site2")]) == 0
    assert seen["url"] == "https://github.com/you/minirl.git"

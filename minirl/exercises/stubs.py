"""The stub generator: turns a reference module into the learner's exercise file.

The reference modules mark the part a learner writes with two comment lines, indented like the code::

    def reward_to_go(rewards, gamma):
        ...
        # BEGIN SOLUTION
        ...reference code...
        # END SOLUTION

`make_stub` replaces every block with
``raise NotImplementedError("lesson NN: implement reward_to_go, see notebooks/NN_topic.ipynb")``
and makes relative imports absolute (`from .autograd import Tensor` -> `from minirl.autograd import
Tensor`), so the learner's copy imports the *reference* versions of everything else. Generation is
deterministic: the same reference code gives byte-identical stubs.

`exercise_functions` names the functions a stub asks for (`Tensor.exp.backward`, `gae`), which is
what `minirl course update` carries from a learner's file into a newer stub (`minirl.exercises.merge`).
"""

from __future__ import annotations

import ast

from .lessons import Lesson

__all__ = ["BEGIN", "END", "HEADER_LINES", "SolutionBlockError", "find_blocks", "make_stub", "lesson_stub",
           "why_skipped", "exercise_functions", "function_spans", "solved"]

HEADER_LINES = 7          # the comment lines (and one blank line) make_stub puts above the module

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"


class SolutionBlockError(ValueError):
    """A malformed `# BEGIN SOLUTION` / `# END SOLUTION` pair (names the file and line)."""


# ---------------------------------------------------------------------------------------- parsing
def find_blocks(text: str, filename: str = "<source>") -> list[tuple[int, int, str]]:
    """The solution blocks of a module: a list of (begin_line, end_line, indentation), 0-based.

    Raises SolutionBlockError for a BEGIN without END, an END without BEGIN, nested blocks, or an
    END indented differently from its BEGIN.
    """
    blocks, open_at, indent = [], None, ""
    for i, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped == BEGIN:
            if open_at is not None:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{BEGIN}' inside the block opened at "
                                         f"line {open_at + 1} (blocks cannot nest)")
            open_at, indent = i, line[:len(line) - len(line.lstrip())]
        elif stripped == END:
            if open_at is None:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{END}' without a '{BEGIN}' before it")
            end_indent = line[:len(line) - len(line.lstrip())]
            if end_indent != indent:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{END}' is indented {len(end_indent)} "
                                         f"spaces but its '{BEGIN}' (line {open_at + 1}) {len(indent)}")
            blocks.append((open_at, i, indent))
            open_at = None
    if open_at is not None:
        raise SolutionBlockError(f"{filename}:{open_at + 1}: '{BEGIN}' is never closed by '{END}'")
    return blocks


def function_spans(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first_line, last_line, qualified name) of every function, 1-based; methods as Class.method."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _enclosing_function(spans, line: int) -> str | None:
    """The innermost function whose lines contain `line` (1-based)."""
    best = None
    for first, last, name in spans:
        if first <= line <= last and (best is None or first >= best[0]):
            best = (first, last, name)
    return best[2] if best else None


def _absolute_import(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of a relative `from ... import` inside `package` (e.g. "minirl.algos")."""
    parts = package.split(".")
    if node.level > len(parts):
        raise SolutionBlockError(f"line {node.lineno}: relative import goes above the minirl package")
    base = ".".join(parts[:len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def make_stub(text: str, lesson: Lesson, filename: str | None = None) -> str:
    """The learner's copy of a reference module `text` (see the module docstring).

    Returns the stub's text; raises SolutionBlockError for malformed blocks or a block outside any
    function (a learner implements functions, so every block must sit inside one).
    """
    filename = filename or f"minirl/{lesson.module}"
    blocks = find_blocks(text, filename)
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SolutionBlockError(f"{filename}: not valid Python: {exc}") from None
    spans = function_spans(tree)
    lines = text.splitlines()

    # 1. relative imports -> absolute (the stub lives outside the package).
    package = ".".join(["minirl", *lesson.module.split("/")[:-1]])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            i = node.lineno - 1
            prefix = "from " + "." * node.level + (node.module or "")
            head, sep, tail = lines[i].partition(prefix)
            if not sep or not tail.lstrip().startswith("import"):
                raise SolutionBlockError(f"{filename}:{node.lineno}: cannot rewrite this relative "
                                         "import; write it on one line as 'from .module import name'")
            lines[i] = f"{head}from {_absolute_import(node, package)}{tail}"

    # 2. each solution block -> one raise, at the block's indentation (bottom-up keeps indices valid).
    for begin, end, indent in reversed(blocks):
        name = _enclosing_function(spans, begin + 1)
        if name is None:
            raise SolutionBlockError(f"{filename}:{begin + 1}: a solution block must sit inside a "
                                     "function or method")
        message = f"lesson {lesson.number}: implement {name}, see {lesson.notebook}"
        quoted = '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines[begin:end + 1] = [f"{indent}raise NotImplementedError({quoted})"]

    header = [
        f"# Lesson {lesson.number}, your exercise: replace each `raise NotImplementedError(...)` below "
        "with your code.",
        f"# The lesson: {lesson.notebook}. What this file imports from `minirl` is the reference code.",
        "# Check your code (in your course folder or the repository, with minirl's environment active):",
        f"#     minirl exercises check {lesson.number}",
        "# Start this file again from a fresh stub (your version is saved in .minirl/backup/):",
        f"#     minirl exercises generate --lesson {lesson.number} --force",
        "",
    ]
    return "\n".join(header + lines) + "\n"


def lesson_stub(lesson: Lesson) -> str | None:
    """The fresh stub of a lesson, or None if its module does not exist or has no solution blocks."""
    if not lesson.source.is_file():
        return None
    text = lesson.source.read_text(encoding="utf-8")
    if not find_blocks(text, f"minirl/{lesson.module}"):
        return None
    return make_stub(text, lesson)


def why_skipped(lesson: Lesson) -> str:
    if not lesson.source.is_file():
        return f"minirl/{lesson.module} does not exist yet"
    return f"minirl/{lesson.module} has no '{BEGIN}' blocks yet"


def exercise_functions(stub: str) -> list[str]:
    """The qualified names of the functions a stub asks for, in file order ("Tensor.exp", ...)."""
    import re
    names = re.findall(r'raise NotImplementedError\("lesson \d\d: implement ([\w.]+),', stub)
    return list(dict.fromkeys(names))


def solved(stub: str, reference: str) -> str:
    """The stub with each `raise NotImplementedError("lesson NN: ...")` replaced by the reference's block:
    what a learner who copies the solution writes (the tests use it to prove a solved stub passes)."""
    import re
    lines = reference.splitlines()
    bodies = [lines[begin + 1:end] for begin, end, _ in find_blocks(reference)]
    out, k = [], 0
    for line in stub.splitlines():
        if re.match(r'\s*raise NotImplementedError\("lesson \d\d: implement ', line):
            out.extend(bodies[k])
            k += 1
        else:
            out.append(line)
    if k != len(bodies):
        raise ValueError(f"the stub has {k} raises but the reference {len(bodies)} blocks")
    return "\n".join(out) + "\n"

"""What a learner reads when their lesson file is broken or their code raises (issue 20, item 5).

Each test writes a learner's file into a temporary lessons folder and runs the check as a learner
does (`minirl exercises check NN --impl DIR`, i.e. `python -m minirl exercises check ...`), then reads
the report:

* a file that does not load (syntax error, failing import) is reported once, in at most 10 lines,
  naming the file, the line and the kind of error; the lesson's other tests are skipped, not failed
  again with the same traceback;
* an exception raised inside the learner's function is reported as its one line, where it was raised
  in the learner's file, and what the function should do, not a traceback through the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import minirl.exercises as ex

REPO = Path(__file__).resolve().parents[1]


def _stubs(tmp_path: Path, number: str) -> Path:
    out = tmp_path / "lessons"
    ex.generate(out=out, lessons=[number], log=lambda *args: None)
    return out


def _check(number: str, impl: Path) -> tuple[int, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "COLUMNS": "80"}         # the summary lines cut as on a learner's terminal, whatever runs this
    proc = subprocess.run([sys.executable, "-m", "minirl", "exercises", "check", number, "--impl", str(impl)],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def _failure_reports(output: str) -> list[list[str]]:
    """The body of each failure in pytest's FAILURES section (the lines under each `___ name ___`)."""
    reports, current = [], None
    for line in output.splitlines():
        if re.fullmatch(r"_{3,} \S+ _{3,}", line.strip()):
            current = []
            reports.append(current)
        elif line.startswith(("=", "exercises: these tests")):
            current = None
        elif current is not None:
            current.append(line)
    return reports


def _replace_once(path: Path, old: str, new: str) -> int:
    """Replace `old` (which must occur once) in `path`; return the 1-based line where it starts."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def _report_of(number: str, impl: Path, needle: str, max_lines: int) -> tuple[str, str]:
    """Run lesson `number`'s check; return its output and the first failure report containing `needle`."""
    code, output = _check(number, impl)
    assert code == 1, output
    reports = [r for r in _failure_reports(output) if any(needle in l for l in r)]
    assert reports, output
    assert len(reports[0]) <= max_lines, "\n".join(reports[0])
    return output, "\n".join(reports[0])


def test_a_syntax_error_is_reported_once_in_a_few_lines(tmp_path):
    impl = _stubs(tmp_path, "01")
    line = _replace_once(impl / "autograd.py", "    if grad.shape == shape:\n", "    if grad.shape == shape\n")
    code, output = _check("01", impl)
    assert code == 1, output
    reports = _failure_reports(output)
    assert len(reports) == 1, f"expected one failure report, got {len(reports)}:\n{output}"
    report = "\n".join(reports[0])
    assert len(reports[0]) <= 10, f"the report has {len(reports[0])} lines:\n{report}"
    assert f"SyntaxError in {impl / 'autograd.py'}, line {line}: " in report, report
    assert "if grad.shape == shape" in report, report
    assert output.count("SyntaxError") == 1, output
    assert "Traceback" not in output and "importlib" not in output, output
    assert "1 failed" in output and "skipped" in output, output
    lines = []                                   # `minirl exercises status` names the error too
    assert ex.status(impl, ["01"], log=lines.append) == [("01", "failed (0/1 passed)")], lines
    assert "SyntaxError in " in lines[-1], lines


def test_a_failing_import_is_reported_once_with_its_line(tmp_path):
    impl = _stubs(tmp_path, "05")
    line = _replace_once(impl / "estimators.py", "import numpy as np\n",
                         "import numpy as np\nfrom minirl.autograd import no_such_name\n") + 1
    code, output = _check("05", impl)
    assert code == 1, output
    reports = _failure_reports(output)
    assert len(reports) == 1 and len(reports[0]) <= 10, output
    report = "\n".join(reports[0])
    assert f"ImportError in {impl / 'estimators.py'}, line {line}: cannot import name 'no_such_name'" \
        in report, report
    assert "from minirl.autograd import no_such_name" in report, report
    assert "Traceback" not in output, output


def test_an_exception_in_the_learners_function_is_one_line_where_and_what(tmp_path):
    impl = _stubs(tmp_path, "03")
    stub = 'raise NotImplementedError("lesson 03: implement discounted_returns, see notebooks/03_reinforce.ipynb")'
    line = _replace_once(impl / "returns.py", stub, "out[t] = r[T]          # off the end")
    output, report = _report_of("03", impl, "your discounted_returns raised", max_lines=6)
    assert "your discounted_returns raised IndexError: index" in report, report
    assert f"returns.py, line {line}, in discounted_returns: out[t] = r[T]" in report, report
    assert "what it should do: Discounted reward-to-go" in report, report
    assert "Traceback" not in output, output


def test_an_exception_under_a_tests_hint_is_the_hint_without_a_traceback(tmp_path):
    """Lesson 01's `_unbroadcast` that skips the stretched length-1 axes: its reshape fails, and the
    learner reads the keepdims hint (issue 20: the stub's leftover reshape used to hide it)."""
    impl = _stubs(tmp_path, "01")
    stub = 'raise NotImplementedError("lesson 01: implement _unbroadcast, see notebooks/01_autograd.ipynb")'
    _replace_once(impl / "autograd.py", stub, "grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))\n"
                                              "    return grad.reshape(shape)")
    output, report = _report_of("01", impl, "your _unbroadcast raised", max_lines=4)
    assert "ValueError: cannot reshape" in report and "in _unbroadcast: return grad.reshape(shape)" in report
    assert "sum length-1 axes with keepdims=True" in report, report
    assert "contextlib" not in output and "helpers.py" not in output, output

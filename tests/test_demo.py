"""`minirl demo` (what `make demo` runs) is `minirl compare` with its defaults and the given --out."""

from minirl import cli
from minirl.commands import compare


def test_demo_runs_compare_with_default_settings(monkeypatch, tmp_path):
    seen = {}

    def fake_run(args):
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(compare, "run", fake_run)
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0
    assert seen["out"] == str(tmp_path)
    parser = __import__("argparse").ArgumentParser()
    compare.add_arguments(parser)
    defaults = vars(parser.parse_args([]))
    assert {k: v for k, v in seen.items() if k != "out"} == {k: v for k, v in defaults.items() if k != "out"}

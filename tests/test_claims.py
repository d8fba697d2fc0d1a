"""minirl.claims: a lesson's sentences about its runs are computed, or checked in full mode."""

from __future__ import annotations

import pytest

from minirl.claims import METADATA_KEY, ClaimError, Chapter


def test_full_mode_stops_at_a_false_claim_and_names_it(capsys):
    chapter = Chapter("07", fast=False)
    assert capsys.readouterr().out == "", "the full mode prints no fast-mode note"
    chapter.check(3 < 5, "SVG passes -200 first", "3 < 5")
    with pytest.raises(ClaimError, match=r'lesson 07, full mode: the text says "gold peaks then falls", '
                                         r"but this run does not show it \(end 2.4 = peak 2.4\)"):
        chapter.check(False, "gold peaks then falls", "end 2.4 = peak 2.4")


def test_fast_mode_says_once_what_it_cannot_show_and_lists_the_claims_it_missed(capsys):
    chapter = Chapter("03", fast=True, cannot_show="8k steps instead of 100k: no curve reaches 475.")
    note = capsys.readouterr().out
    assert note.count("Fast mode") == 1 and "no curve reaches 475" in note
    chapter.check(True, "the value baseline has the lowest variance", "0.09")
    chapter.check(False, "every seed of the value baseline reaches 475", "0 of 2")
    with pytest.raises(ClaimError, match="fast mode"):
        chapter.check(False, "G_0 = 1.75 by hand and by discounted_returns", "1.70", also_fast=True)
    chapter.report()
    out = capsys.readouterr().out
    assert chapter.summary == {"lesson": "03", "mode": "fast", "checked": 3,
                       "failed": ["every seed of the value baseline reaches 475",
                                  "G_0 = 1.75 by hand and by discounted_returns"]}
    assert "Fast mode cannot show" in out and "every seed of the value baseline reaches 475 (0 of 2)" in out


def test_full_report_lists_every_claim_with_its_numbers(capsys):
    chapter = Chapter("10", fast=False)
    chapter.check(True, "proxy rises with N", "monotone over 40 values of N")
    chapter.say("The **proxy** gain ends at 6.7.")
    chapter.report()
    out = capsys.readouterr().out
    assert chapter.summary == {"lesson": "10", "mode": "full", "checked": 1, "failed": []}
    assert "The **proxy** gain ends at 6.7." in out
    assert "hold in this full-mode run" in out and "- proxy rises with N (monotone over 40 values of N)" in out
    assert METADATA_KEY == "minirl_claims"


def test_fast_must_be_a_bool():
    with pytest.raises(TypeError, match="must be True or False"):
        Chapter("01", fast="1")

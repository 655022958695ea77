"""Where the bars and marks of the history pictures go."""

from runs.charts import CHART_HEIGHT, STUB_HEIGHT, history_chart, status_strip
from runs.history import PastRun


def test_bar_heights_are_durations_against_the_longest_and_runs_without_one_are_stubs():
    chart = history_chart([PastRun("a", "succeeded", 10.0), PastRun("b", "failed", 40.0),
                           PastRun("c", "running", None), PastRun("d", "succeeded", 0.1)])
    assert [bar.height for bar in chart.bars] == [20, CHART_HEIGHT, STUB_HEIGHT, STUB_HEIGHT]
    assert [bar.y + bar.height for bar in chart.bars] == [CHART_HEIGHT] * 4  # on one baseline
    assert [bar.x for bar in chart.bars] == [0, 10, 20, 30]
    assert [bar.glyph for bar in chart.bars] == ["", "×", "›", ""]
    assert chart.width == 38


def test_strip_draws_one_path_per_status_and_a_glyph_on_each_run_that_did_not_succeed():
    strip = status_strip([PastRun("a", "succeeded", 1.0), PastRun("b", "failed", 1.0),
                          PastRun("c", "succeeded", 1.0)])
    assert strip.paths == [("succeeded", "M0 0h8v14h-8zM20 0h8v14h-8z"), ("failed", "M10 0h8v14h-8z")]
    assert [(glyph.x, glyph.text) for glyph in strip.glyphs] == [(14, "×")]
    several = status_strip([PastRun("a", "failed", 1.0), PastRun("b", "succeeded", 1.0),
                            PastRun("c", "exception", 1.0)])
    assert (several.glyph_positions, several.glyph_text) == ("4 24", "×!")
    assert strip.width == 28

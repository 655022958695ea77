"""Where the marks of the website's small SVG pictures go: numbers only.

The templates (templates/includes/run_history.html, run_strip.html) write the SVG, so every
text in it is escaped like the rest of the page; colours come from the stylesheet's `s-<status>`
classes. Colour is never the only sign of a status: each run that did not succeed also carries a
glyph, each bar a title, and each picture a text summary beside it.
"""

from dataclasses import dataclass

from runs.history import PastRun

# A glyph per status that is not success, drawn under (chart) or on (strip) its run's mark.
STATUS_GLYPHS = {
    "failed": "×",
    "exception": "!",
    "aborted": "/",
    "cancelled": "–",
    "skipped": "–",
    "running": "›",
    "pending": "·",
}

BAR_WIDTH, BAR_GAP, CHART_HEIGHT, GLYPH_ROW = 8, 2, 80, 12
# A run without a duration yet (pending, running, never started) still shows as a stub.
STUB_HEIGHT = 3
MARK_WIDTH, MARK_GAP, MARK_HEIGHT = 8, 2, 14


@dataclass(frozen=True)
class Bar:
    run: PastRun
    x: int
    y: int
    height: int
    glyph: str

    @property
    def centre(self) -> int:
        return self.x + BAR_WIDTH // 2


@dataclass(frozen=True)
class HistoryChart:
    bars: list[Bar]
    width: int
    height: int
    bar_width: int = BAR_WIDTH
    glyph_y: int = CHART_HEIGHT + GLYPH_ROW - 2


def history_chart(runs: list[PastRun]) -> HistoryChart:
    """A bar per run, oldest left; its height is the run's duration against the longest shown."""
    longest = max((run.duration or 0 for run in runs), default=0)
    bars = []
    for position, run in enumerate(runs):
        if run.duration is None or not longest:
            height = STUB_HEIGHT
        else:
            height = max(round(run.duration / longest * CHART_HEIGHT), STUB_HEIGHT)
        bars.append(Bar(run=run, x=position * (BAR_WIDTH + BAR_GAP), y=CHART_HEIGHT - height,
                        height=height, glyph=STATUS_GLYPHS.get(run.status, "")))
    width = max(len(runs) * (BAR_WIDTH + BAR_GAP) - BAR_GAP, BAR_WIDTH)
    return HistoryChart(bars=bars, width=width, height=CHART_HEIGHT + GLYPH_ROW)


@dataclass(frozen=True)
class Glyph:
    x: int
    text: str


@dataclass(frozen=True)
class Strip:
    """Marks of equal size, oldest left: one path per status (a few bytes per run, so a project
    page with many jobs stays light) and the glyphs of the runs that did not succeed."""

    paths: list[tuple[str, str]]
    glyphs: list[Glyph]
    width: int
    height: int = MARK_HEIGHT
    glyph_y: int = MARK_HEIGHT - 3

    # All glyphs in one <text>, a position per character.
    @property
    def glyph_positions(self) -> str:
        return " ".join(str(glyph.x) for glyph in self.glyphs)

    @property
    def glyph_text(self) -> str:
        return "".join(glyph.text for glyph in self.glyphs)


def status_strip(runs: list[PastRun]) -> Strip:
    shapes: dict[str, list[str]] = {}
    glyphs = []
    for position, run in enumerate(runs):
        x = position * (MARK_WIDTH + MARK_GAP)
        shapes.setdefault(run.status, []).append(f"M{x} 0h{MARK_WIDTH}v{MARK_HEIGHT}h-{MARK_WIDTH}z")
        if run.status in STATUS_GLYPHS:
            glyphs.append(Glyph(x + MARK_WIDTH // 2, STATUS_GLYPHS[run.status]))
    width = max(len(runs) * (MARK_WIDTH + MARK_GAP) - MARK_GAP, MARK_WIDTH)
    return Strip(paths=[(status, "".join(parts)) for status, parts in shapes.items()],
                 glyphs=glyphs, width=width)

"""The pipeline graph: server-rendered SVG, no JavaScript.

Elements are laid out in columns by dependency depth (an element sits one column right of its
deepest dependency), one box per element, with an arrow per dependency (dashed when the rule
accepts more than success). On a pipeline run's page each box is coloured by its element's
status and linked to its child run; on the pipeline job's page, drawn from the definition alone,
boxes name the element and its job. Every text comes through format_html, so it is escaped.
"""

from django.urls import NoReverseMatch
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from runs.pipelines import ElementState, defined_elements, pipeline_elements

BOX_WIDTH, BOX_HEIGHT = 150, 52
COLUMN_GAP, ROW_GAP, MARGIN = 60, 24, 12

# Fill colours by status; text stays dark on all of them.
STATUS_COLOURS = {
    "waiting": "#eeeeee",
    "pending": "#fff3c4",
    "running": "#cfe3ff",
    "succeeded": "#c8ecc9",
    "failed": "#f7c6c5",
    "aborted": "#f3d1f0",
    "exception": "#f7b267",
    "cancelled": "#dddddd",
    "skipped": "#f5f5f5",
}


def _columns(elements: list[ElementState]) -> dict[str, int]:
    """Depth of each element: 0 without dependencies, else 1 + its deepest dependency's."""
    by_identifier = {element.identifier: element for element in elements}
    depth: dict[str, int] = {}

    def visit(identifier: str, trail: frozenset) -> int:
        if identifier in depth:
            return depth[identifier]
        dependencies = [
            name
            for name in by_identifier[identifier].after
            if name in by_identifier and name not in trail
        ]
        depth[identifier] = 1 + max(
            (visit(name, trail | {identifier}) for name in dependencies), default=-1
        )
        return depth[identifier]

    for element in elements:
        visit(element.identifier, frozenset())
    return depth


def _link(element: ElementState) -> str:
    if element.run is None:
        return ""
    try:
        return element.run.get_absolute_url()
    except NoReverseMatch:
        return ""


def render_pipeline_svg(run) -> SafeString:
    """The SVG of a pipeline run's elements; empty for a run that is not a pipeline."""
    return _render(pipeline_elements(run), f"Pipeline run {run.identifier[:8]}: its elements, "
                   "their status and dependencies", with_status=True)


def render_pipeline_definition_svg(job) -> SafeString:
    """The SVG of a pipeline job's elements as defined, before or without any run."""
    if not job.is_pipeline:
        return mark_safe("")
    return _render(defined_elements(job.pipeline), f"Pipeline {job.identifier}: its elements "
                   "and their dependencies", with_status=False)


def _render(elements: list[ElementState], title: str, with_status: bool) -> SafeString:
    if not elements:
        return mark_safe("")
    columns = _columns(elements)
    rows_used: dict[int, int] = {}
    positions: dict[str, tuple[int, int]] = {}
    for element in elements:
        column = columns[element.identifier]
        row = rows_used.get(column, 0)
        rows_used[column] = row + 1
        positions[element.identifier] = (
            MARGIN + column * (BOX_WIDTH + COLUMN_GAP),
            MARGIN + row * (BOX_HEIGHT + ROW_GAP),
        )
    width = MARGIN * 2 + (max(columns.values()) + 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = MARGIN * 2 + max(rows_used.values()) * (BOX_HEIGHT + ROW_GAP) - ROW_GAP

    arrows = []
    for element in elements:
        x, y = positions[element.identifier]
        for dependency, statuses in element.after.items():
            if dependency not in positions:
                continue
            from_x, from_y = positions[dependency]
            # A dashed arrow: the element runs after other statuses than plain success.
            dashes = "0" if list(statuses) == ["succeeded"] else "5 3"
            arrows.append(
                (
                    from_x + BOX_WIDTH,
                    from_y + BOX_HEIGHT // 2,
                    x - 2,
                    y + BOX_HEIGHT // 2,
                    dashes,
                    f"{element.identifier} after {dependency}: {', '.join(statuses)}",
                )
            )
    arrow_markup = format_html_join(
        "",
        '<line class="dependency" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#555" '
        'stroke-width="1.5" stroke-dasharray="{}" marker-end="url(#arrow)"><title>{}</title></line>',
        arrows,
    )
    boxes = []
    for element in elements:
        x, y = positions[element.identifier]
        # A definition has no status: its boxes say which job each element runs.
        status = element.status if with_status else ""
        about = f"{element.job} · {status}" if with_status else element.job
        box = format_html(
            '<g class="element{}" data-element="{}">'
            "<title>{} ({}){}</title>"
            '<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{}" stroke="#333"/>'
            '<text x="{}" y="{}" font-weight="bold">{}</text>'
            '<text x="{}" y="{}" font-size="12">{}</text></g>',
            f" status-{status}" if with_status else "",
            element.identifier,
            element.identifier,
            element.job,
            f": {status}" if with_status else "",
            x,
            y,
            BOX_WIDTH,
            BOX_HEIGHT,
            STATUS_COLOURS.get(status, "#ffffff"),
            x + 10,
            y + 21,
            element.identifier,
            x + 10,
            y + 40,
            about,
        )
        link = _link(element)
        if link:
            box = format_html('<a href="{}">{}</a>', link, box)
        boxes.append(box)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="pipeline-graph" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="group" aria-labelledby="pipeline-title" '
        'font-family="sans-serif" font-size="14"><title id="pipeline-title">{}</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/>'
        "</marker></defs>{}{}</svg>",
        width,
        height,
        width,
        height,
        title,
        arrow_markup,
        mark_safe("".join(boxes)),
    )

"""Template helpers of the website: links that keep the query string, durations, sizes."""

import json
from datetime import UTC, timedelta

from django import template
from django.utils.html import format_html

register = template.Library()


def _query(request, **changes) -> str:
    query = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current list's query string with another page number (filters and sort kept)."""
    return _query(context["request"], page=str(number))


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str):
    """A column header that sorts by `field`, and the other way round when it already does."""
    request = context["request"]
    current = request.GET.get("ordering", "")
    if current == field:
        target, mark = f"-{field}", " ▲"
    elif current == f"-{field}":
        target, mark = field, " ▼"
    else:
        target, mark = field, ""
    return format_html(
        '<a href="{}" rel="nofollow">{}{}</a>', _query(request, ordering=target, page=None), label, mark
    )


@register.filter
def duration(value) -> str:
    """A timedelta as `1h 02m 03s`, `2m 03s` or `0.4s`; empty when unknown."""
    if not isinstance(value, timedelta):
        return ""
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f}s"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


@register.filter
def seconds(value) -> str:
    """A bound in seconds as people write it: `3 s`, `1.5 s`, `90 s`."""
    if value is None:
        return ""
    return f"{value:g} s"


@register.filter
def since(later, earlier):
    """`completed|since:started` -> the timedelta between them, or None."""
    if later and earlier:
        return later - earlier
    return None


@register.filter
def as_text(value) -> str:
    """A parameter or result value as people write it: strings bare, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


@register.filter
def moment(value) -> str:
    """A time as `2026-01-02 03:04:05` UTC: strftime, far cheaper than `date` on long lists."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

"""The last 90 days of scans as a small SVG bar chart, drawn on the server.

Plain SVG text: one `<rect class="bar">` a day (zero days have no height),
spikes in another colour with `class="bar spike"`; each bar has a `<title>`
(the day and its count) that a browser shows on hover and a screen reader
reads.
"""

from __future__ import annotations

from typing import Final
from xml.sax.saxutils import escape, quoteattr

from registry.feedback.scans import ScanHistory

__all__ = ["scan_chart_svg"]

WIDTH: Final = 360
HEIGHT: Final = 120
TOP: Final = 14
BOTTOM: Final = 16
BAR_COLOUR: Final = "#4a6fa5"
SPIKE_COLOUR: Final = "#c0392b"


def scan_chart_svg(history: ScanHistory) -> str:
    """The chart of `history` (its days, oldest first) as an SVG document."""
    days = history.days
    peak = max((d.count for d in days), default=0)
    plot = HEIGHT - TOP - BOTTOM
    step = WIDTH / max(len(days), 1)
    spikes = sum(1 for d in days if d.spike)
    label = (
        f"Scans of {history.number} per day, {days[0].day} to {days[-1].day}: "
        f"{sum(d.count for d in days)} in all, {spikes} spike(s)"
        if days
        else f"Scans of {history.number}: none"
    )
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label={quoteattr(label)}>',
        f"<title>{escape(label)}</title>",
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#999" stroke-width="1"/>',
    ]
    for i, day in enumerate(days):
        height = 0.0 if peak == 0 else plot * day.count / peak
        x = i * step
        y = HEIGHT - BOTTOM - height
        colour = SPIKE_COLOUR if day.spike else BAR_COLOUR
        css = "bar spike" if day.spike else "bar"
        title = f"{day.day}: {day.count}" + (" (spike)" if day.spike else "")
        parts.append(
            f'<rect class="{css}" data-day="{day.day}" data-count="{day.count}" '
            f'x="{x:.2f}" y="{y:.2f}" width="{max(step - 1, 1):.2f}" height="{height:.2f}" '
            f'fill="{colour}"><title>{escape(title)}</title></rect>'
        )
    if days:
        parts.append(
            f'<text x="0" y="{HEIGHT - 3}" font-size="10" font-family="sans-serif" '
            f'fill="#555">{days[0].day}</text>'
        )
        parts.append(
            f'<text x="{WIDTH}" y="{HEIGHT - 3}" font-size="10" font-family="sans-serif" '
            f'fill="#555" text-anchor="end">{days[-1].day}</text>'
        )
        parts.append(
            f'<text x="0" y="10" font-size="10" font-family="sans-serif" fill="#555">'
            f"max {peak}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

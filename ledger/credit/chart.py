"""The chart of a profile's facts over time, as inline SVG (no script, no external asset).

One row of bars per series (events recorded, refusals, recalls...), each
scaled to its own largest period and labelled with it, periods left to right
(days, or months over a long span: see :func:`ledger.credit.profile.timeline`).
The same series feed the raster chart of the PDF report
(:mod:`ledger.credit.report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

SERIES = {
    "events": {"zh": "记录的事件", "en": "Events recorded", "color": "#0b57d0"},
    "refusals": {"zh": "被拒绝的提交", "en": "Captures refused", "color": "#b3261e"},
    "recalls": {"zh": "召回", "en": "Recalls", "color": "#b3261e"},
    "rescans": {"zh": "已配药药盒再出现", "en": "Dispensed packs seen again", "color": "#b3261e"},
    "whitelist": {"zh": "白名单变更", "en": "Whitelist changes", "color": "#7a5200"},
    "declarations": {"zh": "出口申报", "en": "Export declarations", "color": "#0b57d0"},
    "clearances": {"zh": "海关放行", "en": "Customs clearances", "color": "#11632b"},
}
"""Series names, labels and colours, in the order they are drawn."""

PER = {"day": {"zh": "每日", "en": "a day"}, "month": {"zh": "每月", "en": "a month"}}
WIDTH, ROW, LABEL_H, AXIS_H, FONT = 480, 64, 22, 24, 15


def ordered_series(timeline: Mapping[str, Any]) -> list[tuple[str, list[int]]]:
    """(name, counts) of the timeline's series, in :data:`SERIES` order (unknown names last)."""
    series = timeline.get("series", {})
    names = [name for name in SERIES if name in series] + sorted(set(series) - set(SERIES))
    return [(name, series[name]) for name in names]


def series_label(name: str, lang: str) -> str:
    return SERIES.get(name, {}).get(lang, name)


def render_svg(timeline: Mapping[str, Any], lang: str) -> str:
    """The chart as an ``<svg>`` element (empty text when there is nothing to draw)."""
    rows = ordered_series(timeline)
    periods = timeline.get("periods", [])
    if not rows or not periods:
        return ""
    height = len(rows) * ROW + AXIS_H
    slot = WIDTH / len(periods)
    bar = max(slot * 0.8, 1.0)
    per = PER.get(timeline.get("granularity", "day"), PER["day"])[lang]
    title = {"zh": "事实随时间的变化", "en": "Facts over time"}[lang]
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
              f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>')]
    for position, (name, counts) in enumerate(rows):
        top = position * ROW
        color = SERIES.get(name, {}).get("color", "#5f6368")
        peak = max(counts) if counts else 0
        label = f"{series_label(name, lang)} ({'最多' if lang == 'zh' else 'at most'} {peak} {per})"
        parts.append(f'<text x="0" y="{top + FONT}" font-size="{FONT}" fill="#3c4043">{escape(label)}</text>')
        base = top + ROW - 4
        span = ROW - LABEL_H - 6
        parts.append(f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#dadce0" stroke-width="1"/>')
        for n, count in enumerate(counts):
            if count <= 0 or peak <= 0:
                continue
            h = max(span * count / peak, 1.5)
            parts.append(f'<rect x="{n * slot + (slot - bar) / 2:.2f}" y="{base - h:.2f}" width="{bar:.2f}" '
                         f'height="{h:.2f}" fill="{color}"><title>{escape(periods[n])}: {count}</title></rect>')
    axis = len(rows) * ROW + FONT + 2
    parts.append(f'<text x="0" y="{axis}" font-size="{FONT - 2}" fill="#5f6368">{escape(periods[0])}</text>')
    if len(periods) > 1:
        parts.append(f'<text x="{WIDTH}" y="{axis}" font-size="{FONT - 2}" fill="#5f6368" text-anchor="end">'
                     f'{escape(periods[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)

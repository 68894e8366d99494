"""Server-rendered HTML pages for people who scan a code with a phone.

``render_consumer_page(trace, lang)`` turns the JSON trace the resolver
serves (``api.trace``) into a self-contained page: what the product is, its
current status (with a warning when it was dispensed, sold, recalled,
stolen or destroyed), and its history, oldest first, with each event's
anchoring status. No script, no external asset: it works offline and on
any phone. Labels exist in English and Chinese; other languages get English.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

_LABELS = {
    "en": {
        "title": "Product history",
        "product": "Product",
        "status": "Current status",
        "location": "Location",
        "holder": "Last handled by",
        "last_step": "Last step",
        "history": "History",
        "time": "Time",
        "step": "Step",
        "disposition": "Status",
        "where": "Where",
        "proof": "Anchored",
        "anchored": "yes",
        "pending": "pending",
        "via": "as part of",
        "no_events": "No events recorded.",
        "warning": "Warning: this item is marked",
        "checkpoint": "Log checkpoint anchored on chain",
        "no_checkpoint": "Not anchored on chain yet.",
        "truncated": "The history is longer than shown.",
        "lots": "Lots",
        "items": "Items",
        "unknown": "unknown",
    },
    "zh": {
        "title": "产品追溯",
        "product": "产品",
        "status": "当前状态",
        "location": "位置",
        "holder": "最后经手方",
        "last_step": "最后环节",
        "history": "流转记录",
        "time": "时间",
        "step": "环节",
        "disposition": "状态",
        "where": "地点",
        "proof": "已上链",
        "anchored": "是",
        "pending": "待锚定",
        "via": "随",
        "no_events": "暂无记录。",
        "warning": "警告：该商品状态为",
        "checkpoint": "日志检查点已锚定上链",
        "no_checkpoint": "尚未锚定上链。",
        "truncated": "记录较多，未全部显示。",
        "lots": "批次",
        "items": "单品",
        "unknown": "未知",
    },
}
_ALERT_DISPOSITIONS = frozenset({"recalled", "stolen", "destroyed", "disposed", "dispensed", "retail_sold", "expired", "damaged"})

_STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:0;padding:1rem;max-width:48rem;margin:auto;color:#1d2733}
h1{font-size:1.4rem;margin:.2rem 0 1rem}code{font-size:.85rem;word-break:break-all}
.card{border:1px solid #d6dde5;border-radius:.5rem;padding:.8rem 1rem;margin-bottom:1rem}
.alert{background:#fdecea;border-color:#e7a59e;color:#8a1c12;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:#5a6878}dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #e5e9ee;vertical-align:top}
.muted{color:#6b7785;font-size:.8rem}
"""


def _labels(lang: str) -> tuple[str, Mapping[str, str]]:
    primary = (lang or "en").split("-")[0].lower()
    return (primary, _LABELS[primary]) if primary in _LABELS else ("en", _LABELS["en"])


def _words(term: str | None) -> str:
    if not term:
        return ""
    return term.rsplit("/", 1)[-1].rsplit(":", 1)[-1].replace("_", " ").capitalize()


def _place(location: str | None, names: Mapping[str, str], unknown: str) -> str:
    if not location:
        return escape(unknown)
    name = names.get(location)
    return escape(name) if name else f"<code>{escape(location)}</code>"


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def render_consumer_page(trace: dict, lang: str) -> str:
    """The consumer page of one item, lot or container, from the resolver's JSON trace."""
    lang, t = _labels(lang)
    names: Mapping[str, str] = trace.get("locationNames") or {}
    parties: Mapping[str, Mapping[str, str]] = trace.get("participants") or {}
    key = trace.get("key", "")
    parts = [f"<h1>{escape(t['title'])}</h1>"]
    parts.append(f'<div class="card"><dl><dt>{escape(t["product"])}</dt><dd><code>{escape(key)}</code></dd>')
    state = trace.get("state")
    if state:
        holder = state.get("participant") or {}
        parts.append(
            f"<dt>{escape(t['status'])}</dt><dd>{escape(_words(state.get('disposition')) or t['unknown'])}</dd>"
            f"<dt>{escape(t['last_step'])}</dt><dd>{escape(_words(state.get('bizStep')) or t['unknown'])}</dd>"
            f"<dt>{escape(t['location'])}</dt><dd>{_place(state.get('location'), names, t['unknown'])}</dd>"
            f"<dt>{escape(t['holder'])}</dt><dd>{escape(holder.get('name') or state.get('participantId') or t['unknown'])}</dd>"
        )
    parts.append("</dl></div>")
    if state and state.get("disposition") in _ALERT_DISPOSITIONS:
        parts.append(f'<div class="card alert">{escape(t["warning"])} {escape(_words(state["disposition"]))}.</div>')

    parts.append(f"<h2>{escape(t['history'])}</h2>")
    events = trace.get("events") or []
    if not events:
        parts.append(f"<p>{escape(t['no_events'])}</p>")
    else:
        parts.append(
            f"<table><thead><tr><th>{escape(t['time'])}</th><th>{escape(t['step'])}</th><th>{escape(t['where'])}</th>"
            f"<th>{escape(t['disposition'])}</th><th>{escape(t['proof'])}</th></tr></thead><tbody>"
        )
        for event in events:
            author = parties.get(event.get("participantId") or "", {}).get("name")
            applies = event.get("appliesTo") or []
            via = ""
            if key not in applies and applies:
                via = f'<div class="muted">{escape(t["via"])} <code>{escape(applies[0])}</code></div>'
            step = escape(_words(event.get("bizStep")) or event.get("type") or "")
            location_name = names.get(event.get("location") or "")
            by = f'<div class="muted">{escape(author)}</div>' if author and author != location_name else ""
            anchored = t["anchored"] if event.get("anchored") else t["pending"]
            parts.append(
                f"<tr><td>{escape(event.get('eventTime') or '')}</td><td>{step}{via}</td>"
                f"<td>{_place(event.get('location'), names, t['unknown'])}{by}</td>"
                f"<td>{escape(_words(event.get('disposition')))}</td><td>{escape(anchored)}</td></tr>"
            )
        parts.append("</tbody></table>")
    if trace.get("truncated"):
        parts.append(f'<p class="muted">{escape(t["truncated"])}</p>')
    checkpoint = trace.get("checkpoint")
    if checkpoint:
        parts.append(
            f'<p class="muted">{escape(t["checkpoint"])} {escape(str(checkpoint.get("chainId")))}: '
            f'{escape(str(checkpoint.get("treeSize")))} records, root <code>{escape(str(checkpoint.get("rootHash")))}</code>, '
            f'block {escape(str(checkpoint.get("blockNumber")))}.</p>'
        )
    else:
        parts.append(f'<p class="muted">{escape(t["no_checkpoint"])}</p>')
    return _page(lang, f"{t['title']} {key}", "".join(parts))


def render_product_page(listing: dict, lang: str) -> str:
    """The page of a product (``/01/{gtin}``): the lots and items known for it."""
    lang, t = _labels(lang)
    key = listing.get("key", "")
    parts = [f"<h1>{escape(t['product'])} <code>{escape(key)}</code></h1>"]
    for label, entries in ((t["lots"], listing.get("lots") or []), (t["items"], listing.get("items") or [])):
        if not entries:
            continue
        parts.append(f"<h2>{escape(label)}</h2><ul>")
        for entry in entries:
            entry_key = entry.get("key", "")
            status = _words(entry.get("disposition"))
            parts.append(
                f'<li><a href="{escape(entry_key)}">{escape(entry_key)}</a>'
                + (f" &middot; {escape(status)}" if status else "")
                + "</li>"
            )
        parts.append("</ul>")
    return _page(lang, f"{t['product']} {key}", "".join(parts))

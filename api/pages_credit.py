"""The credit profile page (``GET /v1/participants/{id}/credit/page``), server-rendered.

The grade, the factors that moved it (each with its rule, value, threshold,
effect and evidence links to verifiable bundles), a chart of the facts over
time (inline SVG), every fact and the rules that did not hold, in Chinese or
English (``?lang=``, else ``Accept-Language``; a switch links to the other
language). The page chrome is :mod:`api.page_kit`'s; the profile's sections
are :func:`ledger.credit.render.profile_html`, shared with the HTML/PDF report.
"""

from __future__ import annotations

from html import escape
from typing import Any

from api.page_kit import bilingual, language_switch, page
from ledger.credit.render import STYLE, TEXT, profile_html

HEADINGS = {
    400: {"zh": "档案编号格式错误", "en": "Malformed profile id"},
    404: {"zh": "未找到该参与方或贸易商", "en": "No such participant or trader"},
}
ID_HINT = {
    "zh": "可用参与方 ID（0x 加 64 位十六进制）、GLN（13 位）或统一社会信用代码（18 位）。",
    "en": "Use a participant id (0x and 64 hex digits), a GLN (13 digits) or a USCC (18 characters).",
}


def render_credit_page(profile: dict[str, Any], lang: str, *, here: str, export_url: str) -> str:
    subject = profile["subject"]
    title = f"{TEXT[lang]['title']}: {subject.get('name') or subject['id']}"
    body = (f'<header><h1>{escape(TEXT[lang]["title"])}</h1>{language_switch(lang, here)}</header>'
            f"{profile_html(profile, lang, links='', export_url=export_url)}")
    return page(lang, title, body, style=STYLE)


def render_credit_error(status: int, message: str, lang: str, *, here: str) -> str:
    """The 400/404 page: what went wrong (the error's own message) and which ids work, in both languages."""
    heading = HEADINGS.get(status, HEADINGS[400])
    body = (f'<header><h1>{escape(heading[lang])}</h1>{language_switch(lang, here)}</header>'
            f'<section class="card"><p class="code" role="alert">{escape(message)}</p>{bilingual(lang, ID_HINT)}</section>')
    return page(lang, heading[lang], body)

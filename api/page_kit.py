"""Shared chrome of the server-rendered pages: language choice, links, CSS, the HTML shell.

Every page is one self-contained document (inline CSS, no external asset,
readable without script) in Chinese or English. Callers escape every value
they put in a page with :func:`html.escape`; the helpers here escape what
they are given, so a caller passes plain text, never HTML, unless the
parameter says ``_html``.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from urllib.parse import parse_qsl, urlencode

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"
SWITCH_LABEL = {"zh": "English", "en": "中文"}
"""The label of the link to the *other* language, keyed by the page's language."""

STYLE = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI','PingFang SC',"
    "'Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#1a1a1a;background:#f4f5f7}"
    "main{max-width:40rem;margin:0 auto;padding:1rem}"
    "header{display:flex;justify-content:space-between;align-items:baseline;gap:1rem}"
    "h1{font-size:1.25rem;margin:.5rem 0}h2{font-size:1.05rem;margin:1.25rem 0 .5rem}"
    "a{color:#0b57d0}.card{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002}"
    ".who{font-size:1.1rem;font-weight:600;margin:0}.code{font-family:ui-monospace,Menlo,Consolas,monospace;"
    "overflow-wrap:anywhere}.badge{display:inline-block;padding:.35rem .8rem;border-radius:999px;font-weight:700;"
    "margin:.75rem 0}.ok{background:#e3f5e8;color:#11632b}.warn{background:#fff4d6;color:#7a5200}"
    ".bad{background:#fde7e7;color:#9b1c1c}.alert{border-left:4px solid #9b1c1c;padding:.5rem .75rem;"
    "background:#fde7e7;margin:.75rem 0}dl{margin:0;display:grid;grid-template-columns:1fr;gap:.15rem}"
    "dt{color:#5f6368;font-size:.85rem;margin-top:.5rem}dd{margin:0;overflow-wrap:anywhere}"
    "ul{margin:0;padding-left:1.2rem}footer{color:#5f6368;font-size:.8rem;margin-top:1rem}"
    "@media(min-width:34rem){dl{grid-template-columns:11rem 1fr}dt{margin-top:0}}"
)


def pick_language(accept_language: str | None, lang: str | None) -> str:
    """``lang`` if it is zh or en; else the best of zh/en in ``Accept-Language`` (by q-value); else English.

    Any Chinese tag (``zh``, ``zh-CN``, ``zh-TW``, ``zh-Hant``) counts as zh.
    """
    if lang and lang.strip().lower()[:2] in LANGUAGES:
        return lang.strip().lower()[:2]
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for tag, q in weighted_values(accept_language):
        primary = tag.split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def weighted_values(header: str | None) -> Iterator[tuple[str, float]]:
    """(value, q) of each entry of an ``Accept``-style header, values lower-cased; a bad q counts as 0."""
    for part in (header or "").split(","):
        value, *parameters = part.strip().split(";")
        q = 1.0
        for parameter in parameters:
            name, _, text = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(text)
                except ValueError:
                    q = 0.0
        yield value.strip().lower(), q


def other_language(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def html_lang(lang: str) -> str:
    """The BCP 47 tag of a page language: the Chinese pages are written in simplified characters."""
    return "zh-CN" if lang == "zh" else "en"


def content_language(lang: str) -> dict[str, str]:
    """Response headers of a page whose language was chosen from ``Accept-Language`` (caches must keep both)."""
    return {"Content-Language": html_lang(lang), "Vary": "Accept, Accept-Language"}


def with_query(here: str | None, name: str, value: str) -> str:
    """A link to ``here`` (the request's path and query) with query parameter ``name`` set to ``value``.

    Other parameters (such as a Digital Link's ``?17=`` expiry) are kept.
    Without a usable ``here`` (None, or not a path on this host), a
    query-only link: the browser resolves it against the current page.
    """
    if not here or not here.startswith("/") or here.startswith("//"):
        return "?" + urlencode([(name, value)])
    path, _, query = here.partition("?")
    kept = [(key, old) for key, old in parse_qsl(query, keep_blank_values=True) if key != name]
    return path + "?" + urlencode([*kept, (name, value)])


def language_switch(lang: str, here: str | None = None) -> str:
    """The link to the same page in the other language, labelled in that language."""
    other = other_language(lang)
    href = with_query(here, "lang", other)
    return (f'<a class="switch" id="language-switch" href="{escape(href)}" hreflang="{html_lang(other)}" '
            f'lang="{html_lang(other)}">{escape(SWITCH_LABEL[lang])}</a>')


def row(label: str, value_html: str) -> str:
    """One ``<dt>``/``<dd>`` pair; ``value_html`` must already be escaped."""
    return f"<dt>{escape(label)}</dt><dd>{value_html}</dd>"


def code(text: object) -> str:
    """A value shown as is (identifiers, hashes, addresses), escaped, in a monospace span."""
    return f'<span class="code">{escape(str(text))}</span>'


def bilingual(lang: str, texts: dict[str, str]) -> str:
    """Both languages as paragraphs, the chosen one first."""
    return "".join(f'<p lang="{html_lang(code_)}">{escape(texts[code_])}</p>' for code_ in (lang, other_language(lang)))


def page(lang: str, title: str, body_html: str, *, style: str = "") -> str:
    """The whole document: ``body_html`` (already escaped) inside ``<main>``, with the shared CSS and ``style``."""
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head>"
        f"<body><main>{body_html}</main></body></html>\n"
    )

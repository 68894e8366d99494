"""``traceledger credit report``: many profiles in one HTML or PDF file.

HTML: one self-contained document (inline CSS and SVG charts, no script):
a summary table (subject, grade, score, the rules that moved it), then each
profile as the page shows it, evidence as text (a report is read offline).

PDF: drawn with Pillow, one A4 page per profile after the summary pages: the
grade, the factors with their effect and how much evidence they cite, the
facts, and the facts-over-time chart as bars. Pages are written to the file
in batches (Pillow appends to a PDF), so a report over thousands of
participants never holds more than one batch of page images in memory.
Chinese needs a font with CJK glyphs: ``--font FILE``, else
``TRACELEDGER_CJK_FONT``, else a usual system path (Noto CJK, WenQuanYi, Droid).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ledger.credit.chart import ordered_series, series_label
from ledger.credit.errors import CreditInputError
from ledger.credit.render import GRADE_CLASS, STYLE, TEXT, format_value, profile_html
from ledger.crossborder.qr import CJK_FONT_CANDIDATES
from scanner.labels import CAPTION_FONT

FORMATS = (".html", ".pdf")
DPI = 110
PAGE = (round(8.27 * DPI), round(11.69 * DPI))  # A4
MARGIN = 60
PDF_BATCH = 40
COLORS = {"ok": (17, 99, 43), "warn": (122, 82, 0), "bad": (155, 28, 28)}
SUMMARY = {
    "zh": {"title": "信用档案报告", "subject": "对象", "grade": "等级", "score": "得分", "moved": "触发的规则",
           "count": "共 {n} 份档案", "rules": "评分规则 {version}（sha256 {sha}…）", "evidence": "证据 {n} 条"},
    "en": {"title": "Credit profile report", "subject": "Subject", "grade": "Grade", "score": "Score",
           "moved": "Rules that held", "count": "{n} profiles", "rules": "rules {version} (sha256 {sha}…)",
           "evidence": "{n} evidence link(s)"},
}
_BASE_STYLE = (
    "body{margin:0;font:15px/1.5 system-ui,'Segoe UI','PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
    "color:#1a1a1a;background:#f4f5f7}main{max-width:46rem;margin:0 auto;padding:1rem}h2{font-size:1.05rem}"
    ".card{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002}.who{font-weight:600}"
    ".code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}.ok{background:#e3f5e8;"
    "color:#11632b}.warn{background:#fff4d6;color:#7a5200}.bad{background:#fde7e7;color:#9b1c1c}"
    "article{margin:2rem 0;page-break-before:always}footer{color:#5f6368;font-size:.8rem}"
)


def output_kind(path: Path) -> str:
    """``.html`` or ``.pdf``; CreditInputError (field ``out``) for anything else."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CreditInputError("out", f"{path.name} must end in .html or .pdf")
    return suffix


def read_id_list(path: Path) -> list[str]:
    """The ids in ``path``, one per line; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CreditInputError("list", f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    ids = [line.split("#", 1)[0].strip() for line in lines]
    return [text for text in ids if text]


def write_report(profiles: Sequence[dict[str, Any]], out: Path, *, lang: str, font: Path | None = None) -> Path:
    """Write ``profiles`` to ``out`` (HTML or PDF by its suffix); return ``out``."""
    kind = output_kind(out)
    if lang not in TEXT:
        raise CreditInputError("lang", f"must be zh or en, got {lang!r}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == ".html":
            out.write_text(report_html(profiles, lang), encoding="utf-8")
        else:
            write_pdf(profiles, out, lang=lang, font=font)
    except OSError as error:
        raise CreditInputError("out", f"cannot write {out}: {error.strerror}") from None
    return out


# -- HTML --------------------------------------------------------------------------------------


def _summary_rows(profiles: Sequence[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    rows = []
    for profile in profiles:
        subject = profile["subject"]
        name = subject.get("name") or subject["id"]
        ident = subject.get("gln") or subject["id"]
        rows.append((f"{name} ({ident})", profile["grade"], f"{profile['score']:g}",
                     ", ".join(f["rule"] for f in profile["factors"]) or "—"))
    return rows


def report_html(profiles: Sequence[dict[str, Any]], lang: str) -> str:
    s = SUMMARY[lang]
    rows = "".join(
        f'<tr><td>{escape(who)}</td><td class="{GRADE_CLASS.get(grade, "warn")}">{escape(grade)}</td>'
        f"<td>{escape(score)}</td><td class=\"code\">{escape(moved)}</td></tr>"
        for who, grade, score, moved in _summary_rows(profiles))
    rules = profiles[0]["rules"] if profiles else None
    rules_line = escape(s["rules"].format(version=rules["version"], sha=rules["sha256"][:12])) if rules else ""
    articles = "".join(f"<article>{profile_html(p, lang, links=None, export_url=None)}</article>" for p in profiles)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(s["title"])}</title>'
        f"<style>{_BASE_STYLE}{STYLE}</style></head><body><main><h1>{escape(s['title'])}</h1>"
        f"<p>{escape(s['count'].format(n=len(profiles)))} · {rules_line}</p>"
        f'<section class="card"><table><tr><th>{escape(s["subject"])}</th><th>{escape(s["grade"])}</th>'
        f'<th>{escape(s["score"])}</th><th>{escape(s["moved"])}</th></tr>{rows}</table></section>'
        f"{articles}</main></body></html>\n"
    )


# -- PDF ---------------------------------------------------------------------------------------


def find_font(lang: str, font: Path | None) -> Path:
    """The font to draw with: ``font``, else DejaVu Sans (English) or the first CJK font found (Chinese)."""
    if font is not None:
        if not font.is_file():
            raise CreditInputError("font", f"no font file at {font}")
        return font
    if lang == "en":
        return CAPTION_FONT
    candidates = [os.environ["TRACELEDGER_CJK_FONT"]] if os.environ.get("TRACELEDGER_CJK_FONT") else []
    for candidate in [*candidates, *CJK_FONT_CANDIDATES]:
        if Path(candidate).is_file():
            return Path(candidate)
    raise CreditInputError("font", "a Chinese report needs a font with CJK glyphs: pass --font FILE "
                                   "or set TRACELEDGER_CJK_FONT (e.g. Noto Sans CJK or WenQuanYi)")


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: broken at spaces, and anywhere inside a run of text
    without spaces that is too wide by itself (Chinese has none)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and font.getlength(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    lines.append(line)
    return lines


class _Pager:
    """Draws text lines top to bottom on A4 pages, starting a new page when one is full."""

    def __init__(self, font_path: Path) -> None:
        try:
            self.fonts = {size: ImageFont.truetype(str(font_path), size) for size in (14, 16, 20, 44)}
        except OSError as error:
            raise CreditInputError("font", f"cannot load {font_path}: {error}") from None
        self.pages: list[Image.Image] = []
        self.new_page()

    def new_page(self) -> None:
        self.page = Image.new("RGB", PAGE, "white")
        self.draw = ImageDraw.Draw(self.page)
        self.y = MARGIN
        self.pages.append(self.page)

    def room(self, height: int) -> None:
        if self.y + height > PAGE[1] - MARGIN:
            self.new_page()

    def text(self, text: str, size: int = 14, color: tuple[int, int, int] = (26, 26, 26), indent: int = 0) -> None:
        font = self.fonts[size]
        for line in wrap(text, font, PAGE[0] - 2 * MARGIN - indent):
            self.room(size + 8)
            self.draw.text((MARGIN + indent, self.y), line, font=font, fill=color)
            self.y += size + 8

    def gap(self, height: int = 10) -> None:
        self.y += height

    def chart(self, profile: dict[str, Any], lang: str) -> None:
        rows = ordered_series(profile["timeline"])
        periods = profile["timeline"].get("periods", [])
        if not rows or not periods:
            return
        row_h = 60
        self.room(row_h * len(rows) + 30)
        width = PAGE[0] - 2 * MARGIN
        slot = width / len(periods)
        for name, counts in rows:
            peak = max(counts) or 1
            most = "最多" if lang == "zh" else "at most"
            self.draw.text((MARGIN, self.y), f"{series_label(name, lang)} ({most} {max(counts)})", font=self.fonts[14],
                           fill=(60, 64, 67))
            base = self.y + row_h - 6
            color = (11, 87, 208) if name in ("events", "declarations", "clearances") else (179, 38, 30)
            for n, count in enumerate(counts):
                if count > 0:
                    h = max((row_h - 28) * count / peak, 2)
                    x = MARGIN + n * slot
                    self.draw.rectangle((x + slot * 0.1, base - h, x + max(slot * 0.9, slot * 0.1 + 1), base), fill=color)
            self.draw.line((MARGIN, base, MARGIN + width, base), fill=(218, 220, 224))
            self.y += row_h
        self.draw.text((MARGIN, self.y + 2), periods[0], font=self.fonts[14], fill=(95, 99, 104))
        last = periods[-1]
        self.draw.text((MARGIN + width - self.fonts[14].getlength(last), self.y + 2), last, font=self.fonts[14],
                       fill=(95, 99, 104))
        self.y += 26


def _profile_pages(pager: _Pager, profile: dict[str, Any], lang: str) -> None:
    t = TEXT[lang]
    subject = profile["subject"]
    pager.new_page()
    pager.text(f"{t['title']}: {subject.get('name') or subject['id']}", 20)
    pager.text(f"GLN {subject['gln']}" if subject.get("gln") else f"USCC {subject['id']}", 14, (95, 99, 104))
    pager.gap()
    color = COLORS[GRADE_CLASS.get(profile["grade"], "warn")]
    pager.room(60)
    pager.draw.text((MARGIN, pager.y), profile["grade"], font=pager.fonts[44], fill=color)
    pager.draw.text((MARGIN + 70, pager.y + 18), f"{t['score']} {profile['score']:g} / 100 · {t['rules']} "
                    f"{profile['rules']['version']} (sha256 {profile['rules']['sha256'][:12]}…)",
                    font=pager.fonts[14], fill=(26, 26, 26))
    pager.y += 64
    pager.text(t["factors"], 16)
    if not profile["factors"]:
        pager.text(t["no_factors"], indent=12)
    for factor in profile["factors"]:
        effect = []
        if factor["effect"]["points"]:
            effect.append(f"{factor['effect']['points']:+g} {t['points']}")
        if factor["effect"]["cap"]:
            effect.append(f"{t['cap']} {factor['effect']['cap']}")
        pager.text(f"• {factor['description'][lang]}", 14, indent=12)
        pager.text(f"{' · '.join(effect)} · {t['value']} {format_value(factor['fact'], factor['value'], lang)} · "
                   f"{factor['rule']} · {SUMMARY[lang]['evidence'].format(n=len(factor['evidence']))}",
                   14, (95, 99, 104), indent=28)
    pager.gap()
    pager.text(t["chart"], 16)
    pager.chart(profile, lang)
    pager.gap()
    pager.text(t["facts"], 16)
    for name, fact in profile["facts"].items():
        pager.text(f"{fact['description'][lang]}: {format_value(name, fact['value'], lang)}", 14, indent=12)
    pager.gap()
    pager.text(f"{t['as_of']} {profile['asOf']['time']} · {profile['asOf']['logSize']} {t['log']}", 14, (95, 99, 104))


def write_pdf(profiles: Sequence[dict[str, Any]], out: Path, *, lang: str, font: Path | None = None) -> None:
    font_path = find_font(lang, font)
    s = SUMMARY[lang]
    pager = _Pager(font_path)
    pager.text(s["title"], 20)
    pager.text(s["count"].format(n=len(profiles)), 14, (95, 99, 104))
    pager.gap()
    for who, grade, score, moved in _summary_rows(profiles):
        pager.text(f"{grade}  {score:>5}  {who}  {moved}", 14)
    first = True

    def flush(final: bool = False) -> None:
        nonlocal first
        keep = [] if final else pager.pages[-1:]  # the page being drawn stays
        done = pager.pages[: len(pager.pages) - len(keep)]
        if not done:
            return
        done[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=done[1:], append=not first)
        first = False
        pager.pages = keep

    for profile in profiles:
        _profile_pages(pager, profile, lang)
        if len(pager.pages) > PDF_BATCH:
            flush()
    flush(final=True)

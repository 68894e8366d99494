"""A profile as HTML, in Chinese or English: the grade, the factors that moved it
with their evidence, the chart of the facts over time, the facts and the checks.

Shared by the API's page (``api/pages_credit.py``, which adds the page
chrome) and the HTML/PDF report of ``traceledger credit report``. Every value
from the profile goes through :func:`html.escape`. ``links``: the API host's
prefix for evidence links (``""`` for links relative to the page's host), or
None for a report read offline (evidence shown as text).
"""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.credit.chart import render_svg
from ledger.credit.facts import CATALOGUE, FLAG, SECONDS, SHARE

TEXT = {
    "zh": {
        "title": "信用档案", "grade": "信用等级", "score": "得分", "start": "起始分", "factors": "影响等级的因素",
        "no_factors": "没有规则触发：等级为满分对应的等级。", "value": "事实值", "rule": "规则", "effect": "影响",
        "points": "分", "cap": "等级最高为", "evidence": "证据", "more": "另有 {n} 条（见导出文件）",
        "chart": "事实随时间的变化", "facts": "全部事实", "checks": "已检查但未触发的规则",
        "rules": "评分规则", "as_of": "数据截至", "log": "日志记录数", "checkpoint": "最新锚定检查点",
        "verify": "可验证导出：{url}，用 traceledger verify 文件 --rpc-url 节点 核验每条证据。",
        "participant": "参与方", "trader": "贸易商（统一社会信用代码）", "roles": "角色", "status": "状态",
        "event": "事件", "tx": "交易", "block": "区块", "refusal": "被拒提交（仅索引记录，无法上链证明）",
        "yes": "是", "no": "否", "none": "—", "seconds": "秒", "no_chart": "暂无可绘制的数据。",
    },
    "en": {
        "title": "Credit profile", "grade": "Grade", "score": "Score", "start": "start", "factors": "What moved the grade",
        "no_factors": "No rule held: the grade is that of the full score.", "value": "value", "rule": "rule",
        "effect": "effect", "points": "points", "cap": "grade at most", "evidence": "Evidence",
        "more": "{n} more (in the export)", "chart": "Facts over time", "facts": "All facts",
        "checks": "Rules checked that did not hold", "rules": "Rules", "as_of": "As of", "log": "log records",
        "checkpoint": "latest anchored checkpoint",
        "verify": "Verifiable export: {url}; `traceledger verify FILE --rpc-url NODE` re-checks every piece of evidence.",
        "participant": "Participant", "trader": "Trader (USCC)", "roles": "Roles", "status": "Status",
        "event": "event", "tx": "transaction", "block": "block",
        "refusal": "refused capture (the index's word: refusals never enter the log)",
        "yes": "yes", "no": "no", "none": "—", "seconds": "s", "no_chart": "Nothing to draw yet.",
    },
}
GRADE_CLASS = {"A": "ok", "B": "ok", "C": "warn", "D": "bad"}
EVIDENCE_SHOWN = 5
STYLE = (
    ".grade{font-size:2.5rem;font-weight:800;line-height:1;padding:.4rem 1rem;border-radius:.75rem;display:inline-block}"
    ".factor{border-top:1px solid #e0e0e0;padding:.6rem 0}.factor:first-child{border-top:0}"
    ".factor .what{font-weight:600}.effect{font-weight:700}.neg{color:#9b1c1c}.pos{color:#11632b}"
    ".evidence{font-size:.85rem;color:#3c4043;margin:.3rem 0 0}.chart{display:block;margin:.5rem 0}"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}td{padding:.25rem .4rem;border-top:1px solid #eee;"
    "vertical-align:top}td.v{text-align:right;white-space:nowrap}details{margin-top:.5rem}"
)


def short(text: str, keep: int = 10) -> str:
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-6:]}"


def format_value(name: str, value: Any, lang: str) -> str:
    t = TEXT[lang]
    if value is None:
        return t["none"]
    kind = CATALOGUE[name].type if name in CATALOGUE else None
    if kind == FLAG:
        return t["yes"] if value else t["no"]
    if kind == SHARE:
        return f"{value * 100:.1f}%"
    if kind == SECONDS:
        return f"{value:,.1f} {t['seconds']}"
    return str(value)


def _link(href: str | None, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>' if href is not None else escape(text)


def evidence_html(ref: dict[str, Any], lang: str, links: str | None) -> str:
    t = TEXT[lang]
    kind = ref.get("kind")
    if kind == "event":
        href = f"{links}/v1/records/{ref['logIndex']}/evidence" if links is not None else None
        return f"{t['event']} #{ref['logIndex']} " + _link(href, short(ref["eventHashID"], 24))
    if kind == "checkpoint":
        href = f"{links}/v1/checkpoints/{ref['treeSize']}" if links is not None else None
        tx = f" {t['tx']} {escape(short(ref['tx']))}" if ref.get("tx") else ""
        return _link(href, f"checkpoint {ref['treeSize']}") + tx
    if kind == "transaction":
        return (f"{t['tx']} {escape(short(ref['txHash']))} ({escape(ref['contractName'])}.{escape(ref['event'])}, "
                f"{t['block']} {ref['block']})")
    return f"{escape(t['refusal'])}: {escape(str(ref.get('captureID')))}"


def _evidence_list(evidence: list[dict[str, Any]], total: int | None, lang: str, links: str | None) -> str:
    shown = evidence[:EVIDENCE_SHOWN]
    if not shown:
        return ""
    items = "".join(f"<li>{evidence_html(ref, lang, links)}</li>" for ref in shown)
    rest = len(evidence) - len(shown)
    if rest > 0:
        items += f"<li>{escape(TEXT[lang]['more'].format(n=rest))}</li>"
    return f'<ul class="evidence">{items}</ul>'


def _effect(effect: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    parts = []
    points = effect.get("points") or 0
    if points:
        css = "neg" if points < 0 else "pos"
        parts.append(f'<span class="effect {css}">{points:+g} {escape(t["points"])}</span>')
    if effect.get("cap"):
        parts.append(f'<span class="effect neg">{escape(t["cap"])} {escape(effect["cap"])}</span>')
    return " · ".join(parts)


def subject_html(profile: dict[str, Any], lang: str) -> str:
    t, subject = TEXT[lang], profile["subject"]
    name = escape(subject.get("name") or subject["id"])
    if subject["kind"] == "participant":
        detail = (f'<p class="code">{escape(t["participant"])}: GLN {escape(subject.get("gln") or "")} · '
                  f'{escape(short(subject["id"], 12))}</p>'
                  f'<p>{escape(t["roles"])}: {escape(", ".join(subject.get("roles") or []))} · '
                  f'{escape(t["status"])}: {escape(str(subject.get("status")))}</p>')
    else:
        detail = f'<p class="code">{escape(t["trader"])}: {escape(subject["id"])}</p>'
    return f'<p class="who">{name}</p>{detail}'


def grade_html(profile: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    css = GRADE_CLASS.get(profile["grade"], "warn")
    rules = profile["rules"]
    return (f'<p><span class="grade {css}" id="credit-grade">{escape(profile["grade"])}</span></p>'
            f'<p>{escape(t["score"])} {profile["score"]:g} / 100 ({escape(t["start"])} {profile["startScore"]:g}) · '
            f'{escape(t["rules"])} {escape(rules["version"])} <span class="code">sha256 {escape(rules["sha256"][:12])}…'
            f'</span></p>')


def factors_html(profile: dict[str, Any], lang: str, links: str | None) -> str:
    t = TEXT[lang]
    if not profile["factors"]:
        return f"<p>{escape(t['no_factors'])}</p>"
    blocks = []
    for factor in profile["factors"]:
        value = format_value(factor["fact"], factor["value"], lang)
        threshold = format_value(factor["fact"], factor["threshold"], lang)
        blocks.append(
            f'<div class="factor" data-rule="{escape(factor["rule"])}">'
            f'<p class="what">{escape(factor["description"][lang])}</p>'
            f'<p>{_effect(factor["effect"], lang)} · {escape(t["value"])} {escape(value)} '
            f'({escape(t["rule"])} <span class="code">{escape(factor["rule"])}</span>: '
            f'{escape(factor["fact"])} {escape(factor["when"])} {escape(threshold)})</p>'
            f'{_evidence_list(factor["evidence"], factor.get("evidenceTotal"), lang, links)}</div>')
    return "".join(blocks)


def facts_html(profile: dict[str, Any], lang: str) -> str:
    rows = "".join(f'<tr><td>{escape(fact["description"][lang])}</td>'
                   f'<td class="v">{escape(format_value(name, fact["value"], lang))}</td></tr>'
                   for name, fact in profile["facts"].items())
    return f"<table>{rows}</table>"


def checks_html(profile: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    rows = "".join(f'<tr><td>{escape(check["description"][lang])}</td>'
                   f'<td class="v">{escape(format_value(check["fact"], check["value"], lang))}</td></tr>'
                   for check in profile["checks"])
    return f"<details><summary>{escape(t['checks'])} ({len(profile['checks'])})</summary><table>{rows}</table></details>"


def as_of_html(profile: dict[str, Any], lang: str, export_url: str | None) -> str:
    t, as_of = TEXT[lang], profile["asOf"]
    checkpoint = as_of.get("checkpoint")
    anchored = (f' · {escape(t["checkpoint"])} {checkpoint["treeSize"]} ({escape(t["block"])} {checkpoint["blockNumber"]})'
                if checkpoint else "")
    verify = f"<p>{escape(t['verify'].format(url=export_url))}</p>" if export_url else ""
    return f'<p>{escape(t["as_of"])} {escape(as_of["time"])} · {as_of["logSize"]} {escape(t["log"])}{anchored}</p>{verify}'


def profile_html(profile: dict[str, Any], lang: str, *, links: str | None, export_url: str | None) -> str:
    """The profile's sections (cards and headings), to place inside a page's ``<main>``."""
    t = TEXT[lang]
    chart = render_svg(profile["timeline"], lang) or f"<p>{escape(t['no_chart'])}</p>"
    return (
        f'<section class="card">{subject_html(profile, lang)}{grade_html(profile, lang)}</section>'
        f'<h2>{escape(t["factors"])}</h2><section class="card" id="factors">{factors_html(profile, lang, links)}</section>'
        f'<h2>{escape(t["chart"])}</h2><section class="card">{chart}</section>'
        f'<h2>{escape(t["facts"])}</h2><section class="card">{facts_html(profile, lang)}{checks_html(profile, lang)}</section>'
        f'<footer>{as_of_html(profile, lang, export_url)}</footer>'
    )

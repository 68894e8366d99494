"""The trader credential check page (``GET /v1/traders/{uscc}/page``), server-rendered.

What a customs officer or a buyer sees after scanning a trader's QR code:
the trader's credit level, scopes, validity window and status, and where
that was read (block number, hash and time, contract address), in Chinese
or English. ``?lang=zh|en`` wins, else ``Accept-Language`` (by q-value),
else English; the page links to the other language. One self-contained
page: inline CSS, no script, no external asset; every value from the chain
or the index goes through :func:`html.escape`.

The unknown-trader (404) and malformed-USCC (400) pages say so in both
languages, the latter naming the bad character and its position.
"""

from __future__ import annotations

from html import escape

from ledger.crossborder.credential import TraderCard, UsccProblem
from ledger.whitelist.model import iso
from ledger.whitelist.service import BlockRef

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"

LEVELS = {
    "ADVANCED_CERTIFIED": {"zh": "高级认证企业（AEO）", "en": "AEO: advanced certified enterprise"},
    "GENERAL": {"zh": "一般信用企业", "en": "General credit enterprise"},
    "DISHONEST": {"zh": "失信企业", "en": "Dishonest enterprise"},
}
SCOPE_LABELS = {
    "OFFSHORE_TRADE": {"zh": "离岸贸易便利", "en": "Offshore trade facilitation"},
    "EXPEDITED_CLEARANCE": {"zh": "快速通关", "en": "Expedited clearance"},
}
STATUS_LABELS = {
    "active": {"zh": "有效", "en": "Active"},
    "suspended": {"zh": "已暂停", "en": "Suspended"},
    "revoked": {"zh": "已撤销", "en": "Revoked"},
    "expired": {"zh": "已过期", "en": "Expired"},
    "not_yet_valid": {"zh": "尚未生效", "en": "Not yet valid"},
    "unknown": {"zh": "未列入名单", "en": "Unknown (not on the whitelist)"},
}
_STATUS_CLASS = {"active": "ok", "suspended": "warn", "not_yet_valid": "warn", "revoked": "bad", "expired": "bad",
                 "unknown": "bad"}

_TEXT = {
    "zh": {
        "title": "海关企业信用核验",
        "uscc": "统一社会信用代码",
        "name": "企业名称",
        "level": "信用等级",
        "scopes": "便利措施",
        "no_scope": "无",
        "validity": "有效期",
        "to": "至",
        "status": "状态",
        "status_reason": "状态说明",
        "version": "记录版本",
        "chain": "链上读取信息",
        "chain_note": "本页在请求时直接读取链上白名单合约状态。",
        "block_number": "区块高度",
        "block_hash": "区块哈希",
        "block_time": "区块时间",
        "contract": "合约地址",
        "chain_id": "链 ID",
        "checked_at": "核验时间",
        "dishonest": "警告：该企业为失信企业，不享受任何便利措施。",
        "switch": "English",
        "unknown_name": "（未登记名称）",
    },
    "en": {
        "title": "Customs trader credential check",
        "uscc": "Unified social credit code",
        "name": "Name",
        "level": "Credit level",
        "scopes": "Facilitation scopes",
        "no_scope": "none",
        "validity": "Valid",
        "to": "to",
        "status": "Status",
        "status_reason": "Status note",
        "version": "Entry version",
        "chain": "Read from the chain",
        "chain_note": "This page reads the whitelist contract's state at request time.",
        "block_number": "Block number",
        "block_hash": "Block hash",
        "block_time": "Block time",
        "contract": "Contract address",
        "chain_id": "Chain ID",
        "checked_at": "Checked at",
        "dishonest": "Warning: this trader is listed as dishonest and holds no facilitation.",
        "switch": "中文",
        "unknown_name": "(no name on record)",
    },
}

_STYLE = (
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
    """``lang`` if it is zh or en; else the best of zh/en in ``Accept-Language``; else English."""
    if lang and lang.strip().lower()[:2] in LANGUAGES:
        return lang.strip().lower()[:2]
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (accept_language or "").split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def _html_lang(lang: str) -> str:
    return "zh-CN" if lang == "zh" else "en"


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{_html_lang(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )


def _switch(lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    return (f'<a class="switch" href="?lang={other}" hreflang="{_html_lang(other)}" lang="{_html_lang(other)}">'
            f"{escape(_TEXT[lang]['switch'])}</a>")


def _row(label: str, value_html: str) -> str:
    return f"<dt>{escape(label)}</dt><dd>{value_html}</dd>"


def level_label(level: str, lang: str) -> str:
    return LEVELS.get(level, {}).get(lang, level)


def scope_label(scope: str, lang: str) -> str:
    return SCOPE_LABELS.get(scope, {}).get(lang, scope)


def status_label(status: str, lang: str) -> str:
    return STATUS_LABELS.get(status, {}).get(lang, status)


def render_trader_page(card: TraderCard, lang: str) -> str:
    t = _TEXT[lang]
    status_class = _STATUS_CLASS.get(card.status, "warn")
    if card.level == "DISHONEST":
        status_class = "bad"
    scopes = (
        "<ul>" + "".join(f'<li>{escape(scope_label(s, lang))} <span class="code">({escape(s)})</span></li>'
                         for s in card.scopes) + "</ul>"
        if card.scopes else escape(t["no_scope"])
    )
    rows = [
        _row(t["level"], f'{escape(level_label(card.level, lang))} <span class="code">({escape(card.level)})</span>'),
        _row(t["scopes"], scopes),
        _row(t["validity"], f'<span class="code">{escape(card.valid_from)}</span> {escape(t["to"])} '
                            f'<span class="code">{escape(card.valid_until)}</span>'),
        _row(t["status"], f'{escape(status_label(card.status, lang))} <span class="code">({escape(card.status)})</span>'),
    ]
    if card.status_reason:
        rows.append(_row(t["status_reason"], escape(card.status_reason)))
    rows.append(_row(t["version"], escape(str(card.version))))
    chain_rows = [
        _row(t["block_number"], f'<span class="code">{card.block_number}</span>'),
        _row(t["block_hash"], f'<span class="code">{escape(card.block_hash)}</span>'),
        _row(t["block_time"], f'<span class="code">{escape(card.block_time)}</span>'),
        _row(t["contract"], f'<span class="code">{escape(card.contract)}</span>'),
        _row(t["chain_id"], f'<span class="code">{card.chain_id}</span>'),
        _row(t["checked_at"], f'<span class="code">{escape(card.checked_at)}</span>'),
    ]
    name = escape(card.name) if card.name else escape(t["unknown_name"])
    alert = f'<p class="alert" role="alert">{escape(t["dishonest"])}</p>' if card.level == "DISHONEST" else ""
    body = (
        f'<header><h1>{escape(t["title"])}</h1>{_switch(lang)}</header>'
        f'<section class="card"><p class="who">{name}</p>'
        f'<p class="code">{escape(t["uscc"])}: {escape(card.uscc)}</p>'
        f'<span class="badge {status_class}">{escape(status_label(card.status, lang))}</span>{alert}'
        f'<dl>{"".join(rows)}</dl></section>'
        f'<h2>{escape(t["chain"])}</h2><section class="card"><dl>{"".join(chain_rows)}</dl></section>'
        f'<footer>{escape(t["chain_note"])}</footer>'
    )
    return _page(lang, f'{t["title"]}: {card.name or card.uscc}', body)


def _bilingual(lang: str, texts: dict[str, str]) -> str:
    """Both languages, the chosen one first."""
    order = (lang, "en" if lang == "zh" else "zh")
    return "".join(f'<p lang="{_html_lang(code)}">{escape(texts[code])}</p>' for code in order)


def render_not_found(uscc: str, lang: str, block: BlockRef | None = None) -> str:
    at_zh = f"（截至区块 {block.number}，{iso(block.timestamp)}）" if block is not None else ""
    at_en = f" (as of block {block.number}, {iso(block.timestamp)})" if block is not None else ""
    texts = {"zh": f"统一社会信用代码为 {uscc} 的企业不在海关信用白名单上{at_zh}。",
             "en": f"The trader with USCC {uscc} is not on the customs whitelist{at_en}."}
    heading = {"zh": "未找到该企业", "en": "Trader not found"}
    body = (f'<header><h1>{escape(heading[lang])}</h1>{_switch(lang)}</header>'
            f'<section class="card"><span class="badge bad">{escape(status_label("unknown", lang))}</span>'
            f"{_bilingual(lang, texts)}{_block_note(lang, block)}</section>")
    return _page(lang, heading[lang], body)


def _block_note(lang: str, block: BlockRef | None) -> str:
    if block is None:
        return ""
    t = _TEXT[lang]
    return (f'<dl>{_row(t["block_number"], f"<span class=code>{block.number}</span>")}'
            f'{_row(t["block_hash"], f"<span class=code>{escape(block.hash)}</span>")}</dl>')


def uscc_problem_texts(text: str, problem: UsccProblem) -> dict[str, str]:
    shown = text.strip()
    match problem.kind:
        case "length":
            return {"zh": f"“{shown}”不是有效的统一社会信用代码：应为 18 位，实际为 {problem.length} 位。",
                    "en": f"{shown!r} is not a valid USCC: it must be 18 characters, got {problem.length}."}
        case "character":
            return {"zh": f"“{shown}”不是有效的统一社会信用代码：第 {problem.position} 位字符“{problem.character}”"
                          "不允许（不使用 I、O、S、V、Z）。",
                    "en": f"{shown!r} is not a valid USCC: character {problem.character!r} at position "
                          f"{problem.position} is not allowed (I, O, S, V and Z are never used)."}
        case "division_digit":
            return {"zh": f"“{shown}”不是有效的统一社会信用代码：第 {problem.position} 位字符“{problem.character}”"
                          "不允许，第 3-8 位（行政区划码）必须是数字。",
                    "en": f"{shown!r} is not a valid USCC: character {problem.character!r} at position "
                          f"{problem.position} is not allowed: positions 3-8 (administrative division code) are digits."}
    return {"zh": f"“{shown}”不是有效的统一社会信用代码：第 18 位校验码为“{problem.character}”，应为“{problem.expected}”。",
            "en": f"{shown!r} is not a valid USCC: check character is {problem.character!r}, "
                  f"expected {problem.expected!r}."}


def render_bad_uscc(text: str, problem: UsccProblem, lang: str) -> str:
    heading = {"zh": "统一社会信用代码格式错误", "en": "Malformed unified social credit code"}
    body = (f'<header><h1>{escape(heading[lang])}</h1>{_switch(lang)}</header>'
            f'<section class="card">{_bilingual(lang, uscc_problem_texts(text, problem))}</section>')
    return _page(lang, heading[lang], body)


def render_unavailable(message: str, lang: str) -> str:
    heading = {"zh": "暂时无法读取链上状态", "en": "The chain cannot be read right now"}
    texts = {"zh": "无法读取白名单合约，请稍后再试。", "en": "The whitelist contract could not be read; try again later."}
    body = (f'<header><h1>{escape(heading[lang])}</h1>{_switch(lang)}</header>'
            f'<section class="card">{_bilingual(lang, texts)}<p class="code">{escape(message)}</p></section>')
    return _page(lang, heading[lang], body)

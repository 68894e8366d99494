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

from api.page_kit import DEFAULT_LANGUAGE, LANGUAGES, bilingual, language_switch, page, pick_language, row
from ledger.crossborder.credential import TraderCard, UsccProblem
from ledger.whitelist.model import iso
from ledger.whitelist.service import BlockRef

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "pick_language",
    "render_bad_uscc",
    "render_not_found",
    "render_trader_page",
    "render_unavailable",
]

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
        "unknown_name": "(no name on record)",
    },
}

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
        row(t["level"], f'{escape(level_label(card.level, lang))} <span class="code">({escape(card.level)})</span>'),
        row(t["scopes"], scopes),
        row(t["validity"], f'<span class="code">{escape(card.valid_from)}</span> {escape(t["to"])} '
                           f'<span class="code">{escape(card.valid_until)}</span>'),
        row(t["status"], f'{escape(status_label(card.status, lang))} <span class="code">({escape(card.status)})</span>'),
    ]
    if card.status_reason:
        rows.append(row(t["status_reason"], escape(card.status_reason)))
    rows.append(row(t["version"], escape(str(card.version))))
    chain_rows = [
        row(t["block_number"], f'<span class="code">{card.block_number}</span>'),
        row(t["block_hash"], f'<span class="code">{escape(card.block_hash)}</span>'),
        row(t["block_time"], f'<span class="code">{escape(card.block_time)}</span>'),
        row(t["contract"], f'<span class="code">{escape(card.contract)}</span>'),
        row(t["chain_id"], f'<span class="code">{card.chain_id}</span>'),
        row(t["checked_at"], f'<span class="code">{escape(card.checked_at)}</span>'),
    ]
    name = escape(card.name) if card.name else escape(t["unknown_name"])
    alert = f'<p class="alert" role="alert">{escape(t["dishonest"])}</p>' if card.level == "DISHONEST" else ""
    body = (
        f'<header><h1>{escape(t["title"])}</h1>{language_switch(lang)}</header>'
        f'<section class="card"><p class="who">{name}</p>'
        f'<p class="code">{escape(t["uscc"])}: {escape(card.uscc)}</p>'
        f'<span class="badge {status_class}">{escape(status_label(card.status, lang))}</span>{alert}'
        f'<dl>{"".join(rows)}</dl></section>'
        f'<h2>{escape(t["chain"])}</h2><section class="card"><dl>{"".join(chain_rows)}</dl></section>'
        f'<footer>{escape(t["chain_note"])}</footer>'
    )
    return page(lang, f'{t["title"]}: {card.name or card.uscc}', body)


def render_not_found(uscc: str, lang: str, block: BlockRef | None = None) -> str:
    at_zh = f"（截至区块 {block.number}，{iso(block.timestamp)}）" if block is not None else ""
    at_en = f" (as of block {block.number}, {iso(block.timestamp)})" if block is not None else ""
    texts = {"zh": f"统一社会信用代码为 {uscc} 的企业不在海关信用白名单上{at_zh}。",
             "en": f"The trader with USCC {uscc} is not on the customs whitelist{at_en}."}
    heading = {"zh": "未找到该企业", "en": "Trader not found"}
    body = (f'<header><h1>{escape(heading[lang])}</h1>{language_switch(lang)}</header>'
            f'<section class="card"><span class="badge bad">{escape(status_label("unknown", lang))}</span>'
            f"{bilingual(lang, texts)}{_block_note(lang, block)}</section>")
    return page(lang, heading[lang], body)


def _block_note(lang: str, block: BlockRef | None) -> str:
    if block is None:
        return ""
    t = _TEXT[lang]
    return (f'<dl>{row(t["block_number"], f"<span class=code>{block.number}</span>")}'
            f'{row(t["block_hash"], f"<span class=code>{escape(block.hash)}</span>")}</dl>')


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
    body = (f'<header><h1>{escape(heading[lang])}</h1>{language_switch(lang)}</header>'
            f'<section class="card">{bilingual(lang, uscc_problem_texts(text, problem))}</section>')
    return page(lang, heading[lang], body)


def render_unavailable(message: str, lang: str) -> str:
    heading = {"zh": "暂时无法读取链上状态", "en": "The chain cannot be read right now"}
    texts = {"zh": "无法读取白名单合约，请稍后再试。", "en": "The whitelist contract could not be read; try again later."}
    body = (f'<header><h1>{escape(heading[lang])}</h1>{language_switch(lang)}</header>'
            f'<section class="card">{bilingual(lang, texts)}<p class="code">{escape(message)}</p></section>')
    return page(lang, heading[lang], body)

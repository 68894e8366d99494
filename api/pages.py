"""The consumer page and the product page: what a phone shows after scanning a code.

``render_consumer_page(trace, lang, here=...)`` turns the JSON trace the
resolver serves (``api.trace``: ``ledger.trace.queries.upstream_trace`` with
``attach_proofs`` and ``status``) into one self-contained page, mobile
first, in Chinese or English:

1. recall and pack banners at the top: a red banner for every active recall
   of the item, its lot, a container it travelled in or an ingredient it was
   made from; an amber (dispensed) or red (stolen, destroyed) "do not sell
   or use" banner for a decommissioned pack; a warning when the signed
   history itself ends in such a disposition;
2. the product (GTIN, lot, serial, expiry from ``?17=``), its origin (first
   event's place and actor) and its current state;
3. the journey as a vertical timeline, oldest first: time in the event's own
   time zone, the business step in plain words, place and actor, and what
   the event was about when it belongs to an ingredient lot or a container;
4. a verification panel saying in plain sentences what the server checked
   (signatures, log inclusion, the on-chain checkpoint and its block) and
   what it could not yet (events after the latest checkpoint), with a
   ``verified-badge`` only when every event shown is anchored with a proof.

Every value that comes from the index is escaped. Dicts from older callers
may lack keys (``status``, ``checkpoint``...): a missing key means "nothing
to show", never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from typing import Any

from api.page_kit import LANGUAGES, code, language_switch, page, row, with_query
from ledger.epcis.identifiers import Identifier, parse_digital_link
from ledger.epcis.vocab import BIZ_STEP_CUSTOMS_CLEARING
from ledger.errors import LedgerError
from ledger.trace.indexing import key_kind

__all__ = [
    "BIZ_STEP_WORDS",
    "DISPOSITION_WORDS",
    "biz_step_words",
    "disposition_words",
    "render_consumer_page",
    "render_product_page",
]

# CBV 2.0 business steps in plain words: term -> (English, Chinese).
BIZ_STEP_WORDS: dict[str, tuple[str, str]] = {
    "accepting": ("Accepted", "验收"),
    "arriving": ("Arrived", "到达"),
    "assembling": ("Assembled", "组装"),
    "collecting": ("Collected", "收集"),
    "commissioning": ("Produced", "生产"),
    "consigning": ("Consigned", "寄售"),
    "creating_class_instance": ("Made", "制成"),
    "cycle_counting": ("Counted in stock", "库存盘点"),
    "decommissioning": ("Taken out of use", "停用注销"),
    "departing": ("Departed", "离开"),
    "destroying": ("Destroyed", "销毁"),
    "disassembling": ("Disassembled", "拆解"),
    "dispensing": ("Dispensed", "配药"),
    "encoding": ("Code assigned", "赋码"),
    "entering_exiting": ("Entered or left", "进出"),
    "holding": ("Put on hold", "暂扣"),
    "inspecting": ("Inspected", "检验"),
    "installing": ("Installed", "安装"),
    "killing": ("Slaughtered", "屠宰"),
    "loading": ("Loaded", "装载"),
    "other": ("Other step", "其他环节"),
    "packing": ("Packed", "装箱"),
    "picking": ("Picked", "拣货"),
    "receiving": ("Received", "收货"),
    "removing": ("Removed", "移除"),
    "repackaging": ("Repacked", "重新包装"),
    "repairing": ("Repaired", "维修"),
    "replacing": ("Replaced", "更换"),
    "reserving": ("Reserved", "预留"),
    "retail_selling": ("Sold", "零售售出"),
    "sampling": ("Sampled", "抽样"),
    "sensor_reporting": ("Sensor reading", "传感器读数"),
    "shipping": ("Shipped", "发货"),
    "staging_outbound": ("Ready to ship", "待发货"),
    "stock_taking": ("Stock taken", "盘点"),
    "stocking": ("Shelved", "上架"),
    "storing": ("Stored", "储存"),
    "transporting": ("In transport", "运输"),
    "unloading": ("Unloaded", "卸货"),
    "unpacking": ("Unpacked", "拆箱"),
    "void_shipping": ("Shipment cancelled", "取消发货"),
    BIZ_STEP_CUSTOMS_CLEARING: ("Cleared by customs", "海关放行"),
}
# In this project a harvest is a lot commissioned by quantity (farm to table),
# while drug packs are commissioned one serial number at a time (lab to hospital).
_COMMISSIONED_LOT = ("Harvested", "收获")
_COMMISSIONED_ITEM = ("Produced and serialised", "生产赋码")

# Events without a business step, by type (and action for aggregations).
_EVENT_TYPE_WORDS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("TransformationEvent", None): ("Processed from its ingredients", "由原料加工"),
    ("AggregationEvent", "ADD"): ("Packed", "装箱"),
    ("AggregationEvent", "DELETE"): ("Unpacked", "拆箱"),
    ("AggregationEvent", "OBSERVE"): ("Checked in its container", "随箱核对"),
    ("ObjectEvent", "ADD"): ("Created", "创建"),
    ("AssociationEvent", None): ("Linked to an asset", "关联资产"),
    ("TransactionEvent", None): ("Business transaction", "业务交易"),
}
_RECORDED = ("Recorded", "记录")

# CBV 2.0 dispositions in plain words: term -> (English, Chinese).
DISPOSITION_WORDS: dict[str, tuple[str, str]] = {
    "active": ("Active", "有效"),
    "available": ("Available", "可用"),
    "completeness_inferred": ("Contents inferred complete", "推定完整"),
    "completeness_verified": ("Contents verified complete", "已核实完整"),
    "conformant": ("Conformant", "合格"),
    "container_closed": ("Container closed", "容器已封闭"),
    "container_open": ("Container open", "容器已开启"),
    "damaged": ("Damaged", "已损坏"),
    "destroyed": ("Destroyed", "已销毁"),
    "dispensed": ("Dispensed", "已配药"),
    "disposed": ("Disposed of", "已处置"),
    "encoded": ("Code assigned", "已赋码"),
    "expired": ("Expired", "已过期"),
    "in_progress": ("In progress", "处理中"),
    "in_transit": ("In transit", "运输中"),
    "inactive": ("Inactive", "未激活"),
    "mismatch_instance": ("Wrong item", "单品不符"),
    "mismatch_class": ("Wrong product", "品类不符"),
    "mismatch_quantity": ("Wrong quantity", "数量不符"),
    "needs_replacement": ("Needs replacement", "需更换"),
    "no_pedigree_match": ("No matching pedigree", "来源不符"),
    "non_conformant": ("Non-conformant", "不合格"),
    "non_sellable_other": ("Not for sale", "不可销售"),
    "partially_dispensed": ("Partly dispensed", "部分配药"),
    "recalled": ("Recalled", "已召回"),
    "reserved": ("Reserved", "已预留"),
    "retail_sold": ("Sold", "已售出"),
    "returned": ("Returned", "已退回"),
    "sellable_accessible": ("On sale", "在售"),
    "sellable_not_accessible": ("In stock, not on sale yet", "库存中"),
    "stolen": ("Stolen", "被盗"),
    "unavailable": ("Unavailable", "不可用"),
    "unknown": ("Unknown", "未知"),
}

# Dispositions the signed history can end in that a buyer must be warned about,
# even when no decommissioning was recorded on chain.
_WARNING_DISPOSITIONS = frozenset({"dispensed", "stolen", "destroyed", "disposed", "recalled", "expired"})
_AMBER_DISPOSITIONS = frozenset({"dispensed", "expired"})

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Product history",
        "kind_lot": "Lot",
        "kind_item": "Serialised item",
        "kind_product": "Product",
        "kind_container": "Case or pallet",
        "kind_asset": "Returnable asset",
        "kind_other": "Identifier",
        "gtin": "GTIN",
        "lot": "Lot",
        "serial": "Serial number",
        "expiry": "Expiry date",
        "sscc": "SSCC",
        "key": "Digital Link",
        "origin": "Origin",
        "now": "Now",
        "status": "Status",
        "where": "Where",
        "who": "Held by",
        "since": "Since",
        "journey": "Journey",
        "no_events": "No events recorded yet.",
        "by": "by",
        "unknown": "unknown",
        "ingredient": "Ingredient lot",
        "container": "In case or pallet",
        "lot_event": "Event of its lot",
        "anchored": "anchored on chain",
        "pending": "not anchored yet",
        "verification": "What was checked",
        "verified": "Verified",
        "partly": "Partly verified: {k} of {m} events anchored so far",
        "unverified": "Not verified yet",
        "signed": "{n} of {m} events were signed by participants registered on chain (EIP-712 signatures, "
                  "checked when each event was recorded).",
        "included": "{k} of {m} events are included in the Merkle log checkpoint of size {size} "
                    "(RFC 9162 inclusion proofs).",
        "anchor": "That checkpoint was anchored on chain {chain} in block {block} at {time}, contract {contract}, "
                  "transaction {tx}.",
        "no_checkpoint": "No checkpoint of the log has been anchored on chain yet, so nothing here is anchored yet.",
        "not_anchored": "Events recorded after the latest checkpoint are not anchored yet ({k} of {m}); "
                        "anchoring runs every few seconds, reload in a moment.",
        "truncated": "The history is longer than shown: only part of it was checked.",
        "status_source": "Recalls and pack status come from the ProductStatus contract {contract}, read up to "
                         "block {block}.",
        "no_recall": "No active recall of this product, its lot, its containers or its ingredients.",
        "proofs": "Check it yourself: the trace with every proof (JSON)",
        "recall_title": "RECALLED: do not eat or use",
        "recall_self": "This product was recalled.",
        "recall_lot": "The lot of this item was recalled.",
        "recall_input": "An ingredient of this product was recalled.",
        "recall_container": "A case or pallet this item travelled in was recalled.",
        "recall_other": "A related lot was recalled.",
        "recalled_by": "Recalled by {who} on {time}.",
        "chain_ref": "Block {block}, transaction {tx}",
        "pack_dispensed_title": "ALREADY DISPENSED: do not sell or use",
        "pack_dispensed": "This pack was dispensed on {time} by {who}. A genuine pack is dispensed once: if it is "
                          "offered to you again, it may be counterfeit or diverted.",
        "pack_stolen_title": "Reported STOLEN: do not sell or use",
        "pack_stolen": "{who} reported this pack stolen on {time}. Tell the pharmacy or the regulator where you "
                       "found it.",
        "pack_destroyed_title": "DESTROYED: do not sell or use",
        "pack_destroyed": "{who} recorded this pack as destroyed on {time}; a destroyed pack should not exist.",
        "history_title": "Recorded as {state}: do not sell or use",
        "history_warning": "The signed history says this was {state} on {time} by {who}.",
        "colon": ": ",
    },
    "zh": {
        "title": "产品溯源",
        "kind_lot": "批次",
        "kind_item": "单品（序列号）",
        "kind_product": "产品",
        "kind_container": "箱或托盘",
        "kind_asset": "周转器具",
        "kind_other": "标识",
        "gtin": "商品条码（GTIN）",
        "lot": "批号",
        "serial": "序列号",
        "expiry": "有效期至",
        "sscc": "物流单元码（SSCC）",
        "key": "数字链接",
        "origin": "产地",
        "now": "当前",
        "status": "状态",
        "where": "地点",
        "who": "持有方",
        "since": "时间",
        "journey": "流转记录",
        "no_events": "暂无记录。",
        "by": "经手方",
        "unknown": "未知",
        "ingredient": "原料批次",
        "container": "随箱/托盘",
        "lot_event": "所属批次",
        "anchored": "已上链锚定",
        "pending": "尚未锚定",
        "verification": "核验内容",
        "verified": "已验证",
        "partly": "部分验证：{m} 条记录中已有 {k} 条锚定上链",
        "unverified": "尚未验证",
        "signed": "{m} 条记录中有 {n} 条由链上登记的参与方签名（EIP-712 签名，在每条记录写入时已校验）。",
        "included": "{m} 条记录中有 {k} 条包含在大小为 {size} 的默克尔日志检查点中（RFC 9162 包含证明）。",
        "anchor": "该检查点已锚定在链 {chain} 的第 {block} 号区块，时间 {time}，合约 {contract}，交易 {tx}。",
        "no_checkpoint": "日志尚无检查点锚定上链，因此以上记录均未锚定。",
        "not_anchored": "最新检查点之后写入的记录尚未锚定（{m} 条中有 {k} 条）；锚定每隔几秒进行一次，请稍后刷新。",
        "truncated": "记录较多，未全部显示，仅核验了显示的部分。",
        "status_source": "召回和药品状态读取自 ProductStatus 合约 {contract}，已同步至第 {block} 号区块。",
        "no_recall": "本产品、所属批次、装运箱/托盘及原料均无有效召回。",
        "proofs": "自行核验：包含全部证明的溯源数据（JSON）",
        "recall_title": "已召回：请勿食用或使用",
        "recall_self": "本产品已被召回。",
        "recall_lot": "本品所属批次已被召回。",
        "recall_input": "本产品的一种原料已被召回。",
        "recall_container": "装运本品的箱或托盘已被召回。",
        "recall_other": "相关批次已被召回。",
        "recalled_by": "召回方：{who}，时间：{time}。",
        "chain_ref": "区块 {block}，交易 {tx}",
        "pack_dispensed_title": "已配发：请勿销售或使用",
        "pack_dispensed": "该药品已于 {time} 由 {who} 配发。正品每盒只配发一次："
                          "如再次有人向您出售，可能是假药或被非法转售。",
        "pack_stolen_title": "已报告被盗：请勿销售或使用",
        "pack_stolen": "{who} 于 {time} 报告该药品被盗。请告知药房或监管部门您在何处发现它。",
        "pack_destroyed_title": "已销毁：请勿销售或使用",
        "pack_destroyed": "{who} 于 {time} 登记该药品已销毁；已销毁的药品不应再出现。",
        "history_title": "记录显示{state}：请勿销售或使用",
        "history_warning": "签名记录显示：{time}，{who}，状态为{state}。",
        "colon": "：",
    },
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_STYLE = (
    ".banner{border-radius:.75rem;padding:.75rem 1rem;margin:.75rem 0;border-left:6px solid}"
    ".banner p{margin:.25rem 0}.banner .title{font-weight:800;font-size:1.1rem;letter-spacing:.01em}"
    ".banner.red{background:#fde7e7;color:#7f1212;border-color:#b3261e}"
    ".banner.amber{background:#fff1cc;color:#5c3d00;border-color:#d69200}"
    ".small{font-size:.8rem;color:#5f6368}.banner .small{color:inherit;opacity:.85}"
    ".product h1{margin:0 0 .25rem}.badge{margin:.5rem 0 .25rem}"
    ".timeline{list-style:none;margin:0;padding:0 0 0 1.1rem;border-left:3px solid #c9d3df}"
    ".timeline li{position:relative;margin:0 0 1rem;padding:.6rem .8rem;background:#fff;border-radius:.6rem;"
    "box-shadow:0 1px 2px #0002}"
    ".timeline li::before{content:'';position:absolute;left:-1.6rem;top:.9rem;width:.8rem;height:.8rem;"
    "border-radius:50%;background:#1a7f37;border:2px solid #f4f5f7}"
    ".timeline li.pending::before{background:#d69200}"
    ".timeline p{margin:.1rem 0}.step{font-weight:700}.when{color:#5f6368;font-size:.85rem}"
    ".relation{font-size:.85rem;color:#3c4a5c}.seal{font-size:.8rem;color:#1a7f37}.pending .seal{color:#7a5200}"
    ".checks{margin:0;padding-left:1.2rem}.checks li{margin:.35rem 0}"
)


# --- words ----------------------------------------------------------------------------------


def _language(lang: str) -> str:
    primary = (lang or "").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else "en"


def _pick(words: tuple[str, str], lang: str) -> str:
    return words[1] if lang == "zh" else words[0]


def _term_words(term: str) -> str:
    """An unknown vocabulary term (a user extension URI) in readable form: its last segment."""
    return term.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].replace("_", " ").replace("-", " ").capitalize()


def biz_step_words(event: Mapping[str, Any], lang: str) -> str:
    """The event's business step in plain words (from its type when it has no bizStep)."""
    step = event.get("bizStep")
    if event.get("type") == "TransformationEvent" and step in (None, "creating_class_instance"):
        step = None  # the default step of a transformation: say what it did, from its type
    elif step == "commissioning":
        applies = event.get("appliesTo") or []
        about_lots = bool(applies) and all(key_kind(str(key))[0] == "lot" for key in applies)
        return _pick(_COMMISSIONED_LOT if about_lots else _COMMISSIONED_ITEM, lang)
    if step:
        words = BIZ_STEP_WORDS.get(step)
        return _pick(words, lang) if words else _term_words(step)
    kind = event.get("type") or ""
    words = _EVENT_TYPE_WORDS.get((kind, event.get("action"))) or _EVENT_TYPE_WORDS.get((kind, None)) or _RECORDED
    return _pick(words, lang)


def disposition_words(term: str | None, lang: str) -> str:
    if not term:
        return ""
    words = DISPOSITION_WORDS.get(term)
    return _pick(words, lang) if words else _term_words(term)


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the index keeps UTC


def _zone(offset: object) -> timezone | None:
    """``+08:00`` as a time zone (EPCIS ``eventTimeZoneOffset``), or None if malformed."""
    if not isinstance(offset, str) or len(offset) != 6 or offset[0] not in "+-" or offset[3] != ":":
        return None
    try:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def _time_html(text: object, lang: str, offset: object = None) -> str:
    """A ``<time>`` element: the moment in the zone where it happened (``offset``), else in UTC."""
    moment = _parse_time(text)
    if moment is None:
        return escape(str(text)) if text else escape(_TEXT[lang]["unknown"])
    zone = _zone(offset) or UTC
    local = moment.astimezone(zone)
    name = "UTC" if zone is UTC or local.utcoffset() == timedelta(0) else f"UTC{offset}"
    if lang == "zh":
        shown = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{name}）"
    else:
        shown = f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} ({name})"
    machine = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f'<time datetime="{escape(machine)}">{escape(shown)}</time>'


def _place(location: object, names: Mapping[str, str]) -> str:
    """The name of a location (the participant whose GLN it is), else the location as given."""
    if not isinstance(location, str) or not location:
        return ""
    name = names.get(location)
    return escape(name) if name else code(location)


def _actor(participant_id: object, parties: Mapping[str, Any]) -> str | None:
    entry = parties.get(participant_id) if isinstance(participant_id, str) else None
    name = entry.get("name") if isinstance(entry, Mapping) else None
    return name if isinstance(name, str) and name else None


def _holder(state: Mapping[str, Any], parties: Mapping[str, Any]) -> str | None:
    """Who last handled the item: the state's participant, else the name of its participant id."""
    holder = state.get("participant")
    name = holder.get("name") if isinstance(holder, Mapping) else None
    return name if isinstance(name, str) and name else _actor(state.get("participantId"), parties)


# --- banners ---------------------------------------------------------------------------------


def _chain_ref(entry: Mapping[str, Any], t: Mapping[str, str]) -> str:
    if entry.get("blockNumber") is None and not entry.get("txHash"):
        return ""
    block, tx = escape(str(entry.get("blockNumber"))), code(entry.get("txHash") or "")
    where = escape(t["chain_ref"]).format(block=block, tx=tx)
    return f'<p class="small">{where}</p>'


def _recall_banner(recall: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    relation = recall.get("relation")
    sentence = t.get(f"recall_{relation}", t["recall_other"])
    who = recall.get("recalledByName") or recall.get("recalledBy") or t["unknown"]
    notice = recall.get("notice")
    by = escape(t["recalled_by"]).format(who=escape(str(who)), time=_time_html(recall.get("recalledAt"), lang))
    return (
        f'<section class="banner red recall-banner" role="alert" data-relation="{escape(str(relation))}">'
        f'<p class="title">{escape(t["recall_title"])}</p>'
        f"<p>{escape(sentence)} {code(recall.get('key') or '')}</p>"
        + (f'<p class="notice">“{escape(str(notice))}”</p>' if notice else "")
        + f"<p>{by}</p>"
        + _chain_ref(recall, t)
        + "</section>"
    )


def _pack_banner(pack: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    status = pack.get("status")
    if status not in ("dispensed", "stolen", "destroyed"):
        return ""
    colour = "amber" if status == "dispensed" else "red"
    who = pack.get("byName") or pack.get("by") or t["unknown"]
    body = escape(t[f"pack_{status}"]).format(who=escape(str(who)), time=_time_html(pack.get("at"), lang))
    return (
        f'<section class="banner {colour} pack-banner" role="alert" data-status="{escape(status)}">'
        f'<p class="title">{escape(t[f"pack_{status}_title"])}</p><p>{body}</p>{_chain_ref(pack, t)}</section>'
    )


def _history_banner(state: Mapping[str, Any], lang: str, t: Mapping[str, str], parties: Mapping[str, Any]) -> str:
    """A warning from the signed history alone (no on-chain status says so)."""
    disposition = state.get("disposition")
    words = disposition_words(disposition, lang)
    who = _holder(state, parties)
    colour = "amber" if disposition in _AMBER_DISPOSITIONS else "red"
    body = escape(t["history_warning"]).format(
        state=escape(words), who=escape(who or t["unknown"]), time=_time_html(state.get("lastEventTime"), lang)
    )
    return (
        f'<section class="banner {colour} history-banner" role="alert" data-disposition="{escape(str(disposition))}">'
        f'<p class="title">{escape(t["history_title"].format(state=words))}</p><p>{body}</p></section>'
    )


def _banners(trace: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    status = trace.get("status") or {}
    parts = [_recall_banner(recall, lang, t) for recall in status.get("recalls") or ()]
    pack = status.get("pack")
    if pack:
        parts.append(_pack_banner(pack, lang, t))
    state = trace.get("state") or {}
    disposition = state.get("disposition")
    said_on_chain = bool(pack) or (disposition == "recalled" and parts)
    if disposition in _WARNING_DISPOSITIONS and not said_on_chain:
        parts.append(_history_banner(state, lang, t, trace.get("participants") or {}))
    return "".join(parts)


# --- product, origin, state --------------------------------------------------------------------


def _identifier(trace: Mapping[str, Any]) -> Identifier | None:
    """The identifier as scanned (with lot and ``?17=`` when the code had them), else the trace key."""
    requested = trace.get("requested") or {}
    for text in (requested.get("uri"), trace.get("key")):
        if isinstance(text, str) and text:
            try:
                return parse_digital_link(text)
            except LedgerError:
                continue
    return None


def _product(trace: Mapping[str, Any], lang: str, t: Mapping[str, str], badge: str) -> str:
    key = str(trace.get("key") or "")
    kind = str(trace.get("kind") or "other")
    identifier = _identifier(trace)
    rows = []
    if identifier is not None:
        for label, value in (("gtin", identifier.gtin), ("lot", identifier.lot), ("serial", identifier.serial),
                             ("sscc", identifier.sscc)):
            if value:
                rows.append(row(t[label], code(value)))
        if identifier.expiry is not None:
            rows.append(row(t["expiry"], escape(identifier.expiry.isoformat())))
    rows.append(row(t["key"], code(key)))
    heading = t.get(f"kind_{kind}", t["kind_other"])
    return (f'<section class="card product"><h1>{escape(heading)}</h1>{badge}'
            f'<dl>{"".join(rows)}</dl></section>')


def _origin_and_now(trace: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    names: Mapping[str, str] = trace.get("locationNames") or {}
    parties: Mapping[str, Any] = trace.get("participants") or {}
    events: Sequence[Mapping[str, Any]] = trace.get("events") or []
    rows = []
    if events:
        first = events[0]
        place = _place(first.get("location"), names)
        actor = _actor(first.get("participantId"), parties)
        origin = " · ".join(part for part in (place, escape(actor) if actor and escape(actor) != place else "") if part)
        when = _time_html(first.get("eventTime"), lang, _offset(first))
        rows.append(row(t["origin"], f'<span class="origin">{origin or escape(t["unknown"])}</span>'
                                     f'<br><span class="small">{when}</span>'))
    state = trace.get("state")
    if state:
        who = _holder(state, parties)
        where = escape(state["locationName"]) if state.get("locationName") else _place(state.get("location"), names)
        disposition = disposition_words(state.get("disposition"), lang) or t["unknown"]
        rows.append(row(t["status"], f'<span class="state">{escape(disposition)}</span>'))
        rows.append(row(t["where"], where or escape(t["unknown"])))
        rows.append(row(t["who"], escape(who or t["unknown"])))
        rows.append(row(t["since"], _time_html(state.get("lastEventTime"), lang)))
    if not rows:
        return ""
    return f'<section class="card"><dl>{"".join(rows)}</dl></section>'


# --- journey --------------------------------------------------------------------------------------


def _offset(event: Mapping[str, Any]) -> object:
    served = event.get("event")
    return served.get("eventTimeZoneOffset") if isinstance(served, Mapping) else None


def _relation_html(event: Mapping[str, Any], key: str, t: Mapping[str, str]) -> str:
    applies = [k for k in event.get("appliesTo") or () if isinstance(k, str)]
    if not applies or key in applies:
        return ""
    label = {"input": t["ingredient"], "container": t["container"], "lot": t["lot_event"]}.get(
        str(event.get("relation")), t["lot_event"]
    )
    return f'<p class="relation">{escape(label)}{escape(t["colon"])}{code(applies[0])}</p>'


def _timeline(trace: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    events: Sequence[Mapping[str, Any]] = trace.get("events") or []
    if not events:
        return f'<h2>{escape(t["journey"])}</h2><p>{escape(t["no_events"])}</p>'
    names: Mapping[str, str] = trace.get("locationNames") or {}
    parties: Mapping[str, Any] = trace.get("participants") or {}
    key = str(trace.get("key") or "")
    items = []
    for event in events:
        anchored = _has_proof(event)
        state = disposition_words(event.get("disposition"), lang)
        place = _place(event.get("location"), names)
        actor = _actor(event.get("participantId"), parties)
        actor_html = ""
        if actor and escape(actor) != place:
            actor_html = f'<span class="actor">{escape(t["by"])} {escape(actor)}</span>'
        place_html = f'<span class="place">{place}</span>' if place else ""
        where = " · ".join(part for part in (place_html, actor_html) if part)
        seal = "anchored" if anchored else "pending"
        items.append(
            f'<li class="event {seal}" data-log-index="{escape(str(event.get("logIndex")))}">'
            f'<p class="when">{_time_html(event.get("eventTime"), lang, _offset(event))}</p>'
            f'<p class="step">{escape(biz_step_words(event, lang))}'
            + (f' <span class="small">· {escape(state)}</span>' if state else "")
            + "</p>"
            + (f'<p class="where">{where}</p>' if where else "")
            + _relation_html(event, key, t)
            + f'<p class="seal">{"✓" if anchored else "…"} {escape(t[seal])}</p></li>'
        )
    return f'<h2>{escape(t["journey"])}</h2><ol class="timeline" id="timeline">{"".join(items)}</ol>'


# --- verification -------------------------------------------------------------------------------------


def _has_proof(event: Mapping[str, Any]) -> bool:
    return bool(event.get("anchored")) and isinstance(event.get("inclusionProof"), list)


def _badge(trace: Mapping[str, Any], t: Mapping[str, str]) -> str:
    events: Sequence[Mapping[str, Any]] = trace.get("events") or []
    proven = sum(1 for event in events if _has_proof(event))
    if events and proven == len(events) and trace.get("checkpoint") and not trace.get("truncated"):
        return f'<p class="badge ok verified-badge" id="verified-badge">✓ {escape(t["verified"])}</p>'
    text = t["partly"].format(k=proven, m=len(events)) if proven else t["unverified"]
    return f'<p class="badge warn pending-badge" id="pending-badge">{escape(text)}</p>'


def _verification(trace: Mapping[str, Any], lang: str, t: Mapping[str, str], here: str | None) -> str:
    events: Sequence[Mapping[str, Any]] = trace.get("events") or []
    total = len(events)
    signed = sum(1 for event in events if event.get("participantId"))
    proven = sum(1 for event in events if _has_proof(event))
    checkpoint = trace.get("checkpoint")
    checks = [escape(t["signed"].format(n=signed, m=total))]
    if checkpoint:
        checks.append(escape(t["included"].format(k=proven, m=total, size=checkpoint.get("treeSize"))))
        checks.append(escape(t["anchor"]).format(
            chain=escape(str(checkpoint.get("chainId"))), block=escape(str(checkpoint.get("blockNumber"))),
            time=_time_html(checkpoint.get("anchoredAt"), lang), contract=code(checkpoint.get("contract") or ""),
            tx=code(checkpoint.get("transactionHash") or ""),
        ))
        if proven < total:
            checks.append(escape(t["not_anchored"].format(k=total - proven, m=total)))
    else:
        checks.append(escape(t["no_checkpoint"]))
    status = trace.get("status")
    if status:
        checks.append(escape(t["status_source"]).format(
            contract=code(status.get("contract") or ""), block=escape(str(status.get("mirroredToBlock")))
        ))
        if not status.get("recalls"):
            checks.append(escape(t["no_recall"]))
    if trace.get("truncated"):
        checks.append(escape(t["truncated"]))
    proofs = with_query(here, "linkType", "gs1:traceability")
    return (
        f'<h2>{escape(t["verification"])}</h2><section class="card verification" id="verification">'
        f'<ul class="checks">{"".join(f"<li>{check}</li>" for check in checks)}</ul>'
        f'<p class="small"><a href="{escape(proofs)}" rel="nofollow">{escape(t["proofs"])}</a></p></section>'
    )


# --- pages -----------------------------------------------------------------------------------------


def render_consumer_page(trace: Mapping[str, Any], lang: str, *, here: str | None = None) -> str:
    """The consumer page of one item, lot or container.

    ``trace``: the resolver's JSON trace (missing keys mean nothing to show).
    ``lang``: zh or en (any ``zh-*`` tag is Chinese, anything else English).
    ``here``: the request's path and query (%-encoded), so the language
    switch and the proofs link keep ``?17=`` and the like; None gives
    query-only links.
    """
    lang = _language(lang)
    t = _TEXT[lang]
    header = f'<header><span class="small">{escape(t["title"])}</span>{language_switch(lang, here)}</header>'
    body = (
        header
        + _banners(trace, lang, t)
        + _product(trace, lang, t, _badge(trace, t))
        + _origin_and_now(trace, lang, t)
        + _timeline(trace, lang, t)
        + _verification(trace, lang, t, here)
    )
    return page(lang, f"{t['title']} {trace.get('key') or ''}", body, style=_STYLE)


_PRODUCT_TEXT = {
    "en": {"title": "Product", "lots": "Lots", "items": "Serialised items", "none": "Nothing recorded yet.",
           "more": "More are recorded than shown."},
    "zh": {"title": "产品", "lots": "批次", "items": "单品", "none": "暂无记录。", "more": "记录较多，未全部显示。"},
}


def render_product_page(listing: Mapping[str, Any], lang: str, *, here: str | None = None) -> str:
    """The page of a product (``/01/{gtin}``): the lots and serialised items known for it, each a link to its page."""
    lang = _language(lang)
    t = _PRODUCT_TEXT[lang]
    key = str(listing.get("key") or "")
    parts = [f'<header><h1>{escape(t["title"])} {code(listing.get("gtin") or key)}</h1>'
             f"{language_switch(lang, here)}</header>"]
    shown = False
    for label, entries in ((t["lots"], listing.get("lots") or []), (t["items"], listing.get("items") or [])):
        if not entries:
            continue
        shown = True
        parts.append(f'<h2>{escape(label)}</h2><section class="card"><ul>')
        for entry in entries:
            entry_key = str(entry.get("key") or "")
            status = disposition_words(entry.get("disposition"), lang)
            # Keys are paths on this host; anything else is shown but not linked.
            link = (f'<a href="{escape(with_query(entry_key, "lang", lang))}">{code(entry_key)}</a>'
                    if entry_key.startswith("/") and not entry_key.startswith("//") else code(entry_key))
            parts.append(f"<li>{link}" + (f" · {escape(status)}" if status else "") + "</li>")
        parts.append("</ul></section>")
    if not shown:
        parts.append(f'<p>{escape(t["none"])}</p>')
    if listing.get("truncated"):
        parts.append(f'<p class="small">{escape(t["more"])}</p>')
    return page(lang, f"{t['title']} {key}", "".join(parts), style=_STYLE)

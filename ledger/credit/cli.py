"""``traceledger credit ...``: credit profiles from the command line.

- ``credit show ID [--json]``: one profile (participant id, GLN or USCC);
- ``credit report --out report.html|report.pdf [ID ...] [--list FILE] [--lang en|zh] [--font F]``:
  many profiles in one file (every registered participant when no id is given);
- ``credit export ID [--out FILE]``: the verifiable export, which
  ``traceledger verify FILE`` re-checks against a chain node.

``--rules FILE`` grades with another rules file (default: the data dir's
``credit-rules.toml``, else the packaged rules).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ledger.credit.rules import RuleSet
    from ledger.runtime import Ledger

app = typer.Typer(help="Credit profiles from the ledger's facts: show, report, export.", no_args_is_help=True)
console = Console(soft_wrap=True)

IdArgument = Annotated[str, typer.Argument(help="Participant id (0x...), GLN (13 digits) or trader USCC (18 characters).")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: TRACELEDGER_DATA_DIR).",
                                                        show_default=False)]
RulesOption = Annotated[Path | None, typer.Option("--rules", help="Rules file (default: <data dir>/credit-rules.toml, "
                                                                  "else the packaged rules).", show_default=False)]


def _open(data_dir: Path | None, rules_file: Path | None) -> tuple[Ledger, RuleSet]:
    """The data dir opened, and the rules (checked first: a broken rules file costs no chain connection)."""
    from ledger.cli.main import settings_for
    from ledger.credit.rules import load_rules
    from ledger.runtime import open_ledger

    settings = settings_for(data_dir)
    rules = load_rules(rules_file, data_dir=settings.data_dir)
    return open_ledger(settings), rules


@app.command("show")
def show(
    subject: IdArgument,
    data_dir: DataDirOption = None,
    rules_file: RulesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the descriptions: en or zh.")] = "en",
) -> None:
    """Show the grade, the factors that moved it and the facts of one participant or trader."""
    from ledger.credit.errors import CreditInputError
    from ledger.credit.render import format_value
    from ledger.credit.service import credit_profile

    if lang not in ("en", "zh"):
        raise CreditInputError("lang", f"must be en or zh, got {lang!r}")
    ledger, rules = _open(data_dir, rules_file)
    with ledger:
        profile = credit_profile(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=subject, rules=rules)
    if as_json:
        console.print_json(json.dumps(profile))
        return
    who = profile["subject"]
    console.print(f"[bold]{who.get('name') or who['id']}[/] ({who.get('gln') or who['id']}): grade "
                  f"[bold]{profile['grade']}[/], score {profile['score']:g} (rules {profile['rules']['version']})",
                  highlight=False)
    factors = Table("rule", "effect", "value", "evidence", "why", title="factors")
    for factor in profile["factors"]:
        effect = " ".join(filter(None, [f"{factor['effect']['points']:+g}" if factor["effect"]["points"] else "",
                                        f"cap {factor['effect']['cap']}" if factor["effect"]["cap"] else ""]))
        factors.add_row(factor["rule"], effect, format_value(factor["fact"], factor["value"], lang),
                        str(len(factor["evidence"])), factor["description"][lang])
    console.print(factors)
    facts = Table("fact", "value", title="facts")
    for name, fact in profile["facts"].items():
        facts.add_row(name, format_value(name, fact["value"], lang))
    console.print(facts)


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="report.html or report.pdf.")],
    subjects: Annotated[list[str] | None, typer.Argument(help="Ids to report on (default: every participant).",
                                                         show_default=False)] = None,
    data_dir: DataDirOption = None,
    rules_file: RulesOption = None,
    lang: Annotated[str, typer.Option("--lang", help="en or zh.")] = "en",
    font: Annotated[Path | None, typer.Option("--font", help="TrueType/OpenType font for the PDF "
                                                                "(Chinese needs CJK glyphs).", show_default=False)] = None,
    id_list: Annotated[Path | None, typer.Option("--list", help="File of ids, one per line (# starts a comment).",
                                                 show_default=False)] = None,
) -> None:
    """Write the profiles of many participants (or the given ids) to one HTML or PDF file."""
    from ledger.credit.report import output_kind, read_id_list, write_report
    from ledger.credit.service import credit_profiles

    output_kind(out)  # a wrong suffix fails before any work
    subjects = [*(subjects or []), *(read_id_list(id_list) if id_list is not None else [])]
    ledger, rules = _open(data_dir, rules_file)
    started = time.perf_counter()
    with ledger:
        profiles = credit_profiles(engine=ledger.engine, contracts=ledger.manifest.contracts,
                                   subject_ids=subjects or None, rules=rules)
    built = time.perf_counter() - started
    write_report(profiles, out, lang=lang, font=font)
    grades = {g: sum(p["grade"] == g for p in profiles) for g in "ABCD"}
    console.print(f"wrote {out}: {len(profiles)} profiles ({', '.join(f'{g} {n}' for g, n in grades.items())}) "
                  f"built in {built:.2f}s", highlight=False)


@app.command("export")
def export(
    subject: IdArgument,
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: credit-<id>.json).",
                                             show_default=False)] = None,
    data_dir: DataDirOption = None,
    rules_file: RulesOption = None,
) -> None:
    """Write the verifiable export of one profile (check it with `traceledger verify FILE`)."""
    from ledger.credit.errors import CreditInputError
    from ledger.credit.export import export_credit_profile

    ledger, rules = _open(data_dir, rules_file)
    with ledger:
        exported = export_credit_profile(engine=ledger.engine, contracts=ledger.manifest.contracts, subject_id=subject,
                                         rules=rules)
    target = out or Path(f"credit-{subject}.json")
    try:
        target.write_text(json.dumps(exported, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise CreditInputError("out", f"cannot write {target}: {error.strerror}") from None
    waiting = sum(1 for record in exported["records"] if record["inclusionProof"] is None)
    note = f"; {waiting} cited event(s) not anchored yet: export again in a few seconds" if waiting else ""
    console.print(f"wrote {target}: grade {exported['profile']['grade']}, {len(exported['records'])} event record(s) "
                  f"with proofs{note}", highlight=False)

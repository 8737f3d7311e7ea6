"""The template generator's phrasings: for each family, core sentences, data extras and closers.

A phrasing is a ``str.format`` template over the fields built in ``fields``; it is only used
when every field it names has a value. Numbers reach the text only through those fields.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Family:
    """Phrasings for one content kind (or one shape of it, like yields vs FX)."""

    kind: str
    core: tuple[str, ...]  # one is chosen: the post's lead sentence
    extras: tuple[str, ...] = ()  # extra data sentences, added while they fit
    closers: tuple[str, ...] = ()  # a number-free last line, sometimes
    must_show: tuple[str, ...] = ()  # when these fields have values, the lead must use them


FAMILIES: dict[str, Family] = {
    "market_mover": Family(
        kind="market_mover",
        core=(
            "{cashtag} {verb} {pct} on {date} to close at {close}.",
            "{date} close: {cashtag} at {close}, {signed} on the day.",
            "{name} ({cashtag}) finished the session at {close}, {signed}.",
            "A {session} session for {cashtag}: {signed}, closing at {close}.",
            "{cashtag} closed at {close} ({signed}).",
            "Closing print for {cashtag}: {close}. It {verb} {pct} on the session.",
            "{cashtag} {verb} {pct} to {close} by the close on {date}.",
        ),
        extras=(
            "Previous close: {prev}.",
            "That compares with {prev} at the prior close.",
            "Volume came in around {volume} shares.",
            "Prices as of the close on {date}.",
            "Data: {source}.",
        ),
        closers=(
            "On the radar.",
            "Worth a look at the chart.",
            "We'll keep tracking it.",
            "Noted for the record.",
        ),
        must_show=("cashtag",),
    ),
    "market_wrap": Family(
        kind="market_wrap",
        core=(
            "Closing snapshot, {date}: {movers}.",
            "How the close looked on {date}: {movers}.",
            "{market} at the close on {date}: {movers}.",
            "Up: {ups}. Down: {downs}.",
            "Session wrap for {date}.\n{mover_lines}",
        ),
        extras=(
            "Closes as of {date}.",
            "Levels at the close: {closes}.",
            "Data: {source}.",
        ),
        closers=(
            "That's the tape for this session.",
            "How did your watchlist do?",
            "A wrap for the session.",
        ),
    ),
    "news_take": Family(
        kind="news_take",
        core=(
            "{source} reports: “{headline}” {cashtags}",
            "In the news for {cashtags}: {headline} (via {source})",
            "“{headline}” ({source}). Relevant for anyone following {cashtags}.",
            "Headline of note from {source}: {headline}",
            "{cashtags} in focus after {source} reported: {headline}",
            "On our reading list: {headline}",
            "On our reading list, for {cashtags} followers: {headline}",
            "{cashtags}: {headline}",
        ),
        extras=(
            "{market_line}",
            "Names mentioned: {cashtags}.",
        ),
        closers=(
            "What's your read?",
            "More detail in the piece.",
            "Worth the full read.",
        ),
        must_show=("cashtags",),
    ),
    "macro_rate.fx": Family(
        kind="macro_rate",
        core=(
            "{source} reference rates for {date}: {fx_list}.",
            "FX check, {date}: {fx_list}.",
            "{fx_lead} at {fx_lead_rate} in the {source} reference rates on {date}.",
            "Currency snapshot as of {date}: {fx_list}.",
            "{fx_lead} fixed at {fx_lead_rate}.",
        ),
        extras=(
            "Rates as of {date}.",
            "Source: {source}.",
        ),
        closers=(
            "Reference rates are for information only.",
            "FX moves worth watching.",
            "FX desks, take note.",
        ),
    ),
    "macro_rate.ust": Family(
        kind="macro_rate",
        core=(
            "Treasury yields, {date}: {ust_list}.",
            "US rates check: {ust_list} as of {date}.",
            "Treasury curve snapshot for {date}: {ust_list}.",
            "Where Treasuries closed: {ust_list}.",
            "Yields on {date}: {ust_list}.",
        ),
        extras=(
            "The 2s10s spread sits at {curve}.",
            "Curve: 2s10s at {curve}.",
            "Yields as of {date}.",
            "Data: {source}.",
        ),
        closers=(
            "The curve is worth watching.",
            "More on rates as the data lands.",
            "Bond market check done.",
        ),
    ),
    "filing_note": Family(
        kind="filing_note",
        core=(
            "New Form {form} from {company} ({cashtag}), filed {date}.",
            "{company} ({cashtag}) filed a Form {form} with the SEC on {date}.",
            "Fresh SEC filing: {cashtag} submitted a Form {form} on {date}.",
            "Filing watch: {company} posted a Form {form} ({date}).",
            "{company} ({cashtag}) has a new Form {form} out with the SEC.",
            "{cashtag} filed a Form {form} on {date}.",
        ),
        extras=(
            "{form_note}",
            "Filed with the SEC on {date}.",
        ),
        closers=(
            "Details in the filing.",
            "Worth a read for anyone following the name.",
            "Straight from the source.",
        ),
        must_show=("cashtag",),
    ),
    "weekly_recap": Family(
        kind="weekly_recap",
        core=(
            "Week in review, {week_start} to {week_end}: {movers}.",
            "The week to {week_end}: {movers}.",
            "Weekly recap, week ending {week_end}: {movers}.",
            "How the week finished on {week_end}: {movers}.",
            "Weekly wrap to {week_end}.\n{mover_lines}",
            "Over the week: {movers}.",
        ),
        extras=(
            "Closes on {week_end}: {closes}.",
            "Rates this week: {macro_list}.",
            "Story of the week: {headline}",
            "Changes from the close on {week_start}.",
            "Data: {source}.",
        ),
        closers=(
            "That's the week.",
            "See you next week.",
            "A week on the tape, in brief.",
        ),
    ),
}

FORM_NOTES: dict[str, str] = {
    "10-K": "The 10-K is the annual report, with audited financial statements.",
    "10-Q": "The 10-Q is the quarterly report.",
    "8-K": "An 8-K reports a material event between periodic reports.",
    "4": "Form 4 reports a change in an insider's holdings.",
    "S-1": "An S-1 registers new securities.",
    "20-F": "The 20-F is the annual report of a foreign private issuer.",
    "6-K": "A 6-K carries a foreign issuer's interim news.",
    "DEF 14A": "DEF 14A is the proxy statement ahead of a shareholder meeting.",
    "13D": "A 13D discloses a stake above the reporting threshold.",
    "SC 13D": "A 13D discloses a stake above the reporting threshold.",
}

"""Per-brand rule packs: extra lexicon entries, disclosures and links, merged over a regime profile.

A pack is a YAML file (see ``checks/rulepacks/example.yaml``)::

    name: acme                         # required
    firm_name: Acme Securities LLC     # optional; used when the context sets none
    severities: {superlative: block}   # optional: re-grade the profile's own lexicon findings
    lexicon:                           # optional: extra entries
      - phrase: "sure winner"
        category: promissory           # any snake_case name; shown in the message
        severity: block                # block or review
        reason_code: acme_promise      # optional, defaults to the category
        match: exact                   # exact | stem | regex | proximity
        near: "return*"                # proximity only: the second term ...
        within: 5                      # ... at most this many words away (either order)
        negation_aware: true           # optional, default true: "not a sure winner" passes
    disclosures:                       # optional: verbatim texts by content kind; "*" = all
      "*": ["Not investment advice."]
    link_allowlist: [acme.example]     # optional: domains posts may link to

Every problem in a file is reported at once, each naming the file, the entry and the fault.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml

from finagency.checks.disclosures import disclosure_spans
from finagency.checks.lexicon import categories, is_negated
from finagency.checks.profiles import disclosures as standard_disclosures
from finagency.checks.service import CheckContext, run_checks
from finagency.checks.types import Finding, Severity, excerpt_of
from finagency.core.errors import ValidationFailed

__all__ = [
    "LexiconEntry",
    "MatchMode",
    "RulePack",
    "RulePackError",
    "check_with_pack",
    "load_rule_pack",
    "parse_rule_pack",
]

CHECK_ID = "lexicon"
ALL_KINDS = "*"
MatchMode = Literal["exact", "stem", "regex", "proximity"]
_MODES: frozenset[str] = frozenset({"exact", "stem", "regex", "proximity"})
_ENTRY_SEVERITIES: frozenset[str] = frozenset({"block", "review"})
_GRADES: frozenset[str] = frozenset({"block", "review", "info"})
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TOP_KEYS = frozenset(
    {"name", "firm_name", "severities", "lexicon", "disclosures", "link_allowlist"}
)
_ENTRY_KEYS = frozenset(
    {"phrase", "category", "severity", "reason_code", "match", "near", "within", "negation_aware"}
)
_WORD = re.compile(r"\w+(?:['’]\w+)*")


class RulePackError(ValidationFailed):
    """A rule pack file is unreadable or invalid; ``details["problems"]`` lists every fault."""

    code = "invalid_rule_pack"


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    phrase: str
    category: str
    severity: Severity
    reason_code: str
    match: MatchMode
    pattern: re.Pattern[str]  # the phrase (or term A for proximity), compiled
    near: re.Pattern[str] | None = None  # proximity: term B, matched against single words
    within: int = 0
    negation_aware: bool = True


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    source: str
    lexicon: tuple[LexiconEntry, ...] = ()
    disclosures: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    link_allowlist: tuple[str, ...] = ()
    severities: Mapping[str, Severity] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    firm_name: str | None = None

    def disclosures_for(self, content_kind: str) -> tuple[str, ...]:
        """The pack's verbatim texts due on every post plus those due on ``content_kind``."""
        texts = [*self.disclosures.get(ALL_KINDS, ()), *self.disclosures.get(content_kind, ())]
        return tuple(dict.fromkeys(texts))


def _phrase_pattern(phrase: str, mode: str) -> re.Pattern[str]:
    """Exact: whole words, any whitespace between. Stem: the last word may continue."""
    words = phrase.split()
    body = r"\s+".join(re.escape(word) for word in words)
    start = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    word_end = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    end = r"\w*" if mode == "stem" else word_end
    return re.compile(start + body + end, re.IGNORECASE)


def _term_pattern(term: str) -> re.Pattern[str]:
    """A proximity term: one word, ``*`` at the end matching any ending ("return*")."""
    stem = term.endswith("*")
    return re.compile(re.escape(term.rstrip("*")) + (r"\w*" if stem else ""), re.IGNORECASE)


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{self.source}: {where}: {what}" if where else f"{self.source}: {what}")


def _text(raw: Mapping[str, Any], key: str, where: str, problems: _Problems) -> str | None:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(where, f"{key!r} must be a non-empty string")
        return None
    return value.strip()


def _entry(raw: object, where: str, problems: _Problems) -> LexiconEntry | None:
    if not isinstance(raw, Mapping):
        problems.add(where, "each lexicon entry must be a mapping with at least 'phrase'")
        return None
    before = len(problems.items)
    phrase = _text(raw, "phrase", where, problems)
    if phrase is not None:
        where = f"{where} ({phrase!r})"
    unknown = sorted(str(key) for key in raw if key not in _ENTRY_KEYS)
    if unknown:
        problems.add(where, f"unknown keys {unknown}; allowed: {sorted(_ENTRY_KEYS)}")
    category = _text(raw, "category", where, problems)
    if category is not None and not _NAME.fullmatch(category):
        problems.add(where, f"category must be snake_case, not {category!r}")
    severity = raw.get("severity")
    if severity not in _ENTRY_SEVERITIES:
        problems.add(where, f"severity must be block or review, not {severity!r}")
    reason = raw.get("reason_code", category)
    if not isinstance(reason, str) or not _NAME.fullmatch(reason):
        problems.add(where, f"reason_code must be snake_case, not {reason!r}")
    mode = raw.get("match", "exact")
    if mode not in _MODES:
        problems.add(where, f"match must be one of {sorted(_MODES)}, not {mode!r}")
    negation_aware = raw.get("negation_aware", True)
    if not isinstance(negation_aware, bool):
        problems.add(where, f"negation_aware must be true or false, not {negation_aware!r}")
    near, within = raw.get("near"), raw.get("within")
    near_pattern: re.Pattern[str] | None = None
    if mode == "proximity":
        if isinstance(within, bool) or not isinstance(within, int) or within < 1:
            problems.add(where, f"proximity needs 'within' as a whole number ≥ 1, not {within!r}")
        for label, term in (("phrase", phrase), ("near", near)):
            if not isinstance(term, str) or not _WORD.fullmatch(term.rstrip("*")):
                problems.add(where, f"proximity {label!r} must be a single word, not {term!r}")
        if isinstance(near, str) and _WORD.fullmatch(near.rstrip("*")):
            near_pattern = _term_pattern(near)
    elif near is not None or within is not None:
        problems.add(where, "'near' and 'within' apply only to match: proximity")
    pattern: re.Pattern[str] | None = None
    if phrase is not None and mode == "regex":
        try:
            pattern = re.compile(phrase, re.IGNORECASE)
        except re.error as error:
            problems.add(where, f"phrase is not a valid regular expression: {error}")
    elif phrase is not None and mode in ("exact", "stem"):
        pattern = _phrase_pattern(phrase, mode)
    elif phrase is not None and mode == "proximity":
        pattern = _term_pattern(phrase)
    if len(problems.items) > before or pattern is None or phrase is None or category is None:
        return None
    return LexiconEntry(
        phrase=phrase,
        category=category,
        severity=cast(Severity, severity),
        reason_code=cast(str, reason),
        match=cast(MatchMode, mode),
        pattern=pattern,
        near=near_pattern,
        within=within if mode == "proximity" and isinstance(within, int) else 0,
        negation_aware=negation_aware is True,
    )


def _disclosures(raw: object, problems: _Problems) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("disclosures", "must map a content kind (or '*') to a list of texts")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for kind, texts in raw.items():
        where = f"disclosures[{kind!r}]"
        if not isinstance(kind, str) or not (kind == ALL_KINDS or _NAME.fullmatch(kind)):
            problems.add(where, "the key must be a content kind such as market_mover, or '*'")
            continue
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list):
            problems.add(where, "must be a list of verbatim texts")
            continue
        good = []
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                problems.add(f"{where}[{index}]", "a disclosure must be a non-empty string")
            else:
                good.append(text.strip())
        found[kind] = tuple(good)
    return found


def _strings(raw: object, key: str, problems: _Problems) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(key, "must be a list of strings")
        return ()
    good = []
    for index, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip() or any(c.isspace() for c in item.strip()):
            problems.add(f"{key}[{index}]", f"must be a domain such as example.com, not {item!r}")
        else:
            good.append(item.strip())
    return tuple(good)


def _severities(raw: object, problems: _Problems) -> dict[str, Severity]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("severities", "must map a lexicon category to block, review or info")
        return {}
    known = categories()
    found: dict[str, Severity] = {}
    for category, severity in raw.items():
        where = f"severities[{category!r}]"
        if category not in known:
            problems.add(where, f"unknown lexicon category; known: {sorted(known)}")
        elif severity not in _GRADES:
            problems.add(where, f"severity must be block, review or info, not {severity!r}")
        else:
            found[str(category)] = cast(Severity, severity)
    return found


def parse_rule_pack(data: object, source: str = "<rule pack>") -> RulePack:
    """A validated pack from decoded YAML; raises :class:`RulePackError` listing every fault."""
    problems = _Problems(source)
    if not isinstance(data, Mapping):
        problems.add("", "a rule pack must be a YAML mapping with at least 'name'")
        raise RulePackError("\n".join(problems.items), details={"problems": problems.items})
    unknown = sorted(str(key) for key in data if key not in _TOP_KEYS)
    if unknown:
        problems.add("", f"unknown keys {unknown}; allowed: {sorted(_TOP_KEYS)}")
    name = _text(data, "name", "name", problems)
    firm = data.get("firm_name")
    if firm is not None and (not isinstance(firm, str) or not firm.strip()):
        problems.add("firm_name", "must be a non-empty string")
    raw_lexicon = data.get("lexicon")
    raw_lexicon = [] if raw_lexicon is None else raw_lexicon
    entries: list[LexiconEntry] = []
    if not isinstance(raw_lexicon, list):
        problems.add("lexicon", "must be a list of entries")
        raw_lexicon = []
    for index, raw in enumerate(raw_lexicon):
        entry = _entry(raw, f"lexicon[{index}]", problems)
        if entry is not None:
            entries.append(entry)
    pack_disclosures = _disclosures(data.get("disclosures"), problems)
    allowlist = _strings(data.get("link_allowlist"), "link_allowlist", problems)
    severities = _severities(data.get("severities"), problems)
    if problems.items or name is None:
        raise RulePackError(
            f"invalid rule pack ({len(problems.items)} problems):\n" + "\n".join(problems.items),
            details={"problems": problems.items},
        )
    return RulePack(
        name=name,
        source=source,
        lexicon=tuple(entries),
        disclosures=MappingProxyType(pack_disclosures),
        link_allowlist=allowlist,
        severities=MappingProxyType(severities),
        firm_name=firm.strip() if isinstance(firm, str) else None,
    )


def load_rule_pack(path: Path) -> RulePack:
    """Read and validate the YAML rule pack at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulePackError(f"{path}: cannot read the rule pack: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulePackError(f"{path}: not valid YAML: {error}") from None
    return parse_rule_pack(data, str(path))


def _proximity(text: str, entry: LexiconEntry) -> list[tuple[tuple[int, int], int]]:
    """Spans from a first-term word to its nearest second-term word, each with the first
    term's start: a negation before that word cancels the pair ("returns are not guaranteed")."""
    assert entry.near is not None
    words = [match.span() for match in _WORD.finditer(text)]
    first = [i for i, (s, e) in enumerate(words) if entry.pattern.fullmatch(text, s, e)]
    second = [i for i, (s, e) in enumerate(words) if entry.near.fullmatch(text, s, e)]
    spans = []
    for a in first:
        # The nearest partner on either side; "within N words" counts the words between.
        partners = [b for b in second if b != a and abs(b - a) - 1 <= entry.within]
        if partners:
            b = min(partners, key=lambda b: abs(b - a))
            low, high = min(a, b), max(a, b)
            spans.append(((words[low][0], words[high][1]), words[a][0]))
    return spans


def scan_pack(text: str, pack: RulePack, exempt: Sequence[tuple[int, int]] = ()) -> list[Finding]:
    """Findings for the pack's own lexicon entries, negated hits and exempt spans left out."""
    findings: list[Finding] = []
    seen: set[tuple[tuple[int, int], str]] = set()
    titles = categories()
    for entry in pack.lexicon:
        if entry.match == "proximity":
            spans = _proximity(text, entry)
        else:
            spans = [
                (m.span(), m.start()) for m in entry.pattern.finditer(text) if m.end() > m.start()
            ]
        for span, anchor in spans:
            if any(span[0] < end and start < span[1] for start, end in exempt):
                continue
            negated = is_negated(text, span[0]) or is_negated(text, anchor)
            if entry.negation_aware and negated:
                continue
            if (span, entry.reason_code) in seen:
                continue
            seen.add((span, entry.reason_code))
            title = titles[entry.category].title if entry.category in titles else entry.category
            findings.append(
                Finding(
                    check_id=CHECK_ID,
                    severity=entry.severity,
                    reason_code=entry.reason_code,
                    message=f"{title}: {text[span[0] : span[1]]!r} (rule pack {pack.name})",
                    span=span,
                    excerpt=excerpt_of(text, span),
                )
            )
    return findings


def check_with_pack(text: str, ctx: CheckContext, pack: RulePack) -> list[Finding]:
    """:func:`run_checks` with the pack merged in: its disclosures, links, firm, lexicon."""
    merged = dataclasses.replace(
        ctx,
        required_disclosures=tuple(
            dict.fromkeys((*ctx.required_disclosures, *pack.disclosures_for(ctx.factsheet.kind)))
        ),
        link_allowlist=(*ctx.link_allowlist, *pack.link_allowlist),
        firm_name=ctx.firm_name or pack.firm_name,
    )
    findings = [
        dataclasses.replace(finding, severity=pack.severities[finding.reason_code])
        if finding.check_id == CHECK_ID and finding.reason_code in pack.severities
        else finding
        for finding in run_checks(text, merged)
    ]
    # Prescribed wording is never a lexicon hit ("not a reliable indicator of future results").
    protected = [item.text for item in standard_disclosures().values()]
    protected += list(merged.required_disclosures)
    exempt = disclosure_spans(text, protected)
    already = {(f.span, f.reason_code) for f in findings if f.check_id == CHECK_ID}
    findings += [f for f in scan_pack(text, pack, exempt) if (f.span, f.reason_code) not in already]
    return findings

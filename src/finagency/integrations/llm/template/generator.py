"""TemplateGenerator: the offline, deterministic default generator built from phrasings.

For a (fact sheet, platform, seed) it always writes the same post: the seed picks the lead
phrasing, which data extras to add and whether to close with a short number-free line; the
platform's budget (``max_chars`` as the platform counts) rules out what does not fit. The
brand voice is ignored here; LLM generators use it.
"""

from __future__ import annotations

import hashlib
import json
import random
import string

from finagency.core.errors import ValidationFailed
from finagency.integrations.llm.base import GenerationRequest, GenerationResult
from finagency.integrations.llm.template.fields import Fields, build_fields
from finagency.integrations.llm.template.phrasings import FAMILIES, VERSION
from finagency.integrations.platforms.textrules import rules_for

MODEL = "template-v1"
# Fields that may repeat across sentences; any other shared field means repeated data.
_REPEATABLE = frozenset({"cashtag", "name", "company"})
_CLOSER_ODDS = 0.5
_SENTENCE_ENDS = (".", "!", "?", "”")


def _fields_in(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _usable(template: str, fields: Fields) -> bool:
    return all(fields.get(name) for name in _fields_in(template))


def _end_sentence(text: str) -> str:
    """Add a full stop when a lead ends without one (a headline, a cashtag) before more text.

    A multi-line lead is a list ("$SPY +0.50%" per line) and is left as it is.
    """
    return text if "\n" in text or text.endswith(_SENTENCE_ENDS) else f"{text}."


class TemplateGenerator:
    """Writes posts from the phrasings in ``phrasings``; no network, no cost."""

    name = "template"
    model = MODEL

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        return self.render(request)

    def render(self, request: GenerationRequest) -> GenerationResult:
        """The synchronous core of ``generate`` (pure: same request, same result)."""
        factsheet = request.factsheet
        rules = rules_for(request.platform)
        budget = request.max_chars if request.max_chars is not None else rules.max_length
        # Not security-sensitive: the seed only has to make the phrasing reproducible.
        rng = random.Random(f"{request.seed}|{factsheet.kind}|{factsheet.subject}")
        family_name, fields = build_fields(factsheet, rng)
        family = FAMILIES[family_name]

        shown = {name for name in family.must_show if fields.get(name)}
        candidates = [
            i
            for i, core in enumerate(family.core)
            if _usable(core, fields) and shown <= _fields_in(core)
        ]
        if not candidates:
            raise ValidationFailed(
                f"no {family_name} phrasing can be filled from this fact sheet",
                details={"kind": factsheet.kind, "family": family_name},
            )
        rng.shuffle(candidates)
        extras = list(family.extras)
        rng.shuffle(extras)
        extras.sort(key=lambda extra: "source" in _fields_in(extra))  # attribution goes last
        wanted_extras = rng.randint(1, len(extras)) if extras else 0
        closer = rng.choice(family.closers) if family.closers else ""
        use_closer = rng.random() < _CLOSER_ODDS

        def fits(text: str) -> bool:
            return rules.count(text) <= budget

        rendered = {i: family.core[i].format(**fields) for i in candidates}
        chosen = next(
            (i for i in candidates if fits(rendered[i])),
            min(candidates, key=lambda i: rules.count(rendered[i])),
        )
        templates = [family.core[chosen]]
        text = rendered[chosen]
        used = set(_fields_in(family.core[chosen]))
        glue = "\n\n" if "\n" in text else " "
        added = 0
        for extra in extras:
            if added >= wanted_extras:
                break
            names = _fields_in(extra)
            if not _usable(extra, fields) or (names & used) - _REPEATABLE:
                continue
            candidate = f"{_end_sentence(text)}{glue}{extra.format(**fields)}"
            if fits(candidate):
                text, added = candidate, added + 1
                templates.append(extra)
                used |= names
        if closer and use_closer and fits(f"{_end_sentence(text)}\n\n{closer}"):
            text = f"{_end_sentence(text)}\n\n{closer}"
            templates.append(closer)

        source = "\n".join(templates)
        sheet_json = json.dumps(factsheet.to_dict(), sort_keys=True, default=str)
        return GenerationResult(
            text=text,
            model=MODEL,
            prompt_template_id=f"template/{family_name}/{VERSION}#{chosen}",
            prompt_hash=hashlib.sha256(source.encode("utf-8")).hexdigest(),
            raw_output=text,
            input_tokens=len(source.split()) + len(sheet_json.split()),
            output_tokens=len(text.split()),
            cost_usd=0.0,
        )

"""Versioned prompt templates for LLM generators: a shared system prompt and one per kind.

Files are ``<name>.<version>.txt`` in this package, filled with ``str.format`` placeholders:
``{platform}``, ``{max_chars}``, ``{counting_rule}``, ``{brand_voice}`` (system) and
``{factsheet_json}`` (kind). A template's id is ``prompts/<kind>.<version>`` and its hash is
the sha256 of both files' text, so a stored draft names exactly the prompt that made it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources

from finagency.core.errors import NotFound
from finagency.core.factsheet import FactSheet
from finagency.integrations.platforms.textrules import TextRules

DEFAULT_VERSION = "v1"
_DEFAULT_VOICE = "plain, precise, friendly; no hype"


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    template_id: str
    system: str
    user: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.system}\n---\n{self.user}".encode()).hexdigest()


def _read(name: str) -> str:
    resource = resources.files(__name__).joinpath(name)
    if not resource.is_file():
        raise NotFound(f"no prompt template {name!r}", details={"template": name})
    return resource.read_text(encoding="utf-8")


def load_prompt(kind: str, version: str = DEFAULT_VERSION) -> PromptTemplate:
    """The system and kind templates for ``kind``; ``NotFound`` if there is none."""
    return PromptTemplate(
        template_id=f"prompts/{kind}.{version}",
        system=_read(f"system.{version}.txt"),
        user=_read(f"{kind}.{version}.txt"),
    )


def describe_counting(rules: TextRules) -> str:
    """How ``rules`` counts, in words a model can follow."""
    if rules.counting == "x_weighted":
        how = "weighted characters: emoji and CJK count 2, most others 1"
    elif rules.counting == "graphemes":
        how = "characters as a reader sees them (graphemes)"
    elif rules.counting == "utf16":
        how = "UTF-16 code units; emoji count 2"
    else:
        how = "characters"
    if rules.link_length is not None:
        how += f"; every link counts {rules.link_length}"
    return how


def render_prompt(
    template: PromptTemplate,
    *,
    factsheet: FactSheet,
    rules: TextRules,
    max_chars: int,
    brand_voice: str = "",
) -> tuple[str, str]:
    """(system message, user message) for one generation."""
    system = template.system.format(
        platform=rules.name,
        max_chars=max_chars,
        counting_rule=describe_counting(rules),
        brand_voice=brand_voice.strip() or _DEFAULT_VOICE,
    )
    sheet = json.dumps(factsheet.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)
    return system, template.user.format(factsheet_json=sheet)

"""The local generator's set-up: it finds the packaged model, and says clearly what is missing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from finagency.config import Settings
from finagency.content.generators import generator_for, render
from finagency.core.errors import BadRequest
from finagency.core.factsheet import Fact, FactSheet
from finagency.core.services import Services
from finagency.integrations.llm import local
from finagency.integrations.llm.base import GenerationRequest
from finagency.integrations.llm.cache import CachedGenerator
from finagency.integrations.llm.local import (
    LocalExtraMissingError,
    LocalGenerator,
    LocalModelFileError,
    compact_prompt,
    default_model_path,
    resolve_model_path,
)
from finagency.integrations.llm.registry import build_generator

REQUIRE = os.environ.get("FINAGENCY_TEST_REQUIRE_SERVICES") == "1"
HAVE_MODEL = local.extra_installed() and default_model_path() is not None
needs_model = pytest.mark.skipif(
    not HAVE_MODEL and not REQUIRE,
    reason="needs the local-llm extra (pip install '.[local-llm]'); CI installs it",
)


def test_missing_extra_is_a_clear_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now fails
    with pytest.raises(LocalExtraMissingError, match=r"finagency\[local-llm\]") as caught:
        build_generator("local", render=render)
    assert caught.value.code == "local_llm_extra_missing"
    assert isinstance(caught.value, BadRequest)


@needs_model
def test_a_named_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(LocalModelFileError, match="does not exist") as caught:
        LocalGenerator(render=render, model_path=missing)
    assert caught.value.details["model_path"] == str(missing)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(LocalModelFileError, match="not a GGUF file"):
        resolve_model_path(fake)


def test_no_file_and_no_model_package_says_which_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "DEFAULT_MODEL_PACKAGE", "finagency-no-such-model-package")
    assert default_model_path() is None
    with pytest.raises(LocalModelFileError, match="FINAGENCY_LLM__MODEL_PATH"):
        resolve_model_path(None)


@needs_model
def test_the_packaged_smollm2_gguf_is_found_through_the_package_files() -> None:
    path = default_model_path()
    assert path is not None
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF"
    generator = LocalGenerator(render=render)
    try:
        assert generator.model == "SmolLM2-135M-Instruct.Q4_1"
        assert generator.loaded_models == 0  # loaded on first use, in a worker thread
    finally:
        generator.close()


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(BadRequest, match="concurrency"):
        LocalGenerator(render=render, concurrency=0)


def test_compact_prompt_keeps_every_fact_value_and_drops_bookkeeping() -> None:
    sheet = {
        "kind": "market_mover",
        "built_at": "2026-12-04T22:00:00+00:00",
        "headline": None,
        "tickers": ["AAPL"],
        "facts": [
            {
                "key": "AAPL.close",
                "value": 118.69000244140625,
                "retrieved_at": "2026-12-04T21:00:00+00:00",
                "adjusted": True,
                "unit": "USD",
                "source": "",
            }
        ],
    }
    user = "Write one post.\n\nFact sheet (JSON):\n" + json.dumps(sheet, indent=2)
    compacted = compact_prompt(user)
    assert compacted.startswith("Write one post.\n\nFact sheet (JSON):\n")
    facts = json.loads(compacted[compacted.index("{") :])
    assert facts == {
        "kind": "market_mover",
        "tickers": ["AAPL"],
        "facts": [{"key": "AAPL.close", "value": 118.69000244140625, "unit": "USD"}],
    }
    assert len(compacted) < len(user)
    assert compact_prompt("no JSON here") == "no JSON here"


@needs_model
async def test_a_damaged_gguf_file_fails_clearly_on_first_use(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + b"\x00" * 64)
    generator = LocalGenerator(render=render, model_path=damaged)
    try:
        with pytest.raises(LocalModelFileError, match="could not load"):
            await generator.generate(GenerationRequest(_sheet(), "x", seed=1))
        assert generator.loaded_models == 0
    finally:
        generator.close()


@needs_model
def test_one_setting_switches_the_drafting_generator_to_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FINAGENCY_LLM__GENERATOR", "local")
    services = SimpleNamespace(settings=Settings(), http=None, extras={})
    generator = generator_for(cast(Services, services))
    assert generator.name == "local"
    assert isinstance(generator, CachedGenerator)
    inner = generator.inner
    assert isinstance(inner, LocalGenerator)
    assert inner.model == "SmolLM2-135M-Instruct.Q4_1"
    assert generator_for(cast(Services, services)) is generator  # built once per process
    inner.close()


def _sheet() -> FactSheet:
    return FactSheet(
        kind="market_mover",
        subject="AAPL",
        tickers=("AAPL",),
        facts=(Fact("AAPL.close", "price", 118.69, unit="USD", currency="USD", source="demo"),),
    )

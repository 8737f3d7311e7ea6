"""The openai generator against the fake OpenAI-compatible server: drafts, usage, cost, errors."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from llm_fake_clients import TEMPLATE_ID, mover_sheet, openai_generator, render, request_for

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.llm.fakes import RETRY_AFTER_SECONDS, create_openai_fake
from finagency.integrations.llm.openai_compat import (
    OpenAICompatibleGenerator,
    cost_usd,
    price_of,
)


async def test_a_draft_carries_text_model_usage_and_cost() -> None:
    fake = create_openai_fake()
    result = await openai_generator(fake, model="gpt-4o-mini").generate(request_for())

    assert result.text == "AAPL: close 116.97 USD (source: Yahoo Finance)."
    assert result.raw_output == result.text
    assert result.model == "gpt-4o-mini"
    assert result.prompt_template_id == TEMPLATE_ID
    assert result.input_tokens > 0
    assert result.output_tokens > 0
    expected = (result.input_tokens * 0.15 + result.output_tokens * 0.60) / 1_000_000
    assert result.cost_usd == pytest.approx(expected)
    assert result.cached is False


async def test_the_request_sends_both_prompts_the_seed_and_the_temperature() -> None:
    fake = create_openai_fake()
    await openai_generator(fake).generate(request_for(seed=42, platform="linkedin"))

    body = fake.state.requests[-1]
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    assert "linkedin" in body["messages"][0]["content"]
    assert '"value": 116.97' in body["messages"][1]["content"]
    assert body["seed"] == 42
    assert body["temperature"] == 0.3
    assert "max_tokens" not in body


async def test_local_models_cost_nothing() -> None:
    result = await openai_generator(create_openai_fake(), model="llama3.1:8b").generate(
        request_for()
    )
    assert result.model == "llama3.1:8b"
    assert result.output_tokens > 0
    assert result.cost_usd == 0.0


def test_dated_snapshots_use_their_family_price() -> None:
    prices = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)}
    assert price_of("gpt-4o-mini-2024-07-18", prices) == (0.15, 0.6)
    assert price_of("gpt-4o-2024-08-06", prices) == (2.5, 10.0)
    assert price_of("gpt-4omega", prices) == (0.0, 0.0)
    assert cost_usd("gpt-4o", 1_000_000, 1_000_000, prices) == pytest.approx(12.5)


async def test_a_configured_price_table_replaces_the_built_in_one() -> None:
    fake = create_openai_fake()
    generator = openai_generator(fake, model="my-vllm-model")
    generator.prices = {"my-vllm-model": (1.0, 2.0)}
    result = await generator.generate(request_for())
    assert result.cost_usd == pytest.approx(
        (result.input_tokens * 1.0 + result.output_tokens * 2.0) / 1_000_000
    )


async def test_a_rate_limit_says_when_to_come_back() -> None:
    before = utcnow()
    with pytest.raises(RateLimitedExternalError) as caught:
        await openai_generator(create_openai_fake(), api_key="fake-rate_limited").generate(
            request_for()
        )
    assert caught.value.reset_at is not None
    wait = caught.value.reset_at - before
    assert (
        timedelta(seconds=RETRY_AFTER_SECONDS - 1)
        <= wait
        <= timedelta(seconds=RETRY_AFTER_SECONDS + 5)
    )
    assert caught.value.details["status"] == 429


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("unauthorized", AuthExpiredError),
        ("forbidden", AuthExpiredError),
        ("quota", AuthExpiredError),
        ("server_error", TransientExternalError),
        ("overloaded", TransientExternalError),
        ("bad_request", PermanentExternalError),
    ],
)
async def test_service_errors_become_typed_errors(mode: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        await openai_generator(create_openai_fake(), api_key=f"fake-{mode}").generate(request_for())
    assert type(caught.value) is error
    assert "sk-" not in str(caught.value)


async def test_a_refusal_is_permanent_and_says_so() -> None:
    with pytest.raises(PermanentExternalError, match="refused") as caught:
        await openai_generator(create_openai_fake(), api_key="fake-refusal").generate(request_for())
    assert caught.value.details["reason"] == "refusal"


async def test_a_content_filter_stop_is_permanent() -> None:
    with pytest.raises(PermanentExternalError, match="content filter") as caught:
        await openai_generator(create_openai_fake(), api_key="fake-content_filter").generate(
            request_for()
        )
    assert caught.value.details["reason"] == "content_filter"


async def test_a_slow_server_times_out_as_transient() -> None:
    fake = create_openai_fake(slow_seconds=5)
    generator = openai_generator(fake, api_key="fake-slow", timeout=0.05)
    with pytest.raises(TransientExternalError, match="timed out"):
        await generator.generate(request_for())


async def test_an_unreachable_server_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    generator = OpenAICompatibleGenerator(
        http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
        render=render,
        base_url="http://127.0.0.1:11434/v1",
        api_key="ollama",
        model="llama3.1",
    )
    with pytest.raises(TransientExternalError, match=r"could not reach 127\.0\.0\.1:11434"):
        await generator.generate(request_for(mover_sheet()))

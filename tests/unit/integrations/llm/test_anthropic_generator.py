"""The anthropic generator against the fake Messages API: drafts, usage, cost, errors."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from llm_fake_clients import TEMPLATE_ID, anthropic_generator, render, request_for

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.core.time import utcnow
from finagency.integrations.llm.anthropic_llm import AnthropicGenerator
from finagency.integrations.llm.anthropic_llm.errors import rate_limit_reset
from finagency.integrations.llm.fakes import RETRY_AFTER_SECONDS, create_anthropic_fake


async def test_a_draft_carries_text_model_usage_and_cost() -> None:
    fake = create_anthropic_fake()
    generator = anthropic_generator(fake, model="claude-3-5-haiku-20241022")
    result = await generator.generate(request_for())

    assert result.text == "AAPL: close 116.97 USD (source: Yahoo Finance)."
    assert result.model == "claude-3-5-haiku-20241022"
    assert result.prompt_template_id == TEMPLATE_ID
    assert result.input_tokens > 0
    assert result.output_tokens > 0
    expected = (result.input_tokens * 0.80 + result.output_tokens * 4.00) / 1_000_000
    assert result.cost_usd == pytest.approx(expected)


async def test_the_request_puts_the_system_prompt_apart_and_bounds_output() -> None:
    fake = create_anthropic_fake()
    await anthropic_generator(fake).generate(request_for(platform="mastodon"))

    body = fake.state.requests[-1]
    assert "mastodon" in body["system"]
    assert [turn["role"] for turn in body["messages"]] == ["user"]
    assert '"value": 116.97' in body["messages"][0]["content"]
    assert body["max_tokens"] == 1024


async def test_a_rate_limit_says_when_to_come_back() -> None:
    before = utcnow()
    with pytest.raises(RateLimitedExternalError) as caught:
        await anthropic_generator(create_anthropic_fake(), api_key="fake-rate_limited").generate(
            request_for()
        )
    assert caught.value.reset_at is not None
    wait = caught.value.reset_at - before
    assert (
        timedelta(seconds=RETRY_AFTER_SECONDS - 1)
        <= wait
        <= timedelta(seconds=RETRY_AFTER_SECONDS + 5)
    )


def test_without_retry_after_the_requests_reset_header_is_used() -> None:
    reset = rate_limit_reset({"anthropic-ratelimit-requests-reset": "2026-01-02T03:04:05Z"})
    assert reset is not None
    assert reset.isoformat() == "2026-01-02T03:04:05+00:00"
    assert rate_limit_reset({}) is None


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
        await anthropic_generator(create_anthropic_fake(), api_key=f"fake-{mode}").generate(
            request_for()
        )
    assert type(caught.value) is error


async def test_overloaded_names_the_cause() -> None:
    with pytest.raises(TransientExternalError) as caught:
        await anthropic_generator(create_anthropic_fake(), api_key="fake-overloaded").generate(
            request_for()
        )
    assert caught.value.details["status"] == 529
    assert caught.value.details["error_type"] == "overloaded_error"


async def test_a_refusal_is_permanent_and_says_so() -> None:
    with pytest.raises(PermanentExternalError, match="refused") as caught:
        await anthropic_generator(create_anthropic_fake(), api_key="fake-refusal").generate(
            request_for()
        )
    assert caught.value.details["reason"] == "refusal"


async def test_a_slow_server_times_out_as_transient() -> None:
    generator = anthropic_generator(
        create_anthropic_fake(slow_seconds=5), api_key="fake-slow", timeout=0.05
    )
    with pytest.raises(TransientExternalError, match="timed out"):
        await generator.generate(request_for())


async def test_a_transport_timeout_is_transient() -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    generator = AnthropicGenerator(
        http=httpx.AsyncClient(transport=httpx.MockTransport(stall)),
        render=render,
        api_key="sk-ant-test",
        model="claude-sonnet-4-5",
    )
    with pytest.raises(TransientExternalError, match="timed out"):
        await generator.generate(request_for())


async def test_the_shared_client_carries_answers_it_has_already_read() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["anthropic-version"]
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": " EUR/USD at 1.0842. "}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            },
        )

    generator = AnthropicGenerator(
        http=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        render=render,
        api_key="sk-ant-test",
        model="claude-sonnet-4-5",
    )
    result = await generator.generate(request_for())
    assert result.text == "EUR/USD at 1.0842."
    assert result.raw_output == " EUR/USD at 1.0842. "
    assert result.cost_usd == pytest.approx((1000 * 3.0 + 100 * 15.0) / 1_000_000)

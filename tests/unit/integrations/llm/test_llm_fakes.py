"""The fake LLM servers answer as the real APIs do: shapes, headers, modes."""

from __future__ import annotations

import json

import pytest
from llm_fake_clients import client_for, mover_sheet

from finagency.integrations.llm.fakes import (
    create_anthropic_fake,
    create_openai_fake,
    fake_reply,
)

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGE = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}


def test_the_reply_uses_only_numbers_from_the_prompt() -> None:
    prompt = "Facts:\n" + json.dumps(mover_sheet(close=212.49).to_dict())
    reply = fake_reply(prompt)
    assert "212.49" in reply
    assert (
        fake_reply("no facts here")
        == "Markets update: no figures were provided, so none are quoted."
    )


async def test_openai_needs_a_bearer_key() -> None:
    async with client_for(create_openai_fake()) as client:
        response = await client.post("http://fake/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert "error" in response.json()


async def test_openai_answers_a_chat_completion() -> None:
    async with client_for(create_openai_fake()) as client:
        response = await client.post(
            "http://fake/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer k"}
        )
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_the_mode_header_overrides_the_key() -> None:
    async with client_for(create_openai_fake()) as client:
        response = await client.post(
            "http://fake/v1/chat/completions",
            json=CHAT,
            headers={"authorization": "Bearer sk-real-looking", "x-fake-mode": "rate_limited"},
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_openai_rejects_a_body_without_messages() -> None:
    async with client_for(create_openai_fake()) as client:
        response = await client.post(
            "http://fake/v1/chat/completions",
            json={"model": "m"},
            headers={"authorization": "Bearer k"},
        )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("headers", "status", "error_type"),
    [
        ({"anthropic-version": "2023-06-01"}, 401, "authentication_error"),
        ({"x-api-key": "sk-ant"}, 400, "invalid_request_error"),
        ({**ANTHROPIC_HEADERS, "x-fake-mode": "overloaded"}, 529, "overloaded_error"),
    ],
)
async def test_anthropic_checks_key_and_version(
    headers: dict[str, str], status: int, error_type: str
) -> None:
    async with client_for(create_anthropic_fake()) as client:
        response = await client.post("http://fake/v1/messages", json=MESSAGE, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]


async def test_anthropic_requires_max_tokens() -> None:
    async with client_for(create_anthropic_fake()) as client:
        response = await client.post(
            "http://fake/v1/messages",
            json={key: value for key, value in MESSAGE.items() if key != "max_tokens"},
            headers=ANTHROPIC_HEADERS,
        )
    assert response.status_code == 400


async def test_anthropic_answers_a_message() -> None:
    async with client_for(create_anthropic_fake()) as client:
        response = await client.post(
            "http://fake/v1/messages", json=MESSAGE, headers=ANTHROPIC_HEADERS
        )
    body = response.json()
    assert body["type"] == "message"
    assert body["stop_reason"] == "end_turn"
    assert body["content"][0]["type"] == "text"
    assert set(body["usage"]) == {"input_tokens", "output_tokens"}

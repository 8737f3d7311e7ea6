"""Pure pieces: slot parsing, the lockout message and policy, the OIDC config switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from finagency.auth.lockout import LockoutPolicy, locked_error
from finagency.auth.oidc import OidcConfig
from finagency.brands.slots import parse_slot
from finagency.config import SecuritySettings, Settings
from finagency.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:30", (None, 570)),
        (" 0:00 ", (None, 0)),
        ("Mon 17:05", (0, 1025)),
        ("Sun 23:59", (6, 1439)),
    ],
)
def test_slots_parse(text: str, expected: tuple[int | None, int]) -> None:
    assert parse_slot(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9.30", "monday 09:00", "12:60", ""])
def test_bad_slots_name_the_expected_form(text: str) -> None:
    with pytest.raises(ValidationFailed, match="'09:30' or 'Mon 09:30'"):
        parse_slot(text)


def test_lock_message_says_how_long_and_what_to_do() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    error = locked_error(now + timedelta(minutes=14, seconds=5), now, locked_now=False)
    assert error.status_code == 429
    assert error.code == "account_locked"
    assert "locked for 15 more minutes" in error.message
    assert "ask an admin to reset your password" in error.message
    assert error.details["retry_after"] == 845
    assert locked_error(now + timedelta(seconds=30), now, locked_now=True).message.startswith(
        "Email or password is incorrect. "
    )


def test_lockout_policy_never_drops_below_one() -> None:
    settings = Settings(
        _env_file=None,
        security=SecuritySettings(login_lockout_threshold=0, login_lockout_minutes=0),
    )
    assert LockoutPolicy.from_settings(settings) == LockoutPolicy(1, timedelta(minutes=1))


def test_sso_is_off_until_a_client_id_and_issuer_are_set() -> None:
    assert OidcConfig.from_settings(SecuritySettings()) is None
    config = OidcConfig.from_settings(
        SecuritySettings(
            oidc_issuer="https://id.example.com/",
            oidc_client_id="abc",
            oidc_client_secret=SecretStr("s"),
            oidc_allowed_domains=["@Example.com "],
        )
    )
    assert config is not None
    assert config.discovery_url == "https://id.example.com/.well-known/openid-configuration"
    assert config.allowed_domains == ("example.com",)

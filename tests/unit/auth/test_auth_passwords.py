"""Password policy and Argon2id hashing, including rehash when the parameters change."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from finagency.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    validate_password,
    verify_password,
)
from finagency.core.errors import ValidationFailed

# Cheap parameters keep these tests fast; the default hasher is exercised where it matters.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.mark.parametrize(
    "password",
    ["a" * 9 + "b", "ünïcødé pä", "🔐🔑" * 5, " leading sp", "x" * 63 + "y", "é" * 63 + "f"],
)
def test_policy_accepts(password: str) -> None:
    validate_password(password)


def test_policy_accepts_the_maximum_length() -> None:
    validate_password("ab" * (MAX_LENGTH // 2))


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("", "at least 10"),
        ("abcdefghi", "at least 10"),
        ("a" * 12, "single character"),
        ("ab" * 64 + "c", "at most 128"),
    ],
)
def test_policy_rejects_with_a_clear_message(password: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says) as caught:
        validate_password(password)
    assert caught.value.details["field"] == "password"
    assert MIN_LENGTH == 10


def test_hash_is_argon2id_and_verifies_exactly_as_typed() -> None:
    stored = hash_password("correct horse battery")

    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery").ok
    assert not verify_password(stored, "correct horse battery ").ok
    assert not verify_password(stored, "Correct horse battery").ok
    assert verify_password(stored, "correct horse battery").new_hash is None


def test_passwords_that_differ_after_72_bytes_are_different() -> None:
    base = "p" * 80
    stored = hash_password(base + "1", hasher=CHEAP)
    assert not verify_password(stored, base + "2", hasher=CHEAP).ok


def test_outdated_parameters_are_rehashed_on_verify() -> None:
    old = hash_password("correct horse battery", hasher=CHEAP)

    product = PasswordHasher()  # the product's parameters (the suite runs with cheaper ones)
    outcome = verify_password(old, "correct horse battery", hasher=product)

    assert outcome.ok
    assert outcome.new_hash is not None
    assert outcome.new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert (
        verify_password(outcome.new_hash, "correct horse battery", hasher=product).new_hash is None
    )


def test_wrong_password_is_never_rehashed() -> None:
    old = hash_password("correct horse battery", hasher=CHEAP)
    outcome = verify_password(old, "wrong horse battery")
    assert not outcome.ok
    assert outcome.new_hash is None


@pytest.mark.parametrize("stored", ["", "plaintext", "$argon2id$broken", "$2b$12$abc"])
def test_malformed_stored_hash_never_matches(stored: str) -> None:
    assert not verify_password(stored, "plaintext").ok

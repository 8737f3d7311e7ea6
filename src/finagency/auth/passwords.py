"""Password hashing with Argon2id (rehash when parameters change) and the password policy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from finagency.core.errors import ValidationFailed

MIN_LENGTH = 10
# ASVS asks that 64+ characters be accepted; the cap only bounds hashing work per request.
MAX_LENGTH = 128

# argon2-cffi's default is the RFC 9106 low-memory profile (Argon2id, t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the process's hasher. The test suite alone calls it, with cheap parameters, so
    that seeding five users per test does not spend most of the suite's time in Argon2."""
    global _hasher
    _hasher = hasher


@dataclass(frozen=True)
class Verification:
    """The outcome of a check: ``new_hash`` is set when the stored hash should be replaced."""

    ok: bool
    new_hash: str | None = None


def validate_password(password: str) -> None:
    """Raise ValidationFailed unless ``password`` meets the policy (checked exactly as typed)."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_LENGTH} characters long",
            details={"field": "password", "min_length": MIN_LENGTH},
        )
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(
            f"password must be at most {MAX_LENGTH} characters long",
            details={"field": "password", "max_length": MAX_LENGTH},
        )
    if len(set(password)) == 1:
        raise ValidationFailed(
            "password must not repeat a single character",
            details={"field": "password"},
        )


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """An Argon2id PHC string for ``password`` (the policy is the caller's to check first)."""
    encoded: str = (hasher or _hasher).hash(password)
    return encoded


def verify_password(
    stored_hash: str, password: str, *, hasher: PasswordHasher | None = None
) -> Verification:
    """Check ``password`` against ``stored_hash``; say if a rehash with current parameters is due.

    A malformed stored hash counts as a mismatch, so a broken row can never let anyone in.
    """
    hasher = hasher or _hasher
    try:
        hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    if hasher.check_needs_rehash(stored_hash):
        return Verification(ok=True, new_hash=hash_password(password, hasher=hasher))
    return Verification(ok=True)


@cache
def dummy_hash() -> str:
    """A hash to verify against for unknown accounts, so they cost as much time as known ones."""
    return hash_password("finagency-dummy-password-never-matches")

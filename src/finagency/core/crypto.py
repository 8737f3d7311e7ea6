"""Secrets at rest: Fernet encryption keyed by FINAGENCY_SECRET_KEY, and token hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from finagency.core.errors import AppError


class SecretKeyError(AppError):
    code = "secret_key"


class SecretBox:
    """Encrypts credentials; the key is derived from the configured secret."""

    def __init__(self, secret_key: str | None) -> None:
        if not secret_key:
            raise SecretKeyError(
                "FINAGENCY_SECRET_KEY is not set: it is needed to encrypt and read platform "
                "credentials (generate one with `finagency secret generate`)"
            )
        digest = hashlib.sha256(("finagency-credentials:" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise SecretKeyError(
                "stored credentials cannot be decrypted: FINAGENCY_SECRET_KEY is not the key "
                "they were encrypted with"
            ) from None
        return value


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

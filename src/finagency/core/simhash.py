"""64-bit SimHash signatures for spotting near-duplicate short texts (headlines, snippets).

Texts that share most of their word shingles get signatures a few bits apart; the Hamming
distance between two signatures estimates how different the texts are. Signatures are
signed 64-bit integers so they fit a BIGINT column as they are.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

BITS = 64
_MASK = (1 << BITS) - 1
_SIGN_BIT = 1 << (BITS - 1)
_WORD = re.compile(r"\w+")
SHINGLE_SIZES = (1, 2)


def _shingles(text: str) -> list[str]:
    # Words and word pairs: on headline-length texts longer shingles make one edited word
    # move the signature too far for the usual 3-bit threshold.
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [
        " ".join(words[i : i + size])
        for size in SHINGLE_SIZES
        for i in range(len(words) - size + 1)
    ]


def _hash64(token: str) -> int:
    # blake2b is stable across processes and versions, unlike hash().
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")


def _to_signed(value: int) -> int:
    return value - (1 << BITS) if value & _SIGN_BIT else value


def signature(text: str) -> int:
    """SimHash of ``text`` over word 1- and 2-shingles, in ``[-2**63, 2**63)``; 0 for empty text."""
    shingles = _shingles(text)
    # Bit-sliced counters: planes[k] holds bit k of every column's count of set bits, so one
    # shingle costs a short carry chain over 64-bit words instead of a loop over 64 columns.
    planes: list[int] = []
    for shingle in shingles:
        carry = _hash64(shingle)
        for k, plane in enumerate(planes):
            planes[k] = plane ^ carry
            carry &= plane
            if not carry:
                break
        if carry:
            planes.append(carry)
    unsigned = 0
    for bit in range(BITS):
        ones = sum(((plane >> bit) & 1) << k for k, plane in enumerate(planes))
        # A column's weight (ones minus zeros) is positive exactly when ones > n / 2.
        if ones * 2 > len(shingles):
            unsigned |= 1 << bit
    return _to_signed(unsigned)


def distance(a: int, b: int) -> int:
    """Number of differing bits between two signatures (signed or unsigned form)."""
    return ((a ^ b) & _MASK).bit_count()


def is_near_duplicate(a: int, b: int, max_distance: int = 3) -> bool:
    return distance(a, b) <= max_distance

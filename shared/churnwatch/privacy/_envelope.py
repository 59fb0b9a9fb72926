"""Sealed values: AES-256-GCM under the customer's own data key, as one printable string.

Format: ``enc:v1:<nonce>:<ciphertext>`` with both parts unpadded base64url; the ciphertext ends
in GCM's 16-byte tag. The associated data binds a value to its customer and field, so a sealed
email cannot be replayed as another customer's (or as the same customer's phone). No key ever
leaves this module in a message or an error: `Unreadable` says only that opening failed.

Crypto-shredding: every copy of a sealed value, on any topic or in any backup of the topic,
becomes unreadable once the customer's key is deleted (docs/privacy.md).
"""

from __future__ import annotations

import base64
import os
import re
from typing import TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KEY_BYTES", "PREFIX", "Unreadable", "is_sealed", "new_key", "open_value", "seal"]

PREFIX = "enc:v1:"
KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12
_SEALED = re.compile(r"^enc:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}$")


class Unreadable(ValueError):
    """A sealed value could not be opened: wrong or deleted key, altered or foreign value."""


def new_key() -> bytes:
    """A fresh random data key (one per customer)."""
    return os.urandom(KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(key: bytes, plaintext: str, aad: str, *, nonce: bytes | None = None) -> str:
    """``plaintext`` encrypted under ``key``, bound to ``aad``; a fresh random nonce unless given.

    >>> key = bytes(range(32))
    >>> sealed = seal(key, "jana@example.com", "C-1/email", nonce=bytes(12))
    >>> sealed[:30], len(sealed)
    ('enc:v1:AAAAAAAAAAAAAAAA:ZN3bv_', 67)
    >>> open_value(key, sealed, "C-1/email")
    'jana@example.com'
    """
    nonce = os.urandom(_NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != _NONCE_BYTES:
        raise ValueError(f"the nonce must be {_NONCE_BYTES} bytes")
    data = AESGCM(key).encrypt(nonce, plaintext.encode(), aad.encode())
    return f"{PREFIX}{_b64(nonce)}:{_b64(data)}"


def open_value(key: bytes, sealed: str, aad: str) -> str:
    """The plaintext of ``sealed``; `Unreadable` if the key, the value or ``aad`` do not match.

    >>> key = bytes(range(32))
    >>> sealed = seal(key, "+49 30 1234567", "C-1/phone")
    >>> open_value(key, sealed, "C-2/phone")
    Traceback (most recent call last):
    ...
    churnwatch.privacy._envelope.Unreadable: the sealed value cannot be opened with this key
    >>> open_value(bytes(32), sealed, "C-1/phone")
    Traceback (most recent call last):
    ...
    churnwatch.privacy._envelope.Unreadable: the sealed value cannot be opened with this key
    """
    if not is_sealed(sealed):
        raise Unreadable("not a sealed value")
    nonce, data = sealed[len(PREFIX) :].split(":", 1)
    try:
        return AESGCM(key).decrypt(_unb64(nonce), _unb64(data), aad.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise Unreadable("the sealed value cannot be opened with this key") from exc


def is_sealed(value: object) -> TypeGuard[str]:
    """True for a string in the sealed format (a plaintext email or phone never is: no ``@``
    or letters in a sealed phone, no ``@`` in a sealed email).

    >>> is_sealed(seal(bytes(32), "x", "a")), is_sealed("jana@example.com"), is_sealed(None)
    (True, False, False)
    """
    return isinstance(value, str) and value.startswith(PREFIX) and bool(_SEALED.match(value))

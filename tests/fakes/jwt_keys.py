"""RS256 keys for the fake identity providers: signing JWTs and publishing them as a JWKS.

Google and Microsoft both sign their ID tokens with RS256 and publish the
public halves as a JSON Web Key Set (RFC 7517), each key named by ``kid``.
The fakes do the same, so a client that verifies ID tokens (``google.oauth2
.id_token.verify_token``, PyJWT's ``PyJWKClient``) runs its real code.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with the key id that JWT headers and the JWKS name it by."""

    private_key: rsa.RSAPrivateKey
    key_id: str = field(default_factory=lambda: secrets.token_hex(20))

    @classmethod
    def generate(cls, key_id: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, key_id) if key_id else cls(key)

    def sign(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None) -> str:
        """A compact RS256 JWT with ``kid`` (and ``typ: JWT``) in its header."""
        return jwt.encode(
            dict(claims),
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.key_id, **(headers or {})},
        )

    def jwk(self) -> dict[str, Any]:
        """The public key as one JWKS entry, in the fields Google and Microsoft publish."""
        public = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.key_id,
            "n": public["n"],
            "e": public["e"],
        }

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def private_pem(self) -> str:
        """PKCS#8 PEM, the form a Google service account key file carries."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """A JSON Web Key Set document: ``{"keys": [...]}``."""
    return {"keys": [key.jwk() for key in keys]}


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking anything: for picking the key to verify with."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def verified_claims(
    token: str, public_key_pem: str, *, audience: str | list[str]
) -> dict[str, Any]:
    """The claims of an RS256 JWT whose signature, audience, ``exp`` and ``iat`` check out.

    Raises ``jwt.InvalidTokenError`` (or a subclass naming the failed check).
    """
    claims: dict[str, Any] = jwt.decode(
        token,
        public_key_pem,
        algorithms=["RS256"],
        audience=audience,
        options={"require": ["iss", "aud", "iat", "exp"]},
    )
    return claims

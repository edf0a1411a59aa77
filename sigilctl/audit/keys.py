"""Ed25519 keys for attestations: PEM files (PKCS#8 private, SubjectPublicKeyInfo public).

A key's id is the one securesystemslib (the in-toto project's library) computes by default:
sha256 of the canonical JSON of ``{"keytype": "ed25519", "scheme": "ed25519", "keyval":
{"public": <raw public key, hex>}}``, so in-toto tooling matches our signatures to the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sigilctl.canonical import canonical_bytes
from sigilctl.durable import write_atomic
from sigilctl.errors import InputError
from sigilctl.identity import sha256_hex

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

PRIVATE_NAME = "attestation.key.pem"
PUBLIC_NAME = "attestation.pub.pem"
MAX_KEY_BYTES = 64 * 1024


def _read(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_BYTES:
        raise InputError(f"{what} {path} is too large to be a PEM key")
    return data


def load_private_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read(path, "--key")
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(
            f"--key {path} is encrypted; sigilctl signs with an unencrypted PKCS#8 PEM key "
            "(keep it in a secret store and mount it read-only)"
        ) from None
    except ValueError:
        raise InputError(f"--key {path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"--key {path} is a {type(key).__name__}; attestations use Ed25519")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _read(path, "--pubkey")
    try:
        key = load_pem_public_key(data)
    except ValueError:
        raise InputError(f"--pubkey {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"--pubkey {path} is a {type(key).__name__}; attestations use Ed25519")
    return key


def keyid(public: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    document = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw}}
    return sha256_hex(canonical_bytes(document))


def generate_keypair(folder: Path) -> tuple[Path, Path, str]:
    """Write a new key pair into ``folder`` (private key 0600); never overwrite a key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise InputError(f"{path} already exists; keygen never overwrites a key")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InputError(f"keygen: {folder} cannot be created: {exc.strerror}") from None
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    # The private key is the owner's alone; the public one follows the umask like any file.
    keys: tuple[tuple[Path, bytes, int | None], ...] = (
        (private_path, private, 0o600),
        (public_path, public, None),
    )
    for path, data, mode in keys:
        try:
            write_atomic(path, data, mode=mode, replace=False)
        except FileExistsError:
            raise InputError(f"{path} already exists; keygen never overwrites a key") from None
        except OSError as exc:
            raise InputError(f"keygen: cannot write {path}: {exc.strerror}") from None
    return private_path, public_path, keyid(key.public_key())

"""The stand-in's TLS identity: a fresh self-signed P-256 certificate per start, made
with Python's own OpenSSL, read back here by an independent reader (cryptography)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from cci_uploader.sandbox.tls import make_identity


def test_the_identity_is_a_password_protected_self_signed_p256_certificate() -> None:
    identity = make_identity()
    try:
        data = (identity.folder / identity.properties["IceSSL.CertFile"]).read_bytes()
        password = identity.properties["IceSSL.Password"].encode()
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        with pytest.raises(ValueError):
            pkcs12.load_key_and_certificates(data, b"not the password")
    finally:
        identity.remove()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert is not None and extra == []
    assert cert.public_key() == key.public_key()
    assert cert.issuer == cert.subject
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
        "OMERO stand-in"
    )
    cert.verify_directly_issued_by(cert)  # self-signed: its own key signed it
    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - now > dt.timedelta(days=29)


def test_every_identity_has_its_own_key_and_is_removed() -> None:
    first, second = make_identity(), make_identity()
    try:
        assert first.folder != second.folder
        keys = [
            pkcs12.load_key_and_certificates(
                (i.folder / "server.p12").read_bytes(), i.properties["IceSSL.Password"].encode()
            )[0]
            for i in (first, second)
        ]
        assert keys[0] is not None and keys[1] is not None
        assert keys[0].public_key() != keys[1].public_key()
        assert first.properties["IceSSL.Password"] != second.properties["IceSSL.Password"]
    finally:
        first.remove()
        second.remove()
    assert not first.folder.exists() and not second.folder.exists()

"""A throwaway TLS identity for the stand-in's SSL and WSS listeners.

A real OMERO server's Glacier2 router listens on SSL (port 4064, what a
bare ``HOST`` means to omero-py) and omero-py does not check the server's
certificate (``clients.py`` sets ``IceSSL.VerifyPeer=0``).  So a self-signed
certificate made at start is what the stand-in needs: it is written, with a
random password, as a PKCS#12 file into a private temporary folder (the
format IceSSL reads on every platform) and deleted when the server stops.
No key is ever stored anywhere else.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID


@dataclass
class Identity:
    """Where the PKCS#12 file is and the properties that make IceSSL use it."""

    folder: Path
    properties: dict[str, str]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def make_identity(host: str = "127.0.0.1") -> Identity:
    """Create a self-signed certificate for ``host`` and IceSSL server properties."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OMERO stand-in")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.DNSName(host)]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix="omero-standin-tls-"))
    bundle = pkcs12.serialize_key_and_certificates(
        b"standin", key, cert, None, BestAvailableEncryption(password.encode())
    )
    (folder / "server.p12").write_bytes(bundle)
    return Identity(
        folder,
        {
            "Ice.Plugin.IceSSL": "IceSSL:createIceSSL",
            "IceSSL.DefaultDir": str(folder),
            "IceSSL.CertFile": "server.p12",
            "IceSSL.Password": password,
            # The stand-in asks for no client certificate, as OMERO's router.
            "IceSSL.VerifyPeer": "0",
        },
    )

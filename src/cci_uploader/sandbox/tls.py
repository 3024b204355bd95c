"""A throwaway TLS identity for the stand-in's SSL and WSS listeners.

A real OMERO server's Glacier2 router listens on SSL (port 4064, what a
bare ``HOST`` means to omero-py) and omero-py does not check the server's
certificate (``omero/clients.py``, ``BaseClient._initData``, sets
``IceSSL.VerifyPeer=0``).  So a self-signed certificate made at start is
what the stand-in needs: it is written, with a random password, as a
PKCS#12 file into a private temporary folder (the format IceSSL reads on
every platform) and deleted when the server stops.  No key is ever stored
anywhere else, and every start has a new one.

The certificate is made with the OpenSSL library that Python's own ``ssl``
module is built on (through ``ctypes``), so neither the app nor its bundle
needs the ``cryptography`` package (11.6 MB of the bundle).  The ways
around a certificate do not work:

- anonymous Diffie-Hellman: omero-py stopped offering it in 5.13
  (commit cdba183c, "Remove Anonymous Diffie-Hellman default
  configuration"), OpenSSL 3 refuses it at its default security level,
  Windows' SChannel (IceSSL's engine there) never had it, and an OMERO
  5.6.2+ server has a certificate (``omero certificates``);
- one certificate made when the bundle is built: harmless today (omero-py
  verifies nothing, and an ECDSA key only signs ECDHE handshakes, so
  knowing it decrypts nothing), but its private key would be the same in
  every installation, a shared secret the moment anything trusted it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# OpenSSL constants (openssl/asn1.h).
_MBSTRING_ASC = 0x1001
_VALID_SECONDS = 30 * 24 * 3600


class IdentityError(RuntimeError):
    """OpenSSL could not be found or could not make the certificate."""


@dataclass
class Identity:
    """Where the PKCS#12 file is and the properties that make IceSSL use it."""

    folder: Path
    properties: dict[str, str]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _candidates() -> list[str]:
    import _ssl  # loads OpenSSL; on Windows its DLL sits beside _ssl.pyd

    if sys.platform == "win32":
        names = ("libcrypto-3.dll", "libcrypto-3-x64.dll")
        folder = Path(_ssl.__file__).parent
        # By path first; by name, Windows returns the module _ssl already loaded.
        return [*(str(folder / name) for name in names), *names]
    found = ctypes.util.find_library("crypto")
    return ["libcrypto.so.3", "libcrypto.3.dylib", *([found] if found else [])]


def _libcrypto() -> ctypes.CDLL:
    """The OpenSSL 3 libcrypto that ``_ssl`` uses, with the prototypes this module calls."""
    lib = None
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None or not hasattr(lib, "EVP_PKEY_CTX_new_from_name"):
        raise IdentityError(
            "The training server could not find OpenSSL 3, which it needs for its TLS "
            "certificate. Reinstall the app (or a Python 3.12 built with OpenSSL 3)."
        )
    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    prototypes: dict[str, tuple[object, list[object]]] = {
        "EVP_PKEY_CTX_new_from_name": (p, [p, s, s]),
        "EVP_PKEY_keygen_init": (i, [p]),
        "EVP_PKEY_CTX_set_group_name": (i, [p, s]),
        "EVP_PKEY_generate": (i, [p, ctypes.POINTER(p)]),
        "EVP_PKEY_CTX_free": (None, [p]),
        "EVP_PKEY_free": (None, [p]),
        "X509_new": (p, []),
        "X509_free": (None, [p]),
        "X509_set_version": (i, [p, ctypes.c_long]),
        "X509_get_serialNumber": (p, [p]),
        "ASN1_INTEGER_set_int64": (i, [p, ctypes.c_int64]),
        "X509_getm_notBefore": (p, [p]),
        "X509_getm_notAfter": (p, [p]),
        "X509_gmtime_adj": (p, [p, ctypes.c_long]),
        "X509_set_pubkey": (i, [p, p]),
        "X509_get_subject_name": (p, [p]),
        "X509_NAME_add_entry_by_txt": (i, [p, s, i, s, i, i, i]),
        "X509_set_issuer_name": (i, [p, p]),
        "EVP_sha256": (p, []),
        "X509_sign": (i, [p, p, p]),
        "PKCS12_create": (p, [s, s, p, p, p, i, i, i, i, i]),
        "i2d_PKCS12": (i, [p, p]),
        "PKCS12_free": (None, [p]),
        "ERR_get_error": (ctypes.c_ulong, []),
        "ERR_error_string_n": (None, [ctypes.c_ulong, s, ctypes.c_size_t]),
    }
    for name, (restype, argtypes) in prototypes.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def _check(lib: ctypes.CDLL, result: object, what: str) -> None:
    if not result or (isinstance(result, int) and result <= 0):
        buffer = ctypes.create_string_buffer(256)
        lib.ERR_error_string_n(lib.ERR_get_error(), buffer, len(buffer))
        raise IdentityError(
            f"The training server could not make its TLS certificate ({what}: "
            f"{buffer.value.decode(errors='replace')})."
        )


def _pkcs12(password: str) -> bytes:
    """A new P-256 key and a self-signed certificate for it, as a PKCS#12 file.

    OpenSSL 3's defaults encrypt it with AES-256 (PBES2) and a SHA-256 MAC,
    which Windows 10 1709+ reads.  No subject alternative name: nothing
    checks the name (IceSSL.CheckCertName is off by default).
    """
    lib = _libcrypto()
    context = key = cert = p12 = None
    try:
        context = lib.EVP_PKEY_CTX_new_from_name(None, b"EC", None)
        _check(lib, context, "key context")
        _check(lib, lib.EVP_PKEY_keygen_init(context), "key init")
        _check(lib, lib.EVP_PKEY_CTX_set_group_name(context, b"P-256"), "curve")
        key_out = ctypes.c_void_p()
        _check(lib, lib.EVP_PKEY_generate(context, ctypes.byref(key_out)), "key")
        key = key_out.value
        cert = lib.X509_new()
        _check(lib, cert, "certificate")
        _check(lib, lib.X509_set_version(cert, 2), "version")
        serial = secrets.randbits(62) + 1
        _check(lib, lib.ASN1_INTEGER_set_int64(lib.X509_get_serialNumber(cert), serial), "serial")
        _check(lib, lib.X509_gmtime_adj(lib.X509_getm_notBefore(cert), -300), "not before")
        _check(lib, lib.X509_gmtime_adj(lib.X509_getm_notAfter(cert), _VALID_SECONDS), "not after")
        _check(lib, lib.X509_set_pubkey(cert, key), "public key")
        name = lib.X509_get_subject_name(cert)
        _check(
            lib,
            lib.X509_NAME_add_entry_by_txt(
                name, b"CN", _MBSTRING_ASC, b"OMERO stand-in", -1, -1, 0
            ),
            "name",
        )
        _check(lib, lib.X509_set_issuer_name(cert, name), "issuer")
        _check(lib, lib.X509_sign(cert, key, lib.EVP_sha256()), "signature")
        p12 = lib.PKCS12_create(password.encode(), b"standin", key, cert, None, 0, 0, 0, 0, 0)
        _check(lib, p12, "PKCS#12")
        size = lib.i2d_PKCS12(p12, None)
        _check(lib, size, "PKCS#12 size")
        buffer = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(buffer))  # i2d moves it past what it wrote
        _check(lib, lib.i2d_PKCS12(p12, ctypes.byref(cursor)) == size, "PKCS#12 bytes")
        return buffer.raw
    finally:
        if p12:
            lib.PKCS12_free(p12)
        if cert:
            lib.X509_free(cert)
        if key:
            lib.EVP_PKEY_free(key)
        if context:
            lib.EVP_PKEY_CTX_free(context)


def make_identity() -> Identity:
    """Create a self-signed certificate and the IceSSL server properties that use it."""
    password = secrets.token_hex(16)
    bundle = _pkcs12(password)
    folder = Path(tempfile.mkdtemp(prefix="omero-standin-tls-"))
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

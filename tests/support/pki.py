"""A throw-away certificate authority for loopback HTTPS and TLS servers in tests."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class _Issuer:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey


class Pki:
    """A test CA (trusted through ca_file) that issues loopback server certificates."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ca = _new_issuer("statusbot test CA")
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(_self_signed(self._ca).public_bytes(serialization.Encoding.PEM))
        self._serial = 0

    def server_context(self, expires_in: timedelta, *, trusted: bool = True) -> ssl.SSLContext:
        """A server-side context whose certificate expires `expires_in` from now (or ago)."""
        issuer = self._ca if trusted else _new_issuer("somebody else's CA")
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_after = now + expires_in
        not_before = min(now, not_after) - timedelta(days=30)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(issuer.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(issuer.key, hashes.SHA256())
        )
        self._serial += 1
        cert_file = self.directory / f"server{self._serial}.pem"
        key_file = self.directory / f"server{self._serial}.key"
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


def _new_issuer(common_name: str) -> _Issuer:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return _Issuer(name=name, key=ec.generate_private_key(ec.SECP256R1()))


def _self_signed(issuer: _Issuer) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(issuer.name)
        .issuer_name(issuer.name)
        .public_key(issuer.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer.key, hashes.SHA256())
    )

"""A throwaway certificate authority and a certificate for 127.0.0.1 it signs: https on this machine, for development.

A Client ID Metadata Document must be served over https, even on loopback. `make_certificates` makes
a new CA and a server certificate on every start (`cryptography`); the CA's key is never written, so
nothing else can ever be signed with it. Also used by `labs/metadata_ssrf`.
"""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None, signer, days: int):
    """A certificate for `key`: a CA's own (issuer None), or a server's for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer.subject if issuer else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(data)


def make_certificates(state: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server-key.pem) in `state`: a new CA and server certificate on every start."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("MCP workshop throwaway CA", ca_key, None, ca_key, days=7)
    server = certificate("127.0.0.1", server_key, ca, ca_key, days=7)
    pem = serialization.Encoding.PEM
    (state / "ca.pem").write_bytes(ca.public_bytes(pem))  # the CA key is never written: nothing else gets signed
    (state / "server.pem").write_bytes(server.public_bytes(pem))
    key_format = (serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(state / "server-key.pem", server_key.private_bytes(pem, *key_format))
    return state / "ca.pem", state / "server.pem", state / "server-key.pem"

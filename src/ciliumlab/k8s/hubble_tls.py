"""Hubble's TLS Secrets as the chart's `certgen` creates them (`hubble.tls.auto.method=cronJob`).

- `cilium-ca` (Opaque: `ca.crt`, `ca.key`): the CA that signs both certificates;
- `hubble-server-certs` (kubernetes.io/tls): the agents' Hubble server certificate, SAN
  `*.<cluster-name>.hubble-grpc.cilium.io`;
- `hubble-relay-client-certs` (kubernetes.io/tls): Hubble Relay's client certificate, CN
  `*.hubble-relay.cilium.io`.

Real ECDSA P-256 certificates valid 3 years (certgen's default validity, 94608000s / 1095 days).
Key material is generated lazily once per process and cluster name (a `Lab()` is built very
often; signing three certificates costs a few ms, done once).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY_DAYS = 1095  # certgen: --ca-validity-duration / --hubble-*-cert-validity-duration = 3 years
CA_SECRET = "cilium-ca"
SERVER_SECRET = "hubble-server-certs"
RELAY_CLIENT_SECRET = "hubble-relay-client-certs"
SECRET_NAMES = (CA_SECRET, SERVER_SECRET, RELAY_CLIENT_SECRET)
RELAY_CLIENT_NAME = "*.hubble-relay.cilium.io"


def server_name(cluster_name: str = "default") -> str:
    return f"*.{cluster_name}.hubble-grpc.cilium.io"


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=not cert_sign, key_cert_sign=cert_sign,
                         crl_sign=cert_sign, content_commitment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def _leaf(ca_cert: x509.Certificate, ca_key, name: str, usage, now: dt.datetime) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return _pem_cert(cert), _pem_key(key)


def _new_ca(now: dt.datetime):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cilium CA")])
    ca_cert = (x509.CertificateBuilder()
               .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(_key_usage(cert_sign=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    return ca_cert, ca_key


def _generate(cluster_name: str, ca: tuple[bytes, bytes] | None) -> dict[str, dict[str, bytes]]:
    now = dt.datetime.now(dt.UTC)
    if ca is None:
        ca_cert, ca_key = _new_ca(now)
    else:
        ca_cert = x509.load_pem_x509_certificate(ca[0])
        ca_key = serialization.load_pem_private_key(ca[1], password=None)
    ca_pem = _pem_cert(ca_cert)
    server_crt, server_key = _leaf(ca_cert, ca_key, server_name(cluster_name),
                                   [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH], now)
    client_crt, client_key = _leaf(ca_cert, ca_key, RELAY_CLIENT_NAME, [ExtendedKeyUsageOID.CLIENT_AUTH], now)
    ca_key_pem = ca[1] if ca is not None else _pem_key(ca_key)
    return {
        CA_SECRET: {"ca.crt": ca_pem, "ca.key": ca_key_pem},
        SERVER_SECRET: {"ca.crt": ca_pem, "tls.crt": server_crt, "tls.key": server_key},
        RELAY_CLIENT_SECRET: {"ca.crt": ca_pem, "tls.crt": client_crt, "tls.key": client_key},
    }


@functools.lru_cache(maxsize=8)
def material(cluster_name: str = "default", ca: tuple[bytes, bytes] | None = None) -> dict[str, dict[str, bytes]]:
    """{secret name: {key: PEM bytes}} for the three Secrets (generated once per process).

    `ca`: an existing CA's (cert PEM, key PEM) to sign with (a kept `cilium-ca`); default: a new CA."""
    return _generate(cluster_name, ca)


def secrets(cluster_name: str = "default", namespace: str = "kube-system",
            ca: tuple[bytes, bytes] | None = None) -> list[dict]:
    """The three Secret objects (`data` base64-encoded, as the API stores them)."""
    out = []
    for name, data in material(cluster_name, ca).items():
        out.append({"apiVersion": "v1", "kind": "Secret",
                    "type": "Opaque" if name == CA_SECRET else "kubernetes.io/tls",
                    "metadata": {"name": name, "namespace": namespace,
                                 "labels": {"app.kubernetes.io/part-of": "cilium"}},
                    "data": {k: base64.b64encode(v).decode() for k, v in data.items()}})
    return out


__all__ = ["RELAY_CLIENT_NAME", "SECRET_NAMES", "VALIDITY_DAYS", "material", "secrets", "server_name"]

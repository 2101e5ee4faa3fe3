"""Hubble's TLS Secrets as the chart's certgen creates them: cilium-ca, hubble-server-certs,
hubble-relay-client-certs in kube-system (real certificates chaining to the cilium-ca)."""

from __future__ import annotations

import base64
import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ciliumlab import Lab
from ciliumlab.k8s import hubble_tls
from tests.served.conftest import needs_kubectl, served  # noqa: F401
from tests.served.served import ciliumlab


def _secrets(lab: Lab) -> dict[str, dict]:
    return {s["metadata"]["name"]: s for s in lab.list("secret", "kube-system")}


def _pem(secret: dict, key: str) -> bytes:
    return base64.b64decode(secret["data"][key])


def _check_chain(secrets: dict[str, dict]) -> None:
    ca = x509.load_pem_x509_certificate(_pem(secrets["cilium-ca"], "ca.crt"))
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name, expected in (("hubble-server-certs", "*.default.hubble-grpc.cilium.io"),
                           ("hubble-relay-client-certs", "*.hubble-relay.cilium.io")):
        secret = secrets[name]
        assert secret["type"] == "kubernetes.io/tls"
        assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
        assert _pem(secret, "ca.crt") == _pem(secrets["cilium-ca"], "ca.crt")
        cert = x509.load_pem_x509_certificate(_pem(secret, "tls.crt"))
        cert.verify_directly_issued_by(ca)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == expected
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == [expected]
        days = (cert.not_valid_after_utc - cert.not_valid_before_utc) / dt.timedelta(days=1)
        assert 1094 < days < 1096
        key = serialization.load_pem_private_key(_pem(secret, "tls.key"), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.public_key().public_numbers() == cert.public_key().public_numbers()


def test_fresh_lab_has_the_hubble_secrets():
    secrets = _secrets(Lab())
    assert {"cilium-ca", "hubble-server-certs", "hubble-relay-client-certs"} <= set(secrets)
    assert secrets["cilium-ca"]["type"] == "Opaque"
    assert sorted(secrets["cilium-ca"]["data"]) == ["ca.crt", "ca.key"]
    _check_chain(secrets)


def test_material_is_cached_per_process():
    assert hubble_tls.material() is hubble_tls.material()


def test_signing_with_a_kept_ca():
    first = hubble_tls.material()
    ca = (first["cilium-ca"]["ca.crt"], first["cilium-ca"]["ca.key"])
    again = {s["metadata"]["name"]: s for s in hubble_tls.secrets("default", "kube-system", ca)}
    assert _pem(again["cilium-ca"], "ca.key") == first["cilium-ca"]["ca.key"]
    _check_chain(again)


def _table(served) -> dict[str, tuple[str, str]]:  # noqa: F811
    out = served.kubectl_ok("get", "secrets", "-n", "kube-system")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "TYPE", "DATA"]
    return {cols[0]: (cols[1], cols[2]) for cols in (ln.split() for ln in lines[1:])}


@needs_kubectl
def test_served_kubectl_get_secrets(served):  # noqa: F811
    rows = _table(served)
    assert rows["cilium-ca"] == ("Opaque", "2")
    assert rows["hubble-server-certs"] == ("kubernetes.io/tls", "3")
    assert rows["hubble-relay-client-certs"] == ("kubernetes.io/tls", "3")


@needs_kubectl
def test_hubble_enable_recreates_missing_secrets(served):  # noqa: F811
    env = {"KUBECONFIG": str(served.kubeconfig)}
    served.kubectl_ok("delete", "secret", "-n", "kube-system", "hubble-server-certs", "hubble-relay-client-certs")
    try:
        res = ciliumlab("cilium", "hubble", "disable", env=env)
        assert res.rc == 0, res.err
        rows = _table(served)
        assert "cilium-ca" in rows and "hubble-server-certs" not in rows
    finally:
        res = ciliumlab("cilium", "hubble", "enable", env=env)
        assert res.rc == 0, res.err
    rows = _table(served)
    assert rows["hubble-server-certs"] == ("kubernetes.io/tls", "3")
    assert rows["hubble-relay-client-certs"] == ("kubernetes.io/tls", "3")
    items = json.loads(served.kubectl_ok("get", "secrets", "-n", "kube-system", "-o", "json"))["items"]
    _check_chain({s["metadata"]["name"]: s for s in items})


def test_no_secrets_when_hubble_is_disabled_at_bootstrap():
    lab = Lab(config={"cilium_config": {"enable-hubble": "false"}})
    assert not set(hubble_tls.SECRET_NAMES) & set(_secrets(lab))

"""Label selector filters: k8s selector syntax with Cilium `source:key` semantics."""

from __future__ import annotations

import pytest

from ciliumlab.hubble.filters import FilterError, compile_filter
from ciliumlab.hubble.filters.labels import parse_label, translate_selector
from tests.hubble.filter_flows import COREDNS, WORLD, XWING, flow


def src(selectors: list[str], f: dict | None = None) -> bool:
    return compile_filter({"source_label": selectors})(f or flow())


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("org=empire", True),
        ("k8s:org=empire", True),
        ("any:org=empire", True),
        ("container:org=empire", False),  # explicit source must be equal
        ("org==empire", True),
        ("org=alliance", False),
        ("org!=alliance", True),
        ("org!=empire", False),
        ("nosuchkey!=x", True),  # != holds when the key is absent
        ("org in (empire, alliance)", True),
        ("org in (alliance)", False),
        ("org notin (alliance)", True),
        ("k8s:org notin (empire)", False),
        ("org", True),
        ("!org", False),
        ("!nosuchkey", True),
        ("org=empire,class=tiefighter", True),  # comma = AND
        ("org=empire,class=deathstar", False),
        ("org=empire, class in (tiefighter,xwing)", True),
        ("k8s:io.kubernetes.pod.namespace=default", True),
        ("io.kubernetes.pod.namespace=kube-system", False),
        ("app.kubernetes.io/name=tiefighter", True),
        ("k8s:app.kubernetes.io/name in (xwing, tiefighter)", True),
        ("", True),  # empty selector selects everything
    ],
)
def test_source_label_selector(selector, expected):
    assert src([selector]) is expected


def test_selectors_are_ored():
    assert src(["org=alliance", "class=tiefighter"])
    assert not src(["org=alliance", "class=xwing"])


def test_reserved_world_label():
    to_world = flow(destination=WORLD)
    assert compile_filter({"destination_label": ["reserved:world"]})(to_world)
    assert compile_filter({"destination_label": ["world"]})(to_world)  # any source
    assert not compile_filter({"destination_label": ["k8s:world"]})(to_world)
    assert not compile_filter({"destination_label": ["reserved:world"]})(flow())


def test_destination_label_and_missing_endpoint():
    assert compile_filter({"destination_label": ["k8s:k8s-app=kube-dns"]})(flow(destination=COREDNS))
    assert not compile_filter({"destination_label": ["k8s-app=kube-dns"]})(flow())
    assert compile_filter({"destination_label": ["!org"]})(flow(destination=None))
    assert not compile_filter({"destination_label": ["org"]})(flow(destination=None))


def test_numeric_gt_lt():
    f = flow(source=dict(XWING, labels=["k8s:tier=3", "k8s:name=x"]))
    assert src(["tier>2"], f)
    assert not src(["tier>3"], f)
    assert src(["tier<4"], f)
    assert not src(["name>1"], f)  # non-numeric label value
    assert not src(["missing<10"], f)


def test_node_labels_have_no_source():
    assert compile_filter({"node_labels": ["kubernetes.io/hostname=kind-worker"]})(flow())
    assert compile_filter({"node_labels": ["kubernetes.io/os in (linux, windows)"]})(flow())
    assert not compile_filter({"node_labels": ["kubernetes.io/hostname=kind-worker2"]})(flow())
    assert not compile_filter({"node_labels": ["k8s:kubernetes.io/hostname=kind-worker"]})(flow())
    assert not compile_filter({"node_labels": ["kubernetes.io/os"]})(flow(node_labels=None))


def test_translate_selector():
    assert translate_selector("k8s:app=foo") == "k8s.app=foo"
    assert (
        translate_selector("app in (a, b),!k8s:tier, reserved:world")
        == "any.app in (a, b),!k8s.tier, reserved.world"
    )
    assert translate_selector("k8s:io.kubernetes.pod.namespace!=x") == "k8s.io.kubernetes.pod.namespace!=x"


def test_parse_label():
    assert parse_label("k8s:app=foo") == ("k8s", "app", "foo")
    assert parse_label("reserved:world") == ("reserved", "world", "")
    assert parse_label("kubernetes.io/os=linux") == ("unspec", "kubernetes.io/os", "linux")
    assert parse_label("$host") == ("reserved", "host", "")
    assert parse_label("k8s:a=b=c") == ("k8s", "a", "b=c")


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("org=", None),  # valid: empty value
        ("org in ()", None),
        (
            "org in (a",
            "invalid source label filter: unable to parse requirement: found '', expected: ',' or ')'",
        ),
        ("=foo", "invalid source label filter: unable to parse requirement:"),
        ("org=a b", "invalid source label filter: found 'b', expected: ',' or 'end of string'"),
        ("org=a,", "invalid source label filter: found '', expected: identifier after ','"),
        (
            "org>x",
            "invalid source label filter: unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("org=bad!value", "invalid source label filter:"),
        (
            "org=-x",
            'invalid source label filter: unable to parse requirement: values[0]: Invalid value: "-x"',
        ),
        (
            "org-=x",
            'invalid source label filter: unable to parse requirement: key: Invalid value: "any.org-"',
        ),
        ("org notin x", "invalid source label filter: unable to parse requirement: found 'x' expected: '('"),
    ],
)
def test_selector_errors(selector, message):
    if message is None:
        compile_filter({"source_label": [selector]})
        return
    with pytest.raises(FilterError) as exc:
        compile_filter({"source_label": [selector]})
    assert str(exc.value).startswith(message)


def test_destination_and_node_label_error_prefixes():
    with pytest.raises(FilterError, match=r"^invalid destination label filter: "):
        compile_filter({"destination_label": ["a in (b"]})
    with pytest.raises(FilterError, match=r"^invalid node label filter: "):
        compile_filter({"node_labels": ["a in (b"]})

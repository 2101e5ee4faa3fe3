from __future__ import annotations

import pytest

from ciliumlab import Lab
from tests.conftest import FIXTURES


@pytest.fixture
def gen() -> Lab:
    """A fresh lab with the GEN pods of spec/policy-scenarios.md (n1 = k8s-w1, n2 = k8s-w2)."""
    lab = Lab()
    lab.apply(FIXTURES / "gen.yaml")
    return lab

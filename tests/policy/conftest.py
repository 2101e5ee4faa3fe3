"""Fixtures for the pure policy-engine tests (helpers live in policylab.py)."""

import pytest

from tests.policy.policylab import Lab


@pytest.fixture
def lab() -> Lab:
    return Lab()


@pytest.fixture
def make_lab():
    return Lab

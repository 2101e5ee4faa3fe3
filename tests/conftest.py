from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """A copy of a ../shared/fixtures file kept in tests/fixtures, so the suite runs anywhere."""
    return FIXTURES.joinpath(*parts)


@pytest.fixture
def sw_app() -> Path:
    return shared_fixture("cilium", "http-sw-app.yaml")

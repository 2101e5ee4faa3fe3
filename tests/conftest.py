from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """A file of ../shared/fixtures (present for developers and in CI)."""
    path = SHARED.joinpath("fixtures", *parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def sw_app() -> Path:
    return shared_fixture("cilium", "http-sw-app.yaml")

from __future__ import annotations

from pathlib import Path

import pytest

from tests.served.served import ANY_PORTS, KUBECTL, ServedLab


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """One running lab for the module (`ciliumlab up` for real); always stopped at the end."""
    root = tmp_path_factory.mktemp("served")
    lab = ServedLab(root / "state", root / "work")
    lab.up_result = lab.up(*ANY_PORTS)
    try:
        assert lab.up_result.rc == 0, lab.up_result.err
        yield lab
    finally:
        lab.teardown()


needs_kubectl = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

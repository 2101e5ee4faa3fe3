from tests.served.conftest import needs_kubectl, served  # noqa: F401  (the module-scoped served lab)

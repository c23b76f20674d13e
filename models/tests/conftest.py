"""Shared pytest settings for the models/ tests."""


def pytest_configure(config):  # noqa: ANN001, ANN201 (pytest hook)
    # Large-model tests (L/14: ~0.9 GB files) are marked so quick runs can skip them: -m "not slow".
    config.addinivalue_line("markers", "slow: large checkpoints or long runs; deselect with -m 'not slow'")

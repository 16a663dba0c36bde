"""Shared pytest setup: quiet TF logs, register markers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer checks (real-data training, offline dataset preparation); run with -m slow")

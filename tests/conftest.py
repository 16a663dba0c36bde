"""Shared pytest setup: quiet TF logs, register markers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if "PYTEST_XDIST_WORKER" in os.environ:
    # One pytest-xdist worker per core (pytest.ini: -n auto), so one TensorFlow
    # thread per worker: tiny test models gain nothing from intra-op threads, and
    # two workers' thread pools fighting over two cores made the suite ~20 %
    # slower (test_conditional_gan + test_remedies: 188 s vs 228 s with -n 2).
    # Fresh processes the tests start inherit the budget.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer checks (real-data training, offline dataset preparation); run with -m slow")


def pytest_collection_modifyitems(config, items):
    """Learning tests (``tests/*_learning.py``, minutes each) first.

    pytest-xdist hands out modules in this order (pytest.ini turns off its own
    reordering by test count, which put these one-test modules last); started
    last, the longest ones kept one worker busy while the other idled. Replayed
    through xdist's scheduling (``python bench/suite_schedule.py <junit.xml>``),
    one run's test times (2,329 worker-seconds) gave the busier worker 1,301 s
    in xdist's order and 1,177 s in this one.
    """
    items.sort(key=lambda item: not item.path.name.endswith("_learning.py"))  # Stable: file order otherwise.

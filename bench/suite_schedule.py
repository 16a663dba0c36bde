r"""Replays one test-suite run's test times through pytest-xdist's ``--dist loadscope`` scheduling.

The default suite runs on two workers (pytest.ini: ``-n auto --dist
loadscope``), and its wall time is that of the busier worker. Given the junit
XML of one run, this prints the worker loads of several orders of the same
scopes (a module, or a class of a module), so an ordering change can be judged
without two more 20-minute runs:

* ``xdist reorder``: xdist's default, scopes with the most tests first;
* ``collection``: the order tests/conftest.py gives (learning modules first,
  then file order), which pytest.ini's ``--no-loadscope-reorder`` keeps;
* ``longest first``: by measured time, a bound that needs the times ahead.

The replay follows xdist 3.8's LoadScopeScheduling: each worker starts with
two scopes and is handed the next one whenever two or fewer of its assigned
tests are left. Times are the run's own (so contention between the workers is
in them); collection and start-up are not. The slowest scopes are listed too.

Example::

    PYTEST_ADDOPTS=--junitxml=/tmp/junit.xml python -m pytest   # the README's test command
    python bench/suite_schedule.py /tmp/junit.xml
"""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ElementTree

WORKERS = 2
PREFETCH = 2  # xdist hands a worker another scope once this many of its tests or fewer are left.


def scope_times(junit_path: str) -> "collections.OrderedDict[str, list[float]]":
    """``{scope: [test seconds, ...]}`` in report order; a scope is ``module`` or ``module::Class``."""
    scopes = collections.OrderedDict()
    for case in ElementTree.parse(junit_path).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        module = parts[1] if parts[0] == "tests" and len(parts) > 1 else parts[0]
        scope = module + "".join(f"::{p}" for p in parts[2:])
        scopes.setdefault(scope, []).append(float(case.get("time", 0.0)))
    if not scopes:
        raise SystemExit(f"{junit_path}: no test cases.")
    return scopes


def replay(order, scopes, workers: int = WORKERS) -> list[float]:
    """Each worker's busy seconds when the scopes are handed out in ``order``."""
    queue, pending, clock = list(order), [[] for _ in range(workers)], [0.0] * workers

    def hand_out(worker):
        if queue:
            pending[worker].extend(scopes[queue.pop(0)])

    for worker in range(workers):
        hand_out(worker)
    for worker in range(workers):
        if len(pending[worker]) <= PREFETCH:
            hand_out(worker)
    while any(pending):
        worker = min((w for w in range(workers) if pending[w]), key=lambda w: clock[w] + pending[w][0])
        clock[worker] += pending[worker].pop(0)
        if len(pending[worker]) <= PREFETCH:
            hand_out(worker)
    return clock


def collection_order(scopes) -> list[str]:
    """tests/conftest.py's order: ``*_learning`` modules first, then by file name (classes in report order)."""
    return sorted(scopes, key=lambda s: (not s.split("::")[0].endswith("_learning"), s.split("::")[0]))


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    scopes = scope_times(argv[1])
    total = sum(map(sum, scopes.values()))
    collected = collection_order(scopes)
    orders = {
        "xdist reorder (default)": sorted(collected, key=lambda s: -len(scopes[s])),
        "collection (--no-loadscope-reorder)": collected,
        "longest first (bound)": sorted(collected, key=lambda s: -sum(scopes[s])),
    }
    print(f"{sum(map(len, scopes.values()))} tests in {len(scopes)} scopes, {total:.0f} worker-seconds; "
          f"{WORKERS} workers: at best {total / WORKERS:.0f} s each.")
    print("| order | " + " | ".join(f"worker {w} (s)" for w in range(WORKERS)) + " | wall (s) |")
    print("| --- |" + " --- |" * (WORKERS + 1))
    for name, order in orders.items():
        loads = replay(order, scopes)
        print(f"| {name} | " + " | ".join(f"{x:.0f}" for x in loads) + f" | {max(loads):.0f} |")
    print("\n| slowest scopes | tests | seconds |\n| --- | --- | --- |")
    for scope in sorted(scopes, key=lambda s: -sum(scopes[s]))[:15]:
        print(f"| {scope} | {len(scopes[scope])} | {sum(scopes[scope]):.0f} |")


if __name__ == "__main__":
    main(sys.argv)

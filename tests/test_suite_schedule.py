"""`bench/suite_schedule.py`: replaying a junit run through loadscope's scheduling."""

import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "suite_schedule.py"
spec = importlib.util.spec_from_file_location("suite_schedule", SCRIPT)
suite_schedule = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite_schedule)


def _junit(tmp_path):
    cases = [("tests.test_a_learning", "test_long", 100.0)]
    cases += [(f"tests.test_m{m}", f"test_{i}", 5.0) for m in range(10) for i in range(3)]
    cases += [("tests.test_b.TestK", f"test_{i}", 10.0) for i in range(4)]
    rows = "".join(f'<testcase classname="{c}" name="{n}" time="{t}"/>' for c, n, t in cases)
    path = tmp_path / "junit.xml"
    path.write_text(f"<testsuites><testsuite>{rows}</testsuite></testsuites>")
    return str(path)


def test_scopes_are_modules_or_classes_in_report_order(tmp_path):
    scopes = suite_schedule.scope_times(_junit(tmp_path))
    assert list(scopes)[:2] == ["test_a_learning", "test_m0"] and list(scopes)[-1] == "test_b::TestK"
    assert sum(scopes["test_a_learning"]) == 100.0 and scopes["test_b::TestK"] == [10.0] * 4


def test_a_long_scope_handed_out_last_leaves_the_other_worker_idle(tmp_path):
    scopes = suite_schedule.scope_times(_junit(tmp_path))
    total = sum(map(sum, scopes.values()))  # 290 s: 145 s per worker at best.
    first = suite_schedule.replay(suite_schedule.collection_order(scopes), scopes)
    by_count = suite_schedule.replay(sorted(scopes, key=lambda s: -len(scopes[s])), scopes)  # xdist's default.
    assert sum(first) == sum(by_count) == total
    # First, the small scopes fill in around it; last (one test), it starts when the rest is
    # nearly done and the other worker idles.
    assert max(first) <= total / 2 + 10, first
    assert max(by_count) >= total / 2 + 40, by_count

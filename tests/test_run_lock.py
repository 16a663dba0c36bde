"""One writer per run directory: `kgan.saving.RunLock`, and two binaries started on one --model_dir."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from kgan import saving
from tests.test_train_binary import assert_every_checkpoint_loads, command

_HOLD = """
import sys, time
from kgan.saving import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def _holder(directory):
    process = subprocess.Popen([sys.executable, "-c", _HOLD, str(directory)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_held_lock_is_refused_with_the_holders_pid_and_command(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(saving.RunDirectoryInUse, match=rf"is in use by process {holder.pid} on .* \(`-c {tmp_path}`, started "):
            saving.RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = _holder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with saving.RunLock(tmp_path) as lock:
        assert lock.previous_holder["pid"] == holder.pid
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert (tmp_path / ".lock").read_text() == ""  # Released: emptied, not deleted.
    with saving.RunLock(tmp_path) as lock:  # Free again, and the empty record is no stale holder.
        assert lock.previous_holder is None


def test_a_second_run_in_the_same_directory_exits_with_the_lock_message_and_the_first_finishes_intact(tmp_path):
    steps_per_epoch = 40
    first = subprocess.Popen(command(tmp_path, "--epochs=1", f"--steps_per_epoch={steps_per_epoch}", "--checkpoint_every_n_steps=10"),
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock_file = tmp_path / "run" / ".lock"
        deadline = time.time() + 120
        while time.time() < deadline and not (lock_file.is_file() and lock_file.read_text()):
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        second = subprocess.run(command(tmp_path, "--epochs=1", f"--steps_per_epoch={steps_per_epoch}"), cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first run ended before the second tried; make it longer"
        assert second.returncode != 0
        assert f"kgan: cannot start training: {tmp_path / 'run'} is in use by process {first.pid}" in second.stderr, second.stderr[-3000:]
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err[-3000:]
    assert f"train steps      0 -> {steps_per_epoch}" in out
    assert_every_checkpoint_loads(tmp_path / "run" / "checkpoints", steps_per_epoch)

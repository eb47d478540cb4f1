"""run_local restarts a worker that dies, and stops loudly (exit 1) when it keeps dying."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

from heatmaps.management.commands.run_local import Supervisor
from tests.deploy.processes import ROOT, child_env, free_port


def test_a_child_that_dies_is_restarted_and_one_that_keeps_dying_is_given_up():
    lines, gave_up = [], threading.Event()
    supervisor = Supervisor(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        write=lines.append,
        on_give_up=gave_up.set,
        max_restarts=2,
        window=60,
        poll=0.05,
    )
    try:
        first = supervisor.process.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervisor.process.pid == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.process.pid != first and supervisor.process.poll() is None
        assert any("died with exit code -9; restarting it" in line for line in lines)
        for _ in range(2):
            pid = supervisor.process.pid
            os.kill(pid, signal.SIGKILL)
            while supervisor.process.pid == pid and not gave_up.is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
        assert gave_up.wait(10)
        assert "died 3 times" in lines[-1] and "stopping" in lines[-1]
    finally:
        supervisor.stop()


def test_run_local_exits_non_zero_when_its_worker_keeps_dying(tmp_path):
    process = start_run_local(free_port(), tmp_path)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    killed: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            for match in re.finditer(r"Started Celery worker and beat .* \(pid (\d+)\)", "".join(output)):
                pid = int(match.group(1))
                if pid not in killed:
                    killed.add(pid)
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        assert process.wait(timeout=30) == 1, "".join(output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    reader.join(5)
    text = "".join(output)
    assert len(killed) == 4 and text.count("restarting it") == 3
    assert "died 4 times" in text and "liqsite stopped: a background process kept dying." in text


def start_run_local(port: int, tmp_path) -> subprocess.Popen:
    env = child_env(LIQSITE_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_local", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_run_local_on_a_port_in_use_says_so_and_starts_nothing(tmp_path):
    # runserver leaves on "port already in use" with os._exit, skipping run_local's clean-up: its worker,
    # started first, was left running on its own.
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = start_run_local(taken.getsockname()[1], tmp_path)
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            _kill_session(process)
    assert process.returncode != 0
    assert "cannot serve on 127.0.0.1:" in output and "Address already in use" in output
    assert "Started" not in output and "Traceback" not in output


def test_run_local_stopped_with_sigterm_stops_its_worker(tmp_path):
    process = start_run_local(free_port(), tmp_path)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Started Celery worker and beat .* \(pid (\d+)\)", "".join(output))):
            assert time.monotonic() < deadline and process.poll() is None, "".join(output)
            time.sleep(0.2)
        worker = int(found.group(1))
        time.sleep(2)  # the web server is up
        process.send_signal(signal.SIGTERM)  # what `kill` and service managers send
        assert process.wait(timeout=60) == 0, "".join(output)
        deadline = time.monotonic() + 30
        while _alive(worker):
            assert time.monotonic() < deadline, f"worker {worker} outlived run_local"
            time.sleep(0.2)
    finally:
        _kill_session(process)


def _kill_session(process: subprocess.Popen) -> None:
    """Kill whatever is left of run_local's session, even once run_local itself has exited (an orphaned worker)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, waiting for its parent to read its exit code.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False

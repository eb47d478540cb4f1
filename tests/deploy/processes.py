"""Start, watch and stop the real processes of the deployment tests (workers, gunicorn)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a child process must not inherit from the test run: the test settings' servers and switches.
CLEARED = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_SETTINGS_MODULE",
    "LIQSITE_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "LIQSITE_VAR_DIR",
    "PYTEST_XDIST_WORKER",
)


def child_env(**values: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in CLEARED}
    environment.update(values)
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """One child process in its own session (so a kill reaches its children), its output in a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], logs: Path, cwd: Path = ROOT):
        self.name = name
        self.log = logs / f"{name}.log"
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL for whatever is left of the group."""
        if self.alive():
            self.kill_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill_group(signal.SIGKILL)
        self.popen.wait(timeout=10)


def wait_for(check, *, timeout: float, what: str, processes: tuple[Process, ...] = (), interval: float = 0.2):
    """Poll ``check()`` until it returns something truthy; fail with the processes' logs otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        for process in processes:
            if not process.alive():
                raise AssertionError(
                    f"{process.name} exited ({process.popen.returncode}) while waiting for {what}:\n{process.output()[-4000:]}"
                )
        time.sleep(interval)
    logs = "\n".join(f"--- {p.name}:\n{p.output()[-3000:]}" for p in processes)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0

"""Helpers the benchmarks share: a throw-away PostgreSQL database, free ports, machine facts."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-Atq"]
BENCH_DB_PREFIX = "liqsite_bench_"


def fresh_postgres(name: str) -> str:
    """Drop and create the PostgreSQL database ``liqsite_bench_<name>`` on 127.0.0.1; its DATABASE_URL.

    Only databases named with the bench prefix are ever dropped, so a typo cannot
    reach a real one.
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bench database names are letters, digits and '_', not {name!r}")
    database = BENCH_DB_PREFIX + name
    subprocess.run([*PG_ADMIN, "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
    subprocess.run([*PG_ADMIN, "-c", f"CREATE DATABASE {database}"], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def drop_postgres(url: str) -> None:
    database = url.rsplit("/", 1)[-1]
    if database.startswith(BENCH_DB_PREFIX):
        subprocess.run([*PG_ADMIN, "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def group_cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """CPU time (user + system) used so far by the process groups these processes lead (started with
    ``start_new_session=True``), reaped children included."""
    groups = {process.pid for process in processes}
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def service_versions() -> dict[str, str]:
    """Versions of what the benchmarks run on (PostgreSQL and Redis only when reachable)."""
    import numpy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    try:
        versions["postgresql"] = subprocess.run(
            [*PG_ADMIN, "-c", "SHOW server_version"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    try:
        info = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "INFO", "server"], capture_output=True, text=True, check=True
        ).stdout
        versions["redis"] = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("redis_version:"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    return versions


def machine_line() -> str:
    versions = service_versions()
    parts = [f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} cores"]
    parts += [f"{name} {version}" for name, version in versions.items()]
    return ", ".join(parts)


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def record_section(path: Path, marker: str, text: str) -> None:
    """Replace (or append) the section between ``<!-- marker:start -->`` and ``<!-- marker:end -->``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        current = before + block + ("\n" + after if after else "")
    else:
        current = current.rstrip() + "\n\n" + block
    path.write_text(current)

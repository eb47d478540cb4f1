"""A small HTTP load generator for the benchmarks: N clients, a fixed duration, loopback only.

Each client sends one GET after another, each on a new connection (every
request stands for a new visitor, and gunicorn's sync workers close the
connection after each response anyway), and waits for the whole body before
sending the next. It speaks just enough HTTP/1.1 over asyncio streams to do
that, so the generator itself costs little CPU next to the server it
measures on the same machine: with httpx or threads, the client would take
a large share of the two cores away from the server.

Run alone: ``python bench/load.py http://127.0.0.1:8000/s/TOKEN/ --clients 32 --seconds 10``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
MAX_CLIENTS = 256
MAX_SECONDS = 120
REQUEST_TIMEOUT = 10.0


@dataclass
class LoadResult:
    clients: int
    seconds: float  # measured wall time, from the first request to the last response
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    body_bytes: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def summary(self) -> dict:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "requests": self.ok,
            "req_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies) * 1000, 1) if self.latencies else None,
            "bytes_per_response": round(self.body_bytes / self.ok) if self.ok else 0,
            "statuses": self.statuses,
            "errors": self.errors,
        }


class LoadError(Exception):
    pass


def _request_bytes(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", "User-Agent: liqsite-bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _one_request(host: str, port: int, request: bytes) -> tuple[int, int]:
    """Send one request on a new connection; (status, body length) once the whole body is read."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if status in (204, 304) or length == 0:
            return status, 0
        body = await (reader.readexactly(length) if length is not None else reader.read())
        return status, len(body)
    finally:
        writer.close()


async def _client(host, port, request, deadline, result: LoadResult, expect: int) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            status, size = await asyncio.wait_for(_one_request(host, port, request), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
            name = type(error).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            await asyncio.sleep(0.01)  # a refused connection must not become a busy loop
            continue
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status == expect:
            result.latencies.append(time.perf_counter() - started)
            result.body_bytes += size


async def run_load(
    url: str, *, clients: int, seconds: float, headers: dict[str, str] | None = None, expect: int = 200
) -> LoadResult:
    """Run ``clients`` concurrent clients against ``url`` for ``seconds``; only loopback URLs are allowed."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise LoadError(f"only http://127.0.0.1 (loopback) URLs may be loaded, not {url!r}")
    if not 1 <= clients <= MAX_CLIENTS:
        raise LoadError(f"clients must be between 1 and {MAX_CLIENTS}, not {clients}")
    if not 0 < seconds <= MAX_SECONDS:
        raise LoadError(f"seconds must be in (0, {MAX_SECONDS}], not {seconds}")
    host, port = parts.hostname, parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    request = _request_bytes(host, port, path, headers or {})
    result = LoadResult(clients=clients, seconds=0.0)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(host, port, request, deadline, result, expect) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--header", action="append", default=[], help="extra request header, 'Name: value'")
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    result = asyncio.run(
        run_load(args.url, clients=args.clients, seconds=args.seconds, headers={k.strip(): v.strip() for k, v in headers.items()})
    )
    print(json.dumps(result.summary()))


if __name__ == "__main__":
    main()

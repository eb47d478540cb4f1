"""The embedded broker keeps a taken message on disk until it is acknowledged (liqsite.broker)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
import uuid

from kombu import Connection

from liqsite.broker import SEPARATOR, process_is_running


def _connection(tmp_path, visibility_timeout=3600):
    folders = {name: tmp_path / name for name in ("queue", "claims", "control")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "claims_folder": str(folders["claims"]),
        "control_folder": str(folders["control"]),
        "visibility_timeout": visibility_timeout,
    }
    return Connection("filesystem://", transport="liqsite.broker:Transport", transport_options=options), folders


def test_a_taken_message_stays_claimed_until_acknowledged(tmp_path):
    connection, folders = _connection(tmp_path)
    with connection:
        queue = connection.SimpleQueue(f"work-{uuid.uuid4().hex}")  # kombu keeps bindings per process: a fresh name
        queue.put({"n": 1})
        message = queue.get(timeout=1)
        assert not list(folders["queue"].glob("*.msg"))
        (claim,) = folders["claims"].iterdir()
        assert claim.name.split(SEPARATOR)[2] == str(os.getpid())
        message.ack()
        assert not list(folders["claims"].iterdir())
        queue.close()


def test_claims_of_dead_processes_and_expired_claims_go_back_on_the_queue(tmp_path):
    connection, folders = _connection(tmp_path, visibility_timeout=60)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with connection:
        queue = connection.SimpleQueue(f"work-{uuid.uuid4().hex}")  # kombu keeps bindings per process: a fresh name
        for n in range(3):
            queue.put({"n": n})
        taken = [queue.get(timeout=1) for _ in range(3)]
        claims = sorted(folders["claims"].iterdir())
        assert len(claims) == 3 and not list(folders["queue"].glob("*.msg"))
        now = int(time.time())
        # Hand the claims over to: a process that is gone, a live one (recent), a live one (long ago).
        owners = [(now, dead.pid), (now, os.getppid()), (now - 61, os.getppid())]
        for claim, (when, pid) in zip(claims, owners):
            _, host, _, original = claim.name.split(SEPARATOR, 3)
            claim.rename(claim.with_name(SEPARATOR.join((str(when), host, str(pid), original))))
        channel = queue.channel
        channel._claims.clear()
        assert channel.claims_restore() == 2
        assert len(list(folders["queue"].glob("*.msg"))) == 2 and len(list(folders["claims"].iterdir())) == 1
        again = sorted(queue.get(timeout=1).payload["n"] for _ in range(2))
        assert again == sorted(m.payload["n"] for i, m in enumerate(taken) if i != 1)
        queue.close()


def test_a_zombie_is_not_a_running_process():
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while process_is_running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_is_running(child.pid)  # exited, not yet reaped
    child.wait()
    assert process_is_running(os.getpid())


def test_connecting_logs_no_hostname_warning(tmp_path, caplog):
    # kombu warns "No hostname was supplied" for a transport whose defaults name a host; folders have none.
    connection, _ = _connection(tmp_path)
    with caplog.at_level(logging.WARNING, logger="kombu.connection"), connection:
        connection.connect()
        assert connection.info()["transport"] == "liqsite.broker:Transport"
    assert not [record for record in caplog.records if "hostname" in record.getMessage()]

"""The embedded broker: kombu's filesystem transport, with unacknowledged messages kept on disk.

kombu's filesystem transport deletes a message file the moment a worker takes
it; the unacknowledged message then lives only in that worker's memory, so a
worker killed with SIGKILL (or by the OOM killer, or a power cut) loses it,
and ``acks_late`` / ``reject_on_worker_lost`` cannot help. The Redis transport
does not lose it: it keeps every unacknowledged message in a hash and puts it
back on its queue once the ``visibility_timeout`` has passed.

This module gives the filesystem transport the same guarantee, through the
hooks kombu's virtual transport offers for it (``QoS.ack`` / ``reject``,
``Channel._get`` / ``_restore``), without changing the queue format:

- taking a message renames its file from the queue folder into a *claims*
  folder (an atomic rename, so two workers never take the same file), under a
  name that records when, on which host and by which process it was taken;
- acknowledging or rejecting it deletes the claim (a reject with requeue has
  kombu write the message back first);
- every consuming worker puts back, at start and then every little while, the
  claims whose process is gone (same host, pid no longer running) and the
  claims older than the visibility timeout (a worker that hangs), like Redis.

Every liqsite task is idempotent, so a message delivered twice (a worker that
was killed after finishing but before acknowledging) does no harm; a message
delivered never is what this prevents.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from functools import cached_property

from kombu.transport import filesystem, virtual
from kombu.transport.filesystem import LOCK_SH, lock, unlock
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

log = logging.getLogger(__name__)

HOST = socket.gethostname()
SEPARATOR = "~"  # never in a host name, and kombu's file names are digits, a uuid and the queue name
RESTORE_EVERY_SECONDS = 30
DEFAULT_VISIBILITY_TIMEOUT = 3600  # Redis transport's default


def process_is_running(pid: int) -> bool:
    """Whether ``pid`` names a live process on this host (a zombie, killed but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: trust kill(0)


class QoS(virtual.QoS):
    def ack(self, delivery_tag):
        self.channel.claim_release(delivery_tag)
        super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        super().reject(delivery_tag, requeue=requeue)
        self.channel.claim_release(delivery_tag)


class Channel(filesystem.Channel):
    QoS = QoS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._claims: dict[str, str] = {}  # delivery tag -> claim file held by this process
        self._noack_queues: set[str] = set()
        self._restored_at = float("-inf")
        os.makedirs(self.claims_folder, exist_ok=True)

    @cached_property
    def claims_folder(self) -> str:
        return self.transport_options.get("claims_folder") or os.path.join(self.data_folder_in, "..", "claims")

    @cached_property
    def visibility_timeout(self) -> float:
        return float(self.transport_options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        # Broadcast queues (remote control, gossip) are consumed without acknowledgement: nothing to keep.
        if no_ack:
            self._noack_queues.add(queue)
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self.claim_release(message.delivery_tag)
        return message

    def _get(self, queue):
        if queue in self._noack_queues:
            return super()._get(queue)
        if time.monotonic() - self._restored_at > min(RESTORE_EVERY_SECONDS, self.visibility_timeout / 4):
            self.claims_restore()
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claim = os.path.join(self.claims_folder, SEPARATOR.join((str(int(time.time())), HOST, str(os.getpid()), name)))
            try:
                os.rename(os.path.join(self.data_folder_in, name), claim)
            except FileNotFoundError:
                continue  # another worker took it first
            payload = self._read(claim)
            if payload is None:
                # Taken while its writer was still creating it: put it back for the next poll.
                os.rename(claim, os.path.join(self.data_folder_in, name))
                continue
            self._claims[payload["properties"]["delivery_tag"]] = claim
            return payload
        raise filesystem.Empty()

    @staticmethod
    def _read(path: str) -> dict | None:
        with open(path, "rb") as file:
            # The writer holds an exclusive lock while it writes (kombu's _put): wait for it.
            lock(file, LOCK_SH)
            try:
                data = file.read()
            finally:
                unlock(file)
        return loads(bytes_to_str(data)) if data else None

    def _restore(self, message):
        """Put a message back on its queue (reject with requeue, warm shutdown), then drop its claim."""
        super()._restore(message)
        self.claim_release(message.delivery_tag)

    def claim_release(self, delivery_tag: str) -> None:
        claim = self._claims.pop(delivery_tag, None)
        if claim is not None:
            try:
                os.unlink(claim)
            except FileNotFoundError:
                pass

    def claims_restore(self) -> int:
        """Put back on their queues the claims of dead processes and those older than the visibility timeout."""
        self._restored_at = time.monotonic()
        held = set(self._claims.values())
        restored = 0
        for name in os.listdir(self.claims_folder):
            path = os.path.join(self.claims_folder, name)
            try:
                claimed_at, host, pid, original = name.split(SEPARATOR, 3)
                age = time.time() - int(claimed_at)
                dead = host == HOST and not process_is_running(int(pid))
            except ValueError:
                continue  # not a claim file
            if path in held or not (dead or age > self.visibility_timeout):
                continue
            try:
                os.rename(path, os.path.join(self.data_folder_in, original))
            except FileNotFoundError:
                continue  # another worker restored it first
            restored += 1
            why = f"its worker (pid {pid}) is gone" if dead else f"unacknowledged for {age:.0f} s"
            log.warning("broker: %s is back on its queue: %s", original, why)
        return restored


class Transport(filesystem.Transport):
    """kombu's filesystem transport whose unacknowledged messages survive their worker."""

    Channel = Channel

    @property
    def default_connection_params(self):
        # Folders have no host. kombu's default ("localhost") makes every connection (the worker's start,
        # each `manage.py compute`) log "No hostname was supplied", which reads like a misconfiguration.
        return {}

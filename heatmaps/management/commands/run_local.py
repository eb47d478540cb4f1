"""Run the whole product locally: a Celery worker with beat, and the web server.

The worker and beat run in one child process (``celery worker --beat``),
watched from a thread: a worker that dies is restarted (its unfinished task
comes back from the broker, see liqsite/broker.py), and one that keeps dying
stops the whole run loudly with a non-zero exit instead of leaving a site
whose tasks silently never run. Ctrl-C stops everything and leaves nothing behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# A worker that dies more than this many times within WINDOW_SECONDS is broken, not unlucky.
MAX_RESTARTS = 3
WINDOW_SECONDS = 600
POLL_SECONDS = 1.0


def site_url_for(addrport: str) -> str:
    """The URL a browser on this machine reaches ``runserver ADDRPORT`` at (``8001``, ``0.0.0.0:8001``, ``[::1]:8001``)."""
    host, _, port = addrport.rpartition(":")
    if host in ("", "0.0.0.0", "0", "[::]"):
        host = "127.0.0.1"  # every interface: this machine's own address works
    return f"http://{host}:{port}"


def check_address_free(addrport: str) -> None:
    """Refuse an address the web server could not listen on, before any background process is started.

    runserver reports "port already in use" with ``os._exit(1)``, which skips every ``finally``: a worker
    started first would be left running with nobody to stop it.
    """
    host, _, port = addrport.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does: a closing socket is no obstacle
            probe.bind((host, int(port)))
    except ValueError:
        raise CommandError(f"{addrport!r} is not an address and port, e.g. 127.0.0.1:8000 or 8001") from None
    except OSError as error:
        raise CommandError(
            f"cannot serve on {addrport}: {error.strerror or error} (another liqsite or web server there?); "
            "pick another port, e.g. `manage.py run_local 127.0.0.1:8001`"
        ) from None


def _stop_on_sigterm(signum, frame):
    # Handled as Ctrl-C is: the web server returns and the background processes are stopped, not orphaned.
    raise KeyboardInterrupt


class Supervisor:
    """Keep one child process running; give up after too many deaths in a short time."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        write,
        on_give_up,
        max_restarts: int = MAX_RESTARTS,
        window: float = WINDOW_SECONDS,
        poll: float = POLL_SECONDS,
    ):
        self.name, self.command, self.write, self.on_give_up = name, command, write, on_give_up
        self.max_restarts, self.window, self.poll = max_restarts, window, poll
        self.deaths: list[float] = []
        self.process = self._start()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watch-{name}", daemon=True)
        self._thread.start()

    def _start(self) -> subprocess.Popen:
        process = subprocess.Popen(self.command)
        self.write(f"Started {self.name} (pid {process.pid})")
        return process

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll):
            code = self.process.poll()
            if code is None or self._stopping.is_set():
                continue
            now = time.monotonic()
            self.deaths = [t for t in self.deaths if now - t < self.window] + [now]
            if len(self.deaths) > self.max_restarts:
                self.write(
                    f"!!! {self.name} died {len(self.deaths)} times in {self.window:.0f} s "
                    f"(last exit code {code}); stopping: tasks would not run. See its output above."
                )
                self.on_give_up()
                return
            self.write(
                f"!!! {self.name} (pid {self.process.pid}) died with exit code {code}; restarting it "
                f"({len(self.deaths)}/{self.max_restarts} restarts allowed in {self.window:.0f} s)"
            )
            self.process = self._start()

    def stop(self, timeout: float = 20) -> None:
        self._stopping.set()
        self._thread.join(timeout=self.poll * 3)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Command(BaseCommand):
    help = "Start a Celery worker with beat in the background and serve the site (Ctrl-C stops both)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Serve the site only.")
        parser.add_argument(
            "--collector",
            action="store_true",
            help="Also run the liquidation collector (manage.py collect_liquidations) beside the worker.",
        )

    def handle(self, *args, addrport, no_worker, collector=False, **options):
        check_address_free(addrport)
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous_sigterm = signal.signal(signal.SIGTERM, _stop_on_sigterm) if in_main_thread else None
        if not os.environ.get("SITE_URL"):
            # Links in emails (alerts, confirmations, resets) must point at the address served here;
            # the environment carries it to the worker, which sends the emails.
            os.environ["SITE_URL"] = settings.SITE_URL = site_url_for(addrport)
        children: list[Supervisor] = []
        gave_up = threading.Event()

        def give_up():
            # Interrupt the web server in the main thread; the finally below stops the rest.
            gave_up.set()
            os.kill(os.getpid(), signal.SIGINT)

        def write(line: str) -> None:
            (self.stderr if line.startswith("!!!") else self.stdout).write(line)

        try:
            if collector:
                children.append(
                    Supervisor(
                        "the liquidation collector",
                        [sys.executable, str(settings.BASE_DIR / "manage.py"), "collect_liquidations"],
                        write=write,
                        on_give_up=give_up,
                    )
                )
            if not no_worker:
                command = [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "liqsite",
                    "worker",
                    "--beat",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                ]
                children.append(
                    Supervisor(
                        f"Celery worker and beat (broker {settings.CELERY_BROKER_URL.split('@')[-1]})",
                        command,
                        write=write,
                        on_give_up=give_up,
                    )
                )
            self.stdout.write(f"Serving liqsite on http://{addrport}/ (Ctrl-C to stop)")
            call_command("runserver", addrport, use_reloader=False)
        except (KeyboardInterrupt, SystemExit):  # runserver turns Ctrl-C into sys.exit(0)
            if not gave_up.is_set():
                raise
        finally:
            for child in children:
                child.stop()
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous_sigterm)
        if gave_up.is_set():
            self.stderr.write("liqsite stopped: a background process kept dying.")
            sys.exit(1)

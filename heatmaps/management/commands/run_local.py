"""Run the whole product locally: a Celery worker with beat, and the web server.

The worker and beat run in one child process (``celery worker --beat``); it is
stopped when the web server stops, so Ctrl-C leaves nothing behind.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start a Celery worker with beat in the background and serve the site (Ctrl-C stops both)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Serve the site only.")
        parser.add_argument("--collector", action="store_true",
                            help="Also run the liquidation collector (manage.py collect_liquidations) beside the worker.")

    def handle(self, *args, addrport, no_worker, collector=False, **options):
        worker = None
        collector_process = None
        if collector:
            collector_process = subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "collect_liquidations"])
            self.stdout.write(f"Started the liquidation collector (pid {collector_process.pid})")
        if not no_worker:
            command = [
                sys.executable, "-m", "celery", "-A", "liqsite", "worker", "--beat",
                "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
                "--concurrency", "2", "--loglevel", "INFO",
            ]
            worker = subprocess.Popen(command)
            self.stdout.write(f"Started Celery worker and beat (pid {worker.pid}), broker {settings.CELERY_BROKER_URL.split('@')[-1]}")
        try:
            self.stdout.write(f"Serving liqsite on http://{addrport}/ (Ctrl-C to stop)")
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for child in (worker, collector_process):
                if child is not None and child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                    try:
                        child.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        child.kill()

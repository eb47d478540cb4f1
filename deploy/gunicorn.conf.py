"""gunicorn settings for liqsite: ``gunicorn --config deploy/gunicorn.conf.py liqsite.wsgi``.

Put a TLS-terminating proxy (nginx, Caddy) in front that sets
``X-Forwarded-Proto``; pages come compressed from the app itself and static
files from WhiteNoise, so the proxy needs no compression or static set-up.
"""

import os

# LIQSITE_BIND: where gunicorn listens (the proxy's upstream).
bind = os.environ.get("LIQSITE_BIND", "127.0.0.1:8000")
# LIQSITE_WEB_WORKERS: processes; the default suits a small machine (pages are CPU-bound numpy + JSON).
workers = int(os.environ.get("LIQSITE_WEB_WORKERS", "3"))
# Threads: a page waits on the database and the cache part of the time, and a
# cached share page costs ~1.6 ms of CPU; on 2 cores 2 workers x 8 threads served
# about twice the requests of sync workers (bench/share_bench.py, bench/RESULTS.md).
worker_class = "gthread"
threads = int(os.environ.get("LIQSITE_WEB_THREADS", "8"))
# A page never needs this long; a worker stuck longer is killed and replaced.
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* from the local proxy only.
forwarded_allow_ips = os.environ.get("LIQSITE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
# gunicorn >= 25 opens a control socket by default at one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn), so
# two gunicorns of one user take the same socket from each other, and a service user without a writable home
# logs "Control server error". liqsite does not use it (systemd restarts and signals do the job).
control_socket_disable = True

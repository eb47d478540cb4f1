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
# LIQSITE_WEB_THREADS: 1 (the default) runs sync workers, more runs gthread workers with that
# many threads each. Pages are CPU-bound (numpy, JSON, templates) and hold the GIL, so
# threads add no throughput; on 2 cores, a public share page at 32 concurrent clients:
# sync:2 844 req/s, p99 54 ms; gthread 2 x 8 526 req/s, p99 162 ms (bench/share_bench.py,
# bench/RESULTS.md). Sync workers need a proxy that buffers slow clients, which the TLS
# proxy in front (nginx, Caddy) does.
threads = int(os.environ.get("LIQSITE_WEB_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
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

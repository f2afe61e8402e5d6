"""gunicorn settings for the OpsDesk web process (values from the environment).

Connection budget. Every gunicorn thread keeps one persistent PostgreSQL connection
(DATABASE_CONN_MAX_AGE, default 600 s, health-checked before reuse), so one web process holds up
to GUNICORN_WORKERS x GUNICORN_THREADS connections; add CELERY_CONCURRENCY per worker process,
one per beat and two per poller (its work and its mailbox lock). Keep the sum over all machines
below PostgreSQL's max_connections (default 100) with room for maintenance. With many web pods,
put PgBouncer in transaction mode in front of PostgreSQL for web and workers (set
DATABASE_PGBOUNCER=true and DATABASE_CONN_MAX_AGE=0 for them), but connect the pollers
directly: their mailbox lock is a session-level advisory lock, which transaction pooling breaks.

Graceful shutdown. On SIGTERM the arbiter stops accepting, lets requests in flight finish for up
to GUNICORN_GRACEFUL_TIMEOUT seconds and then exits; Kubernetes' terminationGracePeriodSeconds
(and compose's stop_grace_period) must be longer than that, and the pod's preStop pause lets the
load balancer stop sending before the SIGTERM arrives.
"""

import gc
import glob
import ipaddress
import os
import shutil
import sys
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Not cpu_count() * 2 + 1: in a container that counts the host's CPUs, and every worker thread
# holds a database connection. Size it to the CPUs the process may really use, capped.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
workers = int(os.environ.get("GUNICORN_WORKERS", min(_cpus * 2 + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Give in-flight requests time to finish on SIGTERM (rolling deploys, Kubernetes).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Behind nginx, its upstream keepalive_timeout (deploy/nginx/opsdesk.conf: 4 s) must stay below this.
keepalive = 5
# Recycle workers now and then (memory); jitter so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Load the application before forking: a broken settings module fails the start, not each worker.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in {"1", "true", "yes"}
accesslog = "-"
errorlog = "-"
# The proxies whose X-Forwarded-Proto makes a request HTTPS (wsgi.url_scheme): OPSDESK_TRUSTED_PROXIES,
# the same list Django's TrustedProxyMiddleware enforces (opsdesk/settings.py, "Transport security").
# GUNICORN_FORWARDED_ALLOW_IPS is its old name, read when the new one is unset.
_proxies = [p.strip() for p in (os.environ.get("OPSDESK_TRUSTED_PROXIES") or os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS")
                                 or "127.0.0.1,::1").split(",") if p.strip()]
for _proxy in set(_proxies) - {"*"}:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        sys.exit(f"opsdesk: configuration error: OPSDESK_TRUSTED_PROXIES: {_proxy!r} is not an address or network "
                 "(e.g. 10.0.0.0/8,127.0.0.1)")
forwarded_allow_ips = ",".join(_proxies)

# --- the desk's own HTTP metrics (opsdesk/http_metrics.py) ------------------------------------
# The workers share their request counters through prometheus_client's multiprocess directory.
# PROMETHEUS_MULTIPROC_DIR may name it (an emptyDir in Kubernetes); unset, each gunicorn takes a
# private one under the temporary directory. It must be in the environment before the application
# (and so prometheus_client) is loaded, which happens after this file is read.
_PRIVATE_MULTIPROC_DIR = os.path.join(tempfile.gettempdir(), f"opsdesk-prometheus-{os.getpid()}")


def _remove_dead_gunicorns_dirs() -> None:
    # A gunicorn killed with SIGKILL, or stopped by a bad setting before it served, leaves its private
    # directory behind: the next start removes those whose process is gone.
    for path in glob.glob(os.path.join(tempfile.gettempdir(), "opsdesk-prometheus-*")):
        pid = path.rsplit("-", 1)[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, someone else's
            pass


if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _remove_dead_gunicorns_dirs()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _PRIVATE_MULTIPROC_DIR
try:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
except OSError as exc:
    sys.exit(f"opsdesk: configuration error: PROMETHEUS_MULTIPROC_DIR: cannot create "
             f"{os.environ['PROMETHEUS_MULTIPROC_DIR']!r} ({exc.strerror})")

# --- logs -----------------------------------------------------------------------------------
# OPSDESK_LOG_FORMAT=json: gunicorn's own lines (start, worker exits, access log) are JSON on stdout
# too, like the desk's (opsdesk/logformat.py); plain keeps gunicorn's usual lines.
if os.environ.get("OPSDESK_LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "opsdesk.logformat.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
                    "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False}},
    }


def on_starting(server):
    # Counters left by a previous run (a container restarted into the same emptyDir) would add to
    # this run's: start from an empty directory.
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    # In the arbiter, after a worker exited: its counters stay (they still count); its live gauges go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ["PROMETHEUS_MULTIPROC_DIR"] == _PRIVATE_MULTIPROC_DIR:
        shutil.rmtree(_PRIVATE_MULTIPROC_DIR, ignore_errors=True)


def pre_fork(server, worker):
    # What the preloaded application built (Django, the URL conf, translations) lives as long as the
    # process: take it out of the collector's generations, so the workers' full collections do not
    # walk it again and again, nor write to the pages they share with the arbiter.
    gc.freeze()


def post_fork(server, worker):
    # A connection opened while preloading must not be shared by the forked workers.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()


def worker_exit(server, worker):
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()

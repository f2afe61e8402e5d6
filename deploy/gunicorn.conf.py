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

import os

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
keepalive = 5
# Recycle workers now and then (memory); jitter so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Load the application before forking: a broken settings module fails the start, not each worker.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in {"1", "true", "yes"}
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # A connection opened while preloading must not be shared by the forked workers.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()


def worker_exit(server, worker):
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()

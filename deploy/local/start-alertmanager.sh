#!/usr/bin/env bash
# start-alertmanager.sh - a throw-away Prometheus Alertmanager that sends to the desk through its
# webhook receiver (bearer token) and, given an SMTP server, its e-mail receiver too.
#
# Usage:
#   start-alertmanager.sh DIR PORT WEBHOOK_URL TOKEN [SMTP_HOST:PORT]
#     DIR          config (am.yml), storage (data/), log (am.log) and pid (am.pid); created if missing
#     PORT         API/UI port on 127.0.0.1 (clustering is off: no :9094 listener)
#     WEBHOOK_URL  e.g. http://127.0.0.1:8000/alerts/webhooks/am/   (send_resolved: true)
#     TOKEN        sent as "Authorization: Bearer TOKEN"
#     SMTP         optional host:port of a plain SMTP server (no TLS, no auth); the mail goes to
#                  MAIL_TO (default alerts@dc.bank.example) from alertmanager@dc.bank.example,
#                  with the default e-mail template, send_resolved: true
#   start-alertmanager.sh DIR stop      stop the instance of DIR (waits until it has exited)
#   Environment (routing of the single "desk" route):
#     GROUP_BY="alertname, instance"   labels a notification groups by ("..." = every label set alone)
#     GROUP_WAIT=1s GROUP_INTERVAL=2s REPEAT_INTERVAL=1h   short, so tests see deliveries in seconds
#
# Needs Debian's prometheus-alertmanager (install-alertmanager.sh): the daemon is
# /usr/bin/prometheus-alertmanager, amtool comes with it.
# Fire:    amtool --alertmanager.url=http://127.0.0.1:PORT alert add alertname=X instance=h:9100 severity=critical
#          (or POST a JSON list of {labels, annotations, startsAt, endsAt} to /api/v2/alerts)
# Resolve: POST /api/v2/alerts with the same labels and "endsAt" in the past (amtool cannot resolve).
#
# Repeatable in one session: an instance already running for DIR is stopped and started again with
# the new config (its notification log in DIR/data is kept). Several instances (one DIR and PORT
# each) can run side by side. Returns only when this instance answers /-/ready, and never keeps
# the caller's stdout open (so $(...) and "| tee" don't hang).
set -euo pipefail

dir=${1:?usage: start-alertmanager.sh DIR PORT WEBHOOK_URL TOKEN [SMTP_HOST:PORT] | DIR stop}
mkdir -p "$dir/data"; dir=$(cd "$dir" && pwd)
pidfile="$dir/am.pid"

alive() {     # the pid in DIR/am.pid is a live (non-zombie) process
    local p; p=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$p" ] && [ -r "/proc/$p/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status"
}
running() {   # ...and it is prometheus-alertmanager (not a recycled pid)
    alive && [ "$(readlink "/proc/$(cat "$pidfile")/exe" 2>/dev/null)" = /usr/bin/prometheus-alertmanager ]
}
stop() {
    if running; then
        local p; p=$(cat "$pidfile")
        kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 1 50); do running || break; sleep 0.1; done
        running && kill -KILL "$p" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

if [ "${2:-}" = stop ]; then
    stop
    exit 0
fi

port=${2:?port}; hook=${3:?webhook url}; token=${4:?token}; smtp=${5:-}
case "$port" in *[!0-9]*|"") echo "PORT must be a number" >&2; exit 2 ;; esac
command -v prometheus-alertmanager >/dev/null 2>&1 \
    || { echo "prometheus-alertmanager is not installed: run install-alertmanager.sh" >&2; exit 1; }
group_by=${GROUP_BY:-alertname, instance}
q() { printf "'%s'" "${1//\'/\'\'}"; }   # YAML single-quoted scalar

stop   # a previous instance for this DIR (a repeated call restarts with the new config)

{
  if [ -n "$smtp" ]; then
    echo "global: {smtp_smarthost: $(q "$smtp"), smtp_from: alertmanager@dc.bank.example, smtp_hello: localhost, smtp_require_tls: false}"
  fi
  if [ "$group_by" = "..." ]; then gb="['...']"; else gb="[$group_by]"; fi
  echo "route: {receiver: desk, group_by: $gb, group_wait: ${GROUP_WAIT:-1s}, group_interval: ${GROUP_INTERVAL:-2s}, repeat_interval: ${REPEAT_INTERVAL:-1h}}"
  echo "receivers:"
  echo "- name: desk"
  echo "  webhook_configs: [{url: $(q "$hook"), send_resolved: true, http_config: {authorization: {credentials: $(q "$token")}}}]"
  if [ -n "$smtp" ]; then
    echo "  email_configs: [{to: $(q "${MAIL_TO:-alerts@dc.bank.example}"), send_resolved: true}]"
  fi
} >"$dir/am.yml"
amtool check-config "$dir/am.yml" >"$dir/check-config.log" 2>&1 || { cat "$dir/check-config.log" >&2; exit 1; }

# Own session, stdio away from the caller. The process writes its own pid before it becomes
# Alertmanager (setsid forks when the caller is a process-group leader, so $! may not be it).
setsid bash -c 'echo $$ >"$0"; exec prometheus-alertmanager "$@"' "$pidfile" \
    --config.file="$dir/am.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --web.external-url="http://127.0.0.1:$port" \
    --cluster.listen-address= </dev/null >"$dir/am.log" 2>&1 &
for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done

# Ready = this process logged that it listens on PORT (it logs that only once bound; when the port
# is taken it exits with "address already in use") and /-/ready answers.
for _ in $(seq 1 100); do
    if ! alive; then
        echo "alertmanager exited at start; last log lines:" >&2; tail -n 5 "$dir/am.log" >&2; exit 1
    fi
    if grep -qF "msg=\"Listening on\" address=127.0.0.1:$port" "$dir/am.log" \
            && curl -sf --max-time 2 "http://127.0.0.1:$port/-/ready" >/dev/null; then
        echo "alertmanager on http://127.0.0.1:$port (pid $(cat "$pidfile")) -> $hook${smtp:+ and smtp://$smtp}"
        exit 0
    fi
    sleep 0.1
done
echo "alertmanager did not become ready on port $port; last log lines:" >&2
tail -n 5 "$dir/am.log" >&2
stop
exit 1

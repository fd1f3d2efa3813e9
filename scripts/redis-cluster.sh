#!/usr/bin/env bash
# A throwaway local Redis Cluster for the integration tests: 6 nodes (3 masters + 3 replicas) on
# 127.0.0.1:<base>..<base+5>, each in .redis-cluster/<port>/ of the repo, stopped by PID file.
#
#   bash scripts/redis-cluster.sh start  [base-port]   # idempotent; prints the ports on stdout
#   bash scripts/redis-cluster.sh status [base-port]   # exit 0 only when the cluster is healthy
#   bash scripts/redis-cluster.sh stop   [base-port]
#
# base-port defaults to $REDIS_CLUSTER_BASE_PORT, else 7100 (bus ports are +10000: 17100..17105).
# Progress goes to stderr so that stdout of `start` is only the port list.
set -euo pipefail

cmd="${1:-status}"
base="${2:-${REDIS_CLUSTER_BASE_PORT:-7100}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.redis-cluster"
redis_server="${REDIS_SERVER:-redis-server}"
redis_cli="${REDIS_CLI:-redis-cli}"
ports=()
for i in 0 1 2 3 4 5; do ports+=("$((base + i))"); done

log() { printf 'redis-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# redis-cli answers with CRLF; strip it so that string comparisons work.
cli() { local port="$1"; shift; timeout 5 "$redis_cli" -h 127.0.0.1 -p "$port" "$@" 2>/dev/null | tr -d '\r'; }
info_field() { cli "$1" "${@:3}" | sed -n "s/^$2://p" | head -n1; }
answers() { [[ "$(cli "$1" ping || true)" == PONG ]]; }

# A PID is ours only if it is a live redis-server for that port: PIDs get reused.
our_pid() {
  local port="$1" pidfile="$state/$1/redis.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$port" || return 1
  echo "$pid"
}

# Healthy = every node answers, says cluster_state:ok, sees 6 nodes, all 16384 slots are served,
# and the topology is 3 masters + 3 connected replicas whose initial sync is done.
healthy() {
  local port masters=0 replicas=0 role
  for port in "${ports[@]}"; do
    our_pid "$port" >/dev/null || return 1
    [[ "$(info_field "$port" cluster_state cluster info || true)" == ok ]] || return 1
    [[ "$(info_field "$port" cluster_known_nodes cluster info || true)" == 6 ]] || return 1
    [[ "$(info_field "$port" cluster_slots_ok cluster info || true)" == 16384 ]] || return 1
    role="$(info_field "$port" role info replication || true)"
    if [[ "$role" == master ]]; then
      masters=$((masters + 1))
    elif [[ "$role" == slave ]]; then
      [[ "$(info_field "$port" master_link_status info replication || true)" == up ]] || return 1
      [[ "$(info_field "$port" master_sync_in_progress info replication || true)" == 0 ]] || return 1
      replicas=$((replicas + 1))
    else
      return 1
    fi
  done
  [[ $masters -eq 3 && $replicas -eq 3 ]]
}

# A zombie counts as gone: a daemon's parent here may be a PID 1 that reaps it only seconds later.
alive() {
  if [[ -r "/proc/$1/status" ]]; then ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
  else kill -0 "$1" 2>/dev/null; fi
}

stop_node() {
  local port="$1" dir="$state/$1" pid i
  if pid="$(our_pid "$port")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  elif answers "$port" && [[ "$(cli "$port" config get dir | sed -n 2p)" == "$dir" ]]; then
    # Ours but its PID file is gone (half-started or hand-deleted): its own dir proves it.
    cli "$port" shutdown nosave >/dev/null || true
  fi
  rm -rf "$dir"
}

stop_all() {
  local port
  for port in "${ports[@]}"; do stop_node "$port"; done
  rm -f "$state/create-$base.log"
}

start_node() {
  local port="$1" dir="$state/$1"
  answers "$port" && die "port $port is taken by a Redis that is not ours; pass another base port"
  mkdir -p "$dir"
  # Small node timeout and validity factor 0: failover tests take seconds, and a replica may
  # always take over. Diskless sync with no delay: no RDB files, replicas in sync at once.
  # SIGTERM shuts down at once: a master would otherwise wait up to 10 s for its replicas.
  "$redis_server" --port "$port" --bind 127.0.0.1 --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 2000 --cluster-replica-validity-factor 0 \
    --save '' --appendonly no --repl-diskless-sync yes --repl-diskless-sync-delay 0 \
    --shutdown-on-sigterm 'nosave now' --enable-debug-command local >/dev/null 9>&- # the daemon must not inherit (and hold) our lock
}

wait_for() {
  local what="$1" seconds="$2" i
  shift 2
  for ((i = 0; i < seconds * 10; i++)); do "$@" && return 0; sleep 0.1; done
  die "timed out after ${seconds}s waiting for $what (logs: $state/<port>/redis.log)"
}

all_answer() {
  local port
  for port in "${ports[@]}"; do answers "$port" || return 1; done
}

start() {
  if healthy; then
    log "already running and healthy on ${ports[*]}"
    echo "${ports[*]}"
    return 0
  fi
  stop_all # a stale or half-started cluster is cleaned first
  command -v "$redis_server" >/dev/null || die "redis-server not found on PATH"
  command -v "$redis_cli" >/dev/null || die "redis-cli not found on PATH"
  local port nodes=()
  for port in "${ports[@]}"; do
    start_node "$port"
    nodes+=("127.0.0.1:$port")
  done
  wait_for "nodes to answer PING" 20 all_answer
  # Every node is on one host, so redis-cli warns about anti-affinity; that is expected here.
  timeout 60 "$redis_cli" --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$state/create-$base.log" 2>&1 \
    || { cat "$state/create-$base.log" >&2; die "redis-cli --cluster create failed"; }
  wait_for "cluster_state:ok and replicas in sync" 60 healthy
  log "cluster up on ${ports[*]}"
  echo "${ports[*]}"
}

status() {
  local port role
  for port in "${ports[@]}"; do
    if answers "$port"; then
      role="$(info_field "$port" role info replication || true)"
      log "$port pid=$(our_pid "$port" || echo '?') role=$role cluster_state=$(info_field "$port" cluster_state cluster info || true)"
    else
      log "$port down"
    fi
  done
  if healthy; then
    log "healthy"
    echo "${ports[*]}"
  else
    log "not healthy"
    return 1
  fi
}

[[ "$base" =~ ^[0-9]+$ && "$base" -ge 1024 && "$base" -le 55530 ]] \
  || die "base port must be a number in 1024..55530 (bus ports are +10000), got '$base'"
mkdir -p "$state"
# Serialise concurrent starts/stops (two test runs at once) on the same base port.
if command -v flock >/dev/null; then
  exec 9>"$state/.lock-$base"
  flock -w 120 9 || die "could not take $state/.lock-$base"
fi

case "$cmd" in
  start) start ;;
  stop) stop_all; log "stopped ${ports[*]}" ;;
  status) status ;;
  *) die "usage: $0 start|stop|status [base-port]" ;;
esac

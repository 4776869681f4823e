#!/usr/bin/env bash
# Before/after ops/s of two (or more) scipkv builds in one session: starts every binary
# (sync = "interval:1000", fresh temp dirs), fills each with SETs when the test is GET, then
# alternates `redis-benchmark -t TEST -n N -r 100000 -c 50 -P P` between them ROUNDS times, so
# each round of each build sees about the same machine load.
#
#   bash benches/redis/ab.sh 16 get 200000 /tmp/scipkv.before target/release/scipkv
#   ROUNDS=3 bash benches/redis/ab.sh 1 set 200000 A B
set -euo pipefail
P=$1
TEST=$2
N=$3
shift 3
pids=()
ports=()
names=()
dirs=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for bin in "$@"; do
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/scipkv-ab.XXXXXX")
    dirs+=("$tmp")
    port=$(free_port)
    http_port=$(free_port)
    printf 'data_dir = "%s/data"\nresp_addr = "127.0.0.1:%s"\nhttp_addr = "127.0.0.1:%s"\nsync = "interval:1000"\n' \
        "$tmp" "$port" "$http_port" >"$tmp/scipkv.toml"
    "$bin" serve --config "$tmp/scipkv.toml" >"$tmp/out" 2>"$tmp/err" &
    pids+=($!)
    ports+=("$port")
    names+=("$bin")
    for _ in $(seq 1 400); do
        [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && break
        sleep 0.05
    done
    if [ "$TEST" = get ]; then
        redis-benchmark -p "$port" -t set -n 200000 -r 100000 -c 50 -P 16 -q >/dev/null 2>&1
    fi
done
for round in $(seq 1 "${ROUNDS:-2}"); do
    for i in "${!ports[@]}"; do
        line=$(redis-benchmark -p "${ports[$i]}" -t "$TEST" -n "$N" -r 100000 -c 50 -P "$P" --csv \
            2>/dev/null | tail -1 | tr -d '"')
        echo "round $round ${names[$i]}: $(echo "$line" | cut -d, -f2) ops/s, p99 $(echo "$line" | cut -d, -f7) ms"
    done
done

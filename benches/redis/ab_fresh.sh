#!/usr/bin/env bash
# Before/after of scipkv builds or settings, a fresh server per run: for ROUNDS rounds, for
# every binary in turn, starts `scipkv serve` (sync = "interval:1000", plus the config lines
# in $EXTRA) on a new temp dir, fills it with 1M random SETs first when TEST is get, runs
#   redis-benchmark -t TEST -n N -r 1000000 -c 50 -P P --csv
# and stops it. Unlike ab.sh no server sits idle beside another's run, so one server's idle
# compaction never shares the cores with the other's measurement.
#
#   bash benches/redis/ab_fresh.sh 16 set 1000000 3 /tmp/scipkv.before target/release/scipkv
#   EXTRA='memtable_size = 8388608' bash benches/redis/ab_fresh.sh 1 set 500000 2 BIN
set -euo pipefail
P=$1
TEST=$2
N=$3
ROUNDS=$4
shift 4
pid=
dir=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$dir" ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for round in $(seq 1 "$ROUNDS"); do
    for bin in "$@"; do
        dir=$(mktemp -d "${TMPDIR:-/tmp}/scipkv-ab.XXXXXX")
        port=$(free_port)
        http=$(free_port)
        printf 'data_dir = "%s/data"\nresp_addr = "127.0.0.1:%s"\nhttp_addr = "127.0.0.1:%s"\nsync = "interval:1000"\n%s\n' \
            "$dir" "$port" "$http" "${EXTRA:-}" >"$dir/scipkv.toml"
        "$bin" serve --config "$dir/scipkv.toml" >/dev/null 2>&1 &
        pid=$!
        up=
        for _ in $(seq 1 200); do
            if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ]; then up=1; break; fi
            sleep 0.05
        done
        if [ -z "$up" ]; then
            echo "$bin did not answer PING on port $port" >&2
            exit 1
        fi
        if [ "$TEST" = get ]; then
            redis-benchmark -p "$port" -t set -n 1000000 -r 1000000 -c 50 -P 16 -q >/dev/null
        fi
        result=$(redis-benchmark -p "$port" -t "$TEST" -n "$N" -r 1000000 -c 50 -P "$P" --csv | tail -1)
        echo "round $round $bin $result"
        kill -TERM "$pid"
        wait "$pid" || true
        pid=
        rm -rf "$dir"
        dir=
    done
done

#!/usr/bin/env bash
# scipkv vs Redis over RESP, side by side in one run, with the unmodified redis-benchmark.
#
# Starts redis-server (appendonly yes, appendfsync everysec: an acknowledged write is at most
# ~1 s from disk) and a release `scipkv serve` with sync = "interval:1000" (the same
# durability window), each on a fresh temp dir and an ephemeral port, then runs
#   redis-benchmark -t set,get -n $N -r $R -c $C -P $P --csv
# for every P in $PIPES against both servers, alternating which goes first, $REPS times.
# Prints ops/s and p99 per run and the scipkv/redis ratios (ops/s ratio > 1: scipkv faster;
# p99 ratio < 1: scipkv lower latency), plus the machine load before and after.
#
#   bash benches/redis/compare.sh                      # N=1000000, REPS=2, PIPES="16 1"
#   N=200000 REPS=1 bash benches/redis/compare.sh      # a quick pass
#   SCIPKV_BIN=/path/to/scipkv bash benches/redis/compare.sh   # that binary, no build
#
# Installs redis-server and redis-tools (Debian packages) with apt-get when missing.
set -euo pipefail

cd "$(dirname "$0")/../.."
N=${N:-1000000}
R=${R:-1000000}
C=${C:-50}
REPS=${REPS:-2}
PIPES=${PIPES:-"16 1"}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "== installing redis-server and redis-tools" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server redis-tools >&2
fi

if [ -n "${SCIPKV_BIN:-}" ]; then
    # A given binary (e.g. a saved build of an earlier commit, for a before/after run).
    SCIPKV=$SCIPKV_BIN
else
    echo "== building scipkv (release)" >&2
    cargo build --release --bin scipkv >&2
    SCIPKV=${CARGO_TARGET_DIR:-target}/release/scipkv
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scipkv-vs-redis.XXXXXX")
pids=()
cleanup() {
    # A stopped server acts on SIGTERM only once continued.
    for p in "${pids[@]}"; do
        pkill -CONT -P "$p" 2>/dev/null || true
        kill -CONT "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until `redis-cli -p $1 PING` answers.
wait_ping() {
    for _ in $(seq 1 200); do
        if [ "$(redis-cli -p "$1" PING 2>/dev/null)" = "PONG" ]; then return 0; fi
        sleep 0.05
    done
    echo "server on port $1 did not answer PING" >&2
    exit 1
}

mkdir -p "$tmp/redis" "$tmp/scipkv"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$tmp/redis" \
    --appendonly yes --appendfsync everysec --save "" --daemonize no \
    --logfile "$tmp/redis.log" &
REDIS_PID=$!
pids+=($REDIS_PID)
wait_ping "$REDIS_PORT"

SCIPKV_PORT=$(free_port)
cat >"$tmp/scipkv.toml" <<EOF
data_dir = "$tmp/scipkv/data"
resp_addr = "127.0.0.1:$SCIPKV_PORT"
sync = "interval:1000"
EOF
"$SCIPKV" serve --config "$tmp/scipkv.toml" >"$tmp/scipkv.out" 2>"$tmp/scipkv.err" &
SCIPKV_PID=$!
pids+=($SCIPKV_PID)
wait_ping "$SCIPKV_PORT"

echo "== redis-server $(redis-server --version | awk '{print $3}'), redis-benchmark $(redis-benchmark --version | awk '{print $2}')"
echo "== unmodified clients against scipkv"
redis-cli -p "$SCIPKV_PORT" CONFIG GET save | tr '\n' ' '; echo
redis-cli -p "$SCIPKV_PORT" CONFIG GET appendonly | tr '\n' ' '; echo
redis-cli -p "$SCIPKV_PORT" COMMAND DOCS set | head -4 | tr '\n' ' '; echo
redis-cli -p "$SCIPKV_PORT" COMMAND COUNT
echo "== machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# One benchmark: prints "TEST rps p99" lines (CSV columns: test, rps, avg, min, p50, p95,
# p99, max).
bench() {
    redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -n "$N" -r "$R" -c "$C" -P "$2" --csv 2>/dev/null |
        tr -d '"' | awk -F, '$1 == "SET" || $1 == "GET" { print $1, $2, $7 }'
}

results="$tmp/results"
: >"$results"
for rep in $(seq 1 "$REPS"); do
    for p in $PIPES; do
        if [ $((rep % 2)) -eq 1 ]; then order="redis scipkv"; else order="scipkv redis"; fi
        for target in $order; do
            port=$REDIS_PORT
            other=$SCIPKV_PID
            if [ "$target" = scipkv ]; then
                port=$SCIPKV_PORT
                other=$REDIS_PID
            fi
            echo "-- rep $rep, -P $p, $target: redis-benchmark -t set,get -n $N -r $R -c $C -P $p --csv" >&2
            # The server not measured is stopped (SIGSTOP) meanwhile: scipkv compacts in the
            # background after a write phase (also idle compaction, once quiet for 10 s),
            # which would otherwise share the cores with Redis's run; its work waits for
            # scipkv's own next run instead.
            # Children too: Redis rewrites its AOF in a forked child.
            kill -STOP "$other" || { echo "server $other is gone" >&2; exit 1; }
            pkill -STOP -P "$other" || true
            bench "$port" "$p" | while read -r test rps p99; do
                echo "$rep $p $target $test $rps $p99" >>"$results"
                echo "   $test ${rps} ops/s, p99 ${p99} ms" >&2
            done
            pkill -CONT -P "$other" || true
            kill -CONT "$other"
        done
    done
done
echo "== machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| rep | -P | test | redis ops/s | scipkv ops/s | ratio ops/s | redis p99 ms | scipkv p99 ms | ratio p99 |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$results" <<'EOF'
import sys
from collections import defaultdict
rows = defaultdict(dict)
for line in open(sys.argv[1]):
    rep, p, target, test, rps, p99 = line.split()
    rows[(int(rep), int(p), test)][target] = (float(rps), float(p99))
summary = defaultdict(list)
for (rep, p, test), t in sorted(rows.items(), key=lambda kv: (-kv[0][1], kv[0][2], kv[0][0])):
    if "redis" not in t or "scipkv" not in t:
        continue
    (rr, rl), (sr, sl) = t["redis"], t["scipkv"]
    summary[(p, test)].append((sr / rr, sl / rl if rl else float("inf")))
    print(f"| {rep} | {p} | {test} | {rr:,.0f} | {sr:,.0f} | {sr/rr:.2f}x | {rl:.3f} | {sl:.3f} | {sl/rl if rl else float('inf'):.2f}x |")
print()
print("| -P | test | mean ratio ops/s (scipkv/redis) | mean ratio p99 |")
print("|---|---|---|---|")
for (p, test), v in sorted(summary.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
    print(f"| {p} | {test} | {sum(a for a, _ in v)/len(v):.2f}x | {sum(b for _, b in v)/len(v):.2f}x |")
EOF

#!/usr/bin/env bash
# Instruction counts of `scipkv serve` under a fixed redis-benchmark load: the server runs
# under `valgrind --tool=callgrind` (sync = "interval:1000", fresh temp dir), takes
#   redis-benchmark -t set -n $NS -r 100000 -c 50 -P $P   then
#   redis-benchmark -t get -n $NG -r 100000 -c 50 -P $P
# and is stopped with SIGTERM (a clean shutdown, so callgrind writes its profile).
# Counts do not depend on machine load, unlike ops/s: use them for before/after.
#
#   bash benches/redis/callgrind.sh BINARY OUT.cg             # P=16 NS=50000 NG=100000
#   P=1 NS=20000 NG=20000 bash benches/redis/callgrind.sh BINARY OUT.cg
#   callgrind_annotate --inclusive=yes OUT.cg | grep -E 'PROGRAM TOTALS|connection::run'
set -euo pipefail
BIN=$1
OUT=$2
P=${P:-16}
NS=${NS:-50000}
NG=${NG:-100000}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scipkv-callgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
HTTP_PORT=$(free_port)
cat >"$tmp/scipkv.toml" <<EOT
data_dir = "$tmp/data"
resp_addr = "127.0.0.1:$PORT"
http_addr = "127.0.0.1:$HTTP_PORT"
sync = "interval:1000"
EOT
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$BIN" serve --config "$tmp/scipkv.toml" \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 600); do
    [ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
[ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] || { echo "server did not start" >&2; exit 1; }
redis-benchmark -p "$PORT" -t set -n "$NS" -r 100000 -c 50 -P "$P" -q | tr '\r' '\n' | grep "per second" | tail -1
redis-benchmark -p "$PORT" -t get -n "$NG" -r 100000 -c 50 -P "$P" -q | tr '\r' '\n' | grep "per second" | tail -1
kill -TERM "$pid"
wait "$pid" || true
callgrind_annotate "$OUT" 2>/dev/null | grep 'PROGRAM TOTALS'

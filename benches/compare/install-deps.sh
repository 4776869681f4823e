#!/usr/bin/env bash
# Installs what the peer-comparison crate needs beyond Rust and gcc (Debian):
# - clang / libclang-dev: librocksdb-sys runs bindgen on RocksDB's C header;
# - librocksdb-dev: a prebuilt RocksDB (7.8.3 on Debian 12) to link with
#   ROCKSDB_LIB_DIR=/usr/lib/x86_64-linux-gnu, instead of compiling the crate's bundled C++
#   (hours on a shared 2-core machine; see benches/README.md).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  clang libclang-dev g++ make librocksdb-dev

#!/bin/bash
# One command on a fresh Debian bookworm machine: install the dependencies,
# build and install kata-runtime and the guest image, then run a demo
# container inside a VM.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
bash tools/install-deps.sh
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --prefix=/usr/local --sysconfdir=/etc
make -j"$(nproc)"
make guest-image
make install
bash tools/demo.sh

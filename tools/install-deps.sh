#!/bin/bash
# Install every Debian package the build, the guest image and the tests need.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
PKGS_BUILD="build-essential autoconf automake libtool pkg-config git
 libyajl-dev libseccomp-dev libcap-dev libmount-dev libnl-3-dev libnl-route-3-dev
 libcmocka-dev clang libclang-rt-14-dev clang-format-14"
PKGS_GUEST="linux-source-6.1 flex bison libelf-dev bc cpio xz-utils busybox-static kmod"
PKGS_RUN="qemu-system-x86 qemu-utils iproute2 util-linux e2fsprogs procps psmisc"
PKGS_TEST="bats bats-assert bats-support jq go-md2man"
PKGS_CLIENTS="${KATA_CLIENT_PKGS-podman conmon containerd docker.io crun runc}"
missing=()
for p in $PKGS_BUILD $PKGS_GUEST $PKGS_RUN $PKGS_TEST $PKGS_CLIENTS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all packages present"

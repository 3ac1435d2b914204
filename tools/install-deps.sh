#!/bin/bash
# Install every Debian package the build, the guest image and the tests need.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail
PKGS_BUILD="build-essential autoconf automake libtool pkg-config git
 libyajl-dev libseccomp-dev libcap-dev libmount-dev libnl-3-dev libnl-route-3-dev
 libcmocka-dev clang libclang-rt-14-dev clang-format-14"
PKGS_GUEST="linux-source-6.1 patch flex bison libelf-dev bc cpio xz-utils busybox-static kmod
 mmdebstrap fdisk"
PKGS_RUN="qemu-system-x86 qemu-utils iproute2 util-linux e2fsprogs procps psmisc"
PKGS_TEST="bats bats-assert bats-support jq go-md2man"
PKGS_CLIENTS="${KATA_CLIENT_PKGS-podman conmon containerd docker.io crun runc}"
# the CRI harness (tests/bats/cri): CNI plugins, the pods' HTTP checks, gcc -static for its pause
PKGS_CRI="${KATA_CRI_PKGS-containernetworking-plugins curl iptables jq libc6-dev}"
missing=()
for p in $PKGS_BUILD $PKGS_GUEST $PKGS_RUN $PKGS_TEST $PKGS_CLIENTS $PKGS_CRI; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all packages present"

# crictl, crio and pinns are not packaged in Debian 12: install the builds in
# $KATA_SHARED_TOOLS (cri-tools v1.26.1, cri-o v1.25.4) when they are there and
# the tools are not installed yet.  Without them the CRI tests skip (crictl)
# or skip their cri-o rows (crio, pinns), saying why.
tools=${KATA_SHARED_TOOLS:-/work/shared/tools}
for t in crictl crio pinns; do
  if ! command -v "$t" >/dev/null 2>&1 && [ -x "$tools/$t" ]; then
    install -m 0755 "$tools/$t" "/usr/local/bin/$t" && echo "install-deps: installed $t from $tools"
  fi
done

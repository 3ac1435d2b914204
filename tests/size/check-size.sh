#!/bin/bash
# The size goals of issue 17 (docs/benchmarks.md): the stripped static kata-agent and the
# stripped kata-runtime are at most 1 MiB each.  Run by `make check` in the build tree.
# Exit 77 (skipped) for a binary that is not stripped (configure --disable-strip or
# --enable-sanitizers) or an agent that is not static: the goal is about the shipped build.
set -u
limit=$((1024 * 1024))
rc=0 checked=0
for bin in kata-agent kata-runtime; do
	f=./$bin
	if [ ! -x "$f" ]; then
		echo "FAIL: $bin: not built in $(pwd)"
		rc=1
		continue
	fi
	desc=$(file -b "$f")
	case "$desc" in *"not stripped"*)
		echo "skip: $bin is not stripped ($desc)"
		continue ;;
	esac
	if [ "$bin" = kata-agent ] && [[ "$desc" != *"statically linked"* ]]; then
		echo "skip: $bin is not static ($desc)"
		continue
	fi
	size=$(stat -c %s "$f")
	checked=$((checked + 1))
	if [ "$size" -gt "$limit" ]; then
		echo "FAIL: $bin is $size bytes, more than $limit (1 MiB): see the size notes in cmd/kata-agent/local.am"
		rc=1
	else
		echo "ok: $bin is $size bytes (limit $limit)"
	fi
done
[ $rc = 0 ] && [ $checked = 0 ] && exit 77
exit $rc

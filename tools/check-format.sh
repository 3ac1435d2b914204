#!/bin/bash
# Checks that C files are formatted as .clang-format says (GNU style, 110 columns),
# with Debian's clang-format 14.  tools/run-tests.sh (hence .ci/run) runs it with no
# argument; `make clang-format` reformats the whole tree.
#
#   tools/check-format.sh            the .c/.h files the newest commit (HEAD) added or
#                                    changed, against its first parent
#   tools/check-format.sh REV        the .c/.h files changed between REV and HEAD
#                                    (e.g. `main` for every commit of a branch)
#   tools/check-format.sh -- FILE... these files
#
# The files are checked whole, as they are in the working tree: a commit that touches
# a file makes all of it conform (`clang-format -i FILE`).  When HEAD has no parent
# (the first commit, or a clone with --depth 1) or the tree is not a git checkout,
# there is nothing to compare with and the check is skipped.
#
# Prints each file that does not conform with the diff clang-format would apply, then
# "N passed, N failed, N skipped" (one check).  Exit 0 unless a file does not conform
# (or clang-format is missing).
set -uo pipefail
cd "$(dirname "$0")/.."

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format-14 clang-format; do
		if command -v "$c" >/dev/null; then
			cf=$c
			break
		fi
	done
fi
if [ -z "$cf" ] || ! command -v "$cf" >/dev/null; then
	echo "format: clang-format not found (Debian: apt-get install clang-format-14; tools/install-deps.sh does)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
case $("$cf" --version) in
*" version 14."*) ;;
*) echo "format: warning: $("$cf" --version) is not clang-format 14: its output may differ" ;;
esac

skip() {
	echo "format: skipped: $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

files=()
if [ "${1:-}" = -- ]; then
	shift
	files=("$@")
	what="the files given"
else
	git rev-parse -q --verify HEAD >/dev/null 2>&1 || skip "not a git checkout"
	if [ $# -ge 1 ]; then
		base=$(git merge-base "$1" HEAD 2>/dev/null) || {
			echo "format: no such revision: $1"
			echo "0 passed, 1 failed, 0 skipped"
			exit 1
		}
		what="the C files changed since $1"
	else
		base=$(git rev-parse -q --verify 'HEAD^1' 2>/dev/null) || skip "HEAD has no parent commit to compare with"
		what="the C files changed by the newest commit, $(git log -1 --format=%h HEAD)"
	fi
	while IFS= read -r f; do
		files+=("$f")
	done < <(git diff --name-only --diff-filter=d "$base" HEAD -- '*.c' '*.h')
fi

bad=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
		bad=$((bad + 1))
		echo "format: $f does not conform (clang-format -i $f):"
		"$cf" "$f" | diff -u "$f" - | sed -n '3,40p'
	fi
done
echo "format: ${#files[@]} file(s) checked ($what), $bad not conforming"
if [ $bad -ne 0 ]; then
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "1 passed, 0 failed, 0 skipped"

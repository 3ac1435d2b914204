#!/bin/bash
# man-drift.sh: do the manual pages still describe the program?
#
#   tests/man-drift.sh [--srcdir DIR] [--runtime BIN] [--config-only]
#
# Asks the kata-runtime binary itself what it accepts:
#   - `kata-runtime --help`: the commands (COMMANDS:) and the global options
#     (GLOBAL OPTIONS:), in urfave/cli's layout as runc prints it;
#   - `kata-runtime VERB --help` for every command: its options (argp's
#     layout: "  -b, --bundle=DIR   text" / "      --pid-file=FILE   text"),
#     and its subcommands when the help has a COMMANDS: block (factory);
# and checks them against man/kata-runtime.1.md:
#   - every global option is a term ("**--root**=*DIR*") in the
#     "# GLOBAL OPTIONS" section;
#   - every command has a "### VERB" section (a heading may name aliases:
#     "### kata-check, check") in which each of its options and subcommands
#     is a term: in bold on a line that starts with a bold name
#     ("**--bundle**=*DIR*, **-b** *DIR*", "**init**");
#   - argp's own options (-?, --help, --usage) are documented once;
#   - and the other way: every option a "### VERB" section documents as a
#     term (a line starting with **-) is one the command accepts, apart
#     from the hidden aliases listed in HIDDEN below.
# Then checks man/configuration.toml.5.md against
# src/runtime/configuration.toml.in: every [table] has a "## [table]"
# section, every key of it a "**key** = VALUE" line there with the same
# default VALUE as the file, and the page documents no key the file lacks.
# With --config-only, only this second part runs (no binary needed).
#
# Prints each problem on its own line and exits 1 when there is any, 0 when
# the pages are up to date, 2 when it cannot run (no binary, unreadable help).
# KATA_RUNTIME (environment) names the binary when --runtime is not given;
# the default is SRCDIR/kata-runtime.

# SC2086: lists of names are split on purpose (set -f keeps them from globbing).
# SC2016: the single-quoted $0 are awk's.
# shellcheck disable=SC2086,SC2016
set -u
set -f # option names such as -? are not globs

srcdir=""
runtime="${KATA_RUNTIME:-}"
config_only=no
while [ $# -gt 0 ]; do
	case "$1" in
	--config-only) config_only=yes; shift ;;
	--srcdir) srcdir="$2"; shift 2 ;;
	--srcdir=*) srcdir="${1#*=}"; shift ;;
	--runtime) runtime="$2"; shift 2 ;;
	--runtime=*) runtime="${1#*=}"; shift ;;
	-h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "man-drift: unknown argument: $1" >&2; exit 2 ;;
	esac
done
[ -n "$srcdir" ] || srcdir="$(cd "$(dirname "$0")/.." && pwd)"
[ -n "$runtime" ] || runtime="$srcdir/kata-runtime"

man1="$srcdir/man/kata-runtime.1.md"
man5="$srcdir/man/configuration.toml.5.md"
toml="$srcdir/src/runtime/configuration.toml.in"

# Names the CLI accepts but does not list in its help, which the pages may
# document: hidden command aliases, and hidden option aliases per command.
HIDDEN_COMMANDS="check env"
declare -A HIDDEN=(
	[update]="--cpu-shares"
)
# argp's options, added to every command; documented once in COMMANDS.
ARGP_COMMON="-? --help --usage"

problems=0
problem() {
	echo "man-drift: $*"
	problems=$((problems + 1))
}
die() {
	echo "man-drift: $*" >&2
	exit 2
}

if [ "$config_only" = no ] && [ ! -x "$runtime" ]; then
	die "no kata-runtime binary at $runtime (build it, or set KATA_RUNTIME / --runtime)"
fi
for f in "$man1" "$man5" "$toml"; do
	[ -r "$f" ] || die "cannot read $f"
done

# ---- helpers ------------------------------------------------------------

# The lines of a markdown section: from the heading line matched by the awk
# test in $2 up to the next heading of the same or a higher level.
# $1 file, $2 awk condition on a heading line ($0), $3 the heading level (#s).
md_section() {
	awk -v lvl="$3" '
		function level(s) { match(s, /^#+/); return RLENGTH }
		/^```/ { fence = !fence }
		!fence && /^#+ / {
			if (insec && level($0) <= lvl) exit
			if (!insec && level($0) == lvl && ('"$2"')) { insec = 1; next }
		}
		insec { print }
	' "$1"
}

# The section "### NAME" (NAME among the heading's comma-separated names).
verb_section() {
	local v="$1"
	awk -v verb="$v" -v lvl=3 '
		function level(s) { match(s, /^#+/); return RLENGTH }
		/^```/ { fence = !fence }
		!fence && /^#+ / {
			if (insec && level($0) <= lvl) exit
			if (!insec && level($0) == lvl) {
				h = $0
				sub(/^#+ +/, "", h)
				n = split(h, names, /, */)
				for (i = 1; i <= n; i++) if (names[i] == verb) { insec = 1; next }
			}
		}
		insec { print }
	' "$man1"
}

# True when the text on stdin has NAME in bold (**NAME**).
has_bold() {
	grep -qF -- "**$1**"
}

# The options documented as terms (lines starting with **-) of the text on
# stdin, one per line.
documented_terms() {
	grep -E '^\*\*-' | grep -oE '\*\*-[^*]+\*\*' | sed 's/^\*\*//; s/\*\*$//' | sort -u
}

# argp's --help on stdin -> its options, one per line.  An option line is
# indented by 2 to 6 spaces and starts with "-"; its names end at the first
# run of two spaces; "=ARG", "[=ARG]" and " ARG" are dropped.
argp_options() {
	awk '
		# (no {m,n} intervals: mawk lacks them)
		match($0, /^ *-/) && RLENGTH >= 3 && RLENGTH <= 7 {
			line = $0
			sub(/^ +/, "", line)
			if (match(line, /  /)) line = substr(line, 1, RSTART - 1)
			n = split(line, parts, /, /)
			for (i = 1; i <= n; i++) {
				o = parts[i]
				sub(/\[?=.*$/, "", o)
				sub(/ .*$/, "", o)
				if (o ~ /^-/) print o
			}
		}
	' | sort -u
}

# A help text on stdin -> the first words of the lines of its COMMANDS: block
# (aliases after ", " included), one per line.
help_commands() {
	awk '
		/^COMMANDS:/ { inblk = 1; next }
		inblk && /^[ \t]*$/ { exit }
		inblk && /^[A-Z][A-Z ]*:/ { exit }
		inblk {
			line = $0
			sub(/^ +/, "", line)
			if (match(line, /  /)) line = substr(line, 1, RSTART - 1)
			n = split(line, names, /, */)
			for (i = 1; i <= n; i++) if (names[i] != "") print names[i]
		}
	'
}

# `kata-runtime --help` on stdin -> the global options, one per line.
help_global_options() {
	awk '
		/^GLOBAL OPTIONS:/ { inblk = 1; next }
		inblk && /^[ \t]*$/ { exit }
		inblk && /^ +-/ {
			line = $0
			sub(/^ +/, "", line)
			if (match(line, /  /)) line = substr(line, 1, RSTART - 1)
			n = split(line, parts, /, /)
			for (i = 1; i <= n; i++) {
				o = parts[i]
				sub(/ .*$/, "", o)
				sub(/=.*$/, "", o)
				if (o ~ /^-/) print o
			}
		}
	' | sort -u
}

in_list() {
	local x="$1" w
	shift
	for w in "$@"; do
		[ "$w" = "$x" ] && return 0
	done
	return 1
}

# ---- kata-runtime.1 -----------------------------------------------------

check_cli() {
	local main_help verbs globals man_globals man_commands o v sec vhelp opts sub h n names
	main_help="$("$runtime" --help 2>&1)" || die "\`$runtime --help\` failed: $main_help"
	verbs="$(printf '%s\n' "$main_help" | help_commands)"
	globals="$(printf '%s\n' "$main_help" | help_global_options)"
	[ -n "$verbs" ] || die "no COMMANDS: block in \`kata-runtime --help\`"
	[ -n "$globals" ] || die "no GLOBAL OPTIONS: block in \`kata-runtime --help\`"

	man_globals="$(md_section "$man1" '$0 ~ /^# GLOBAL OPTIONS *$/' 1)"
	[ -n "$man_globals" ] || problem "kata-runtime.1.md: no '# GLOBAL OPTIONS' section"
	for o in $globals; do
		printf '%s\n' "$man_globals" | grep -E '^\*\*-' | has_bold "$o" \
			|| problem "kata-runtime.1.md: global option $o is not documented in GLOBAL OPTIONS"
	done
	for o in $(printf '%s\n' "$man_globals" | documented_terms); do
		in_list "$o" $globals || problem "kata-runtime.1.md: GLOBAL OPTIONS documents $o, which \`kata-runtime --help\` does not list"
	done

	man_commands="$(md_section "$man1" '$0 ~ /^# COMMANDS *$/' 1)"
	[ -n "$man_commands" ] || problem "kata-runtime.1.md: no '# COMMANDS' section"
	for o in $ARGP_COMMON; do
		printf '%s\n' "$man_commands" | has_bold "$o" \
			|| problem "kata-runtime.1.md: the option $o every command accepts is not documented in COMMANDS"
	done

	nglobals=$(printf '%s\n' "$globals" | wc -l)
	for v in $verbs; do
		nverbs=$((nverbs + 1))
		sec="$(verb_section "$v")"
		if [ -z "$sec" ]; then
			problem "kata-runtime.1.md: command '$v' has no '### $v' section"
			continue
		fi
		case "$v" in
		help | h) continue ;; # `help` is not a command with options of its own
		esac
		if ! vhelp="$("$runtime" "$v" --help 2>&1)"; then
			problem "\`kata-runtime $v --help\` failed: $(printf '%s' "$vhelp" | head -n 1)"
			continue
		fi
		if ! printf '%s\n' "$vhelp" | grep -q '^Usage:'; then
			problem "\`kata-runtime $v --help\` printed no usage: cannot check its options"
			continue
		fi
		opts="$(printf '%s\n' "$vhelp" | argp_options)"
		for o in $opts; do
			in_list "$o" $ARGP_COMMON && continue
			nflags=$((nflags + 1))
			printf '%s\n' "$sec" | grep -E '^\*\*-' | has_bold "$o" \
				|| problem "kata-runtime.1.md: $v: option $o is not documented"
		done
		for sub in $(printf '%s\n' "$vhelp" | help_commands); do
			printf '%s\n' "$sec" | grep -E '^\*\*' | has_bold "$sub" \
				|| problem "kata-runtime.1.md: $v: subcommand $sub is not documented"
		done
		for o in $(printf '%s\n' "$sec" | documented_terms); do
			in_list "$o" $opts ${HIDDEN[$v]:-} \
				|| problem "kata-runtime.1.md: $v: documents $o, which \`kata-runtime $v --help\` does not list"
		done
	done

	# Every "### NAME" section is a command the CLI has.
	while IFS= read -r h; do
		h="${h#\#\#\# }"
		IFS=',' read -ra names <<<"$h"
		for n in "${names[@]}"; do
			n="${n# }"
			n="${n% }"
			in_list "$n" $verbs $HIDDEN_COMMANDS \
				|| problem "kata-runtime.1.md: documents a command '$n' that \`kata-runtime --help\` does not list"
		done
	done < <(printf '%s\n' "$man_commands" | grep -E '^### ')
}

# ---- configuration.toml.5 ----------------------------------------------

check_config() {
	local keys tables t sec tt k v line h
	# "table<TAB>key<TAB>value" for every key of the shipped file.
	keys="$(awk '
		/^[ \t]*#/ || /^[ \t]*$/ { next }
		/^[ \t]*\[/ { t = $0; sub(/^[ \t]*\[[ \t]*/, "", t); sub(/[ \t]*\].*$/, "", t); next }
		/=/ {
			k = $0; sub(/^[ \t]*/, "", k); sub(/[ \t]*=.*$/, "", k)
			v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
			printf "%s\t%s\t%s\n", t, k, v
		}
	' "$toml")"
	[ -n "$keys" ] || die "no keys found in $toml"

	tables="$(printf '%s\n' "$keys" | cut -f1 | sort -u)"
	for t in $tables; do
		sec="$(awk -v tbl="$t" -v lvl=2 '
			function level(s) { match(s, /^#+/); return RLENGTH }
			/^```/ { fence = !fence }
			!fence && /^#+ / {
				if (insec && level($0) <= lvl) exit
				if (!insec && level($0) == lvl && $0 == "## [" tbl "]") { insec = 1; next }
			}
			insec { print }
		' "$man5")"
		if [ -z "$sec" ]; then
			problem "configuration.toml.5.md: table [$t] has no '## [$t]' section"
			continue
		fi
		while IFS=$'\t' read -r tt k v; do
			[ "$tt" = "$t" ] || continue
			nkeys=$((nkeys + 1))
			line="$(printf '%s\n' "$sec" | grep -E -- "^\*\*$k\*\* =" | head -n 1)"
			if [ -z "$line" ]; then
				problem "configuration.toml.5.md: [$t] $k is not documented"
			elif [ "$line" != "**$k** = $v" ]; then
				problem "configuration.toml.5.md: [$t] $k: the page says '${line//\*\*/}', the default file says '$k = $v'"
			fi
		done <<<"$keys"
		for k in $(printf '%s\n' "$sec" | grep -oE '^\*\*[A-Za-z0-9_-]+\*\* =' | sed 's/^\*\*//; s/\*\* =$//'); do
			printf '%s\n' "$keys" | awk -F'\t' -v t="$t" -v k="$k" '$1 == t && $2 == k { f = 1 } END { exit !f }' \
				|| problem "configuration.toml.5.md: documents [$t] $k, which $(basename "$toml") does not have"
		done
	done
	while IFS= read -r h; do
		t="${h#\#\# [}"
		t="${t%]}"
		in_list "$t" $tables || problem "configuration.toml.5.md: documents a table [$t] that $(basename "$toml") does not have"
	done < <(grep -E '^## \[[^]]+\] *$' "$man5")
}

nverbs=0
nglobals=0
nflags=0
nkeys=0
[ "$config_only" = yes ] || check_cli
check_config

if [ "$problems" -gt 0 ]; then
	echo "man-drift: $problems problem(s): update man/ (or the CLI) so they agree"
	exit 1
fi
if [ "$config_only" = yes ]; then
	echo "man-drift: ok: $nkeys configuration keys documented (CLI not checked)"
else
	echo "man-drift: ok: $nverbs commands, $nglobals global options, $nflags command options, $nkeys configuration keys documented"
fi
exit 0

# bench/lib.sh: shell helpers shared by the bench scripts (sourced).

# Seconds between two EPOCHREALTIME values (microsecond resolution, no fork).
secs() {
	local a=${1/./} b=${2/./}
	local d=$((10#$b - 10#$a))
	printf '%d.%06d' $((d / 1000000)) $((d % 1000000))
}

toml_set() { # FILE SECTION KEY VALUE: set (or add) KEY in [SECTION]
	local f=$1 sec=$2 key=$3 val=$4
	awk -v sec="[$sec]" -v key="$key" -v val="$val" '
		function flush() { if (insec && !done) { print key " = " val; done = 1 } }
		/^[[:space:]]*\[/ { t = $0; gsub(/[[:space:]]/, "", t); flush(); insec = (t == sec); if (insec) seen = 1 }
		insec && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" { if (!done) print key " = " val; done = 1; next }
		{ print }
		END { if (!seen) { print ""; print sec }; if (!done) print key " = " val }
	' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
}

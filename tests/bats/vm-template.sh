#!/bin/bash
# The VM template of a bats run (docs/factory.md "Tests"): the suites where the
# boot itself is not under test start their sandboxes as clones of one template
# (about 0.5 s each under TCG) instead of booting a kernel (about 2 s).
#
#   vm-template.sh init DIR      writes DIR/configuration.toml (the configuration in
#                                use, $KATA_CONF_FILE or kata-env's, with
#                                enable_template = true, template_path = DIR/template
#                                and QEMU behind DIR/qemu, which counts the starts),
#                                runs `factory init` and prints the configuration's path
#   vm-template.sh destroy DIR   `factory destroy`, then removes DIR
#   vm-template.sh count DIR     "C sandboxes cloned from the VM template, B cold boots"
#                                (sandboxes that used DIR/configuration.toml)
#
# run-bats.sh makes one for the whole run; use_vm_template (helpers-vm.bash) makes
# one per file when a .bats file runs on its own.
set -u

die() {
	echo "vm-template.sh: $*" >&2
	exit 2
}
[ $# -eq 2 ] || die "usage: vm-template.sh init|destroy|count DIR"
cmd=$1 dir=$2
KATA_RUNTIME="${KATA_RUNTIME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/kata-runtime}"
conf="$dir/configuration.toml"

case "$cmd" in
init)
	base="${KATA_CONF_FILE:-$("$KATA_RUNTIME" kata-env --json 2>/dev/null | jq -r '.Runtime.Config.Path // empty')}"
	[ -n "$base" ] && [ -r "$base" ] || die "no configuration.toml to start from (set KATA_CONF_FILE)"
	qemu="$("$KATA_RUNTIME" --kata-config "$base" kata-env --json 2>/dev/null | jq -r '.Hypervisor.Path // empty')"
	[ -x "$qemu" ] || die "QEMU ($qemu) of $base is not executable"
	mkdir -p "$dir" || exit 2
	# Counts each VM start (a template clone has -incoming; the template itself
	# writes its RAM to a shared memory file, a cold boot has no mem-path) and
	# becomes QEMU: same pid, same command line.
	cat >"$dir/qemu" <<EOF
#!/bin/sh
case " \$* " in
*" -name "*" -incoming "*) echo clone >>"$dir/starts" ;;
*" -name "*mem-path=*share=on*) echo template >>"$dir/starts" ;;
*" -name "*) echo boot >>"$dir/starts" ;;
esac
exec "$qemu" "\$@"
EOF
	chmod 755 "$dir/qemu"
	: >"$dir/starts"
	awk -v tp="$dir/template" -v q="$dir/qemu" '
		/^[ \t]*\[/ { sect = $0; gsub(/[ \t]/, "", sect) }
		sect == "[hypervisor.qemu]" && /^[ \t]*path[ \t]*=/ { next }
		sect == "[factory]" && /^[ \t]*(enable_template|template_path|vm_cache_number)[ \t]*=/ { next }
		{ print }
		/^[ \t]*\[hypervisor\.qemu\][ \t]*$/ { printf("path = \"%s\"\n", q) }
		/^[ \t]*\[factory\][ \t]*$/ { printf("enable_template = true\ntemplate_path = \"%s\"\nvm_cache_number = 0\n", tp); f = 1 }
		END { if (!f) printf("\n[factory]\nenable_template = true\ntemplate_path = \"%s\"\nvm_cache_number = 0\n", tp) }
	' "$base" >"$conf"
	grep -q "^path = \"$dir/qemu\"" "$conf" || die "$base has no [hypervisor.qemu] table"
	out="$("$KATA_RUNTIME" --kata-config "$conf" factory init 2>&1)" || die "factory init failed: $out"
	[ -s "$dir/template/state" ] || die "factory init made no template: $out"
	echo "$conf"
	;;
destroy)
	[ -f "$conf" ] && "$KATA_RUNTIME" --kata-config "$conf" factory destroy >/dev/null 2>&1
	umount -l "$dir/template" 2>/dev/null
	rm -rf "$dir"
	;;
count)
	c=$(grep -cx clone "$dir/starts" 2>/dev/null)
	b=$(grep -cx boot "$dir/starts" 2>/dev/null)
	echo "${c:-0} sandboxes cloned from the VM template, ${b:-0} cold boots"
	;;
*)
	die "unknown command $cmd"
	;;
esac

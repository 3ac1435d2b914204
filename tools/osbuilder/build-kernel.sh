#!/bin/bash
# build-kernel.sh [--flavor minimal|generic] OUTDIR
#
# Builds (or fetches) the guest kernel for kata-runtime and puts it in OUTDIR:
#
#   minimal (default): Linux from Debian's linux-source-6.1, `make tinyconfig`
#       plus tools/osbuilder/kernel.fragment, with the patches of
#       tools/osbuilder/kernel-patches/ applied (boot time under TCG: see the
#       README there).  Produces
#           OUTDIR/vmlinuz.container   (bzImage, for q35)
#           OUTDIR/vmlinux.container   (stripped uncompressed ELF, PVH entry, for microvm)
#           OUTDIR/kernel.config
#       The result is cached outside the source tree in
#       ${KATA_OSBUILDER_CACHE:-/var/cache/kata-osbuilder}/kernel-<src version>-<fragment+patches sha>/
#       so a second run on the same machine only copies.
#
#   generic: Debian's linux-image-amd64 (apt-get download + dpkg -x).  Produces
#           OUTDIR/vmlinuz.container
#           OUTDIR/modules/*.ko        (uncompressed)
#           OUTDIR/modules.load        (module file names, in load order)
#       for build-initrd.sh.  The cloud flavour is not usable (no 9p).
#
# Environment:
#   KATA_OSBUILDER_CACHE   cache dir (default /var/cache/kata-osbuilder)
#   KATA_KERNEL_SOURCE     kernel source tarball (default /usr/src/linux-source-6.1.tar.xz)
#   KATA_KERNEL_FRAGMENT   config fragment (default: kernel.fragment beside this script)
#   KATA_KERNEL_PATCHES    directory of *.patch applied with patch -p1 in name order
#                          (default: kernel-patches beside this script; empty: none)
#   KATA_KERNEL_JOBS       make -j value (default: nproc)
#   KATA_KERNEL_PACKAGE    generic flavor: package to fetch (default linux-image-amd64)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=$(basename "$0")

die() { echo "$prog: error: $*" >&2; exit 1; }
log() { echo "$prog: $*" >&2; }
usage() { echo "usage: $prog [--flavor minimal|generic] OUTDIR" >&2; exit 2; }

flavor=minimal
while [ $# -gt 0 ]; do
	case "$1" in
	--flavor) [ $# -ge 2 ] || usage; flavor=$2; shift 2 ;;
	--flavor=*) flavor=${1#--flavor=}; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
outdir=$1
[ -n "$flavor" ] || flavor=minimal

cache=${KATA_OSBUILDER_CACHE:-/var/cache/kata-osbuilder}
jobs=${KATA_KERNEL_JOBS:-$(nproc 2>/dev/null || echo 2)}

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
mkdir -p "$cache" || die "cannot create cache dir $cache (set KATA_OSBUILDER_CACHE)"

# Serialize concurrent builds sharing one cache.
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi

install_file() { # src dst
	cp -f "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}

# ---------------------------------------------------------------- minimal
build_minimal() {
	local src=${KATA_KERNEL_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
	local fragment=${KATA_KERNEL_FRAGMENT:-$here/kernel.fragment}
	[ -f "$src" ] || die "kernel source $src not found (apt-get install linux-source-6.1)"
	[ -f "$fragment" ] || die "fragment $fragment not found"
	local tool
	for tool in make gcc flex bison bc objcopy tar xz perl; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool is required (see tools/install-deps.sh)"
	done

	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
	if [ -z "$ver" ]; then
		ver=$(stat -c '%s-%Y' "$src")
	fi
	local patchdir=${KATA_KERNEL_PATCHES-$here/kernel-patches}
	local patches=()
	if [ -n "$patchdir" ]; then
		[ -d "$patchdir" ] || die "kernel patch directory $patchdir not found"
		local pf
		for pf in "$patchdir"/*.patch; do
			[ -f "$pf" ] && patches+=("$pf")
		done
		command -v patch >/dev/null 2>&1 || die "patch is required (see tools/install-deps.sh)"
	fi
	local fhash
	fhash=$(cat "$fragment" ${patches[@]+"${patches[@]}"} | sha256sum | cut -c1-12)
	local key="kernel-${ver}-${fhash}"
	local cdir="$cache/$key"

	if [ -f "$cdir/vmlinuz.container" ] && [ -f "$cdir/vmlinux.container" ]; then
		log "using cached kernel $cdir"
	else
		log "building kernel $key (make -j$jobs; this takes several minutes)"
		local work="$cache/build-$key"
		rm -rf "$work"
		mkdir -p "$work"
		tar -C "$work" -xf "$src"
		local ksrc
		ksrc=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
		[ -n "$ksrc" ] && [ -f "$ksrc/Makefile" ] || die "unexpected layout in $src"

		local p
		for p in ${patches[@]+"${patches[@]}"}; do
			log "applying $(basename "$p")"
			patch -d "$ksrc" -p1 --forward --quiet < "$p" || die "patch $p does not apply to $src"
		done
		(
			cd "$ksrc"
			make -s tinyconfig
			# Append the fragment: for kconfig, a later assignment wins.
			{ echo; sed -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=n$/# \1 is not set/' "$fragment"; } >> .config
			make -s olddefconfig
		) > "$work/config.log" 2>&1 || { cat "$work/config.log" >&2; die "kernel configuration failed"; }
		check_config "$fragment" "$ksrc/.config"

		(
			cd "$ksrc"
			make -j"$jobs" -s bzImage
		)
		local tmp="$cdir.tmp.$$"
		rm -rf "$tmp"
		mkdir -p "$tmp"
		cp "$ksrc/arch/x86/boot/bzImage" "$tmp/vmlinuz.container"
		objcopy --strip-all "$ksrc/vmlinux" "$tmp/vmlinux.container"
		cp "$ksrc/.config" "$tmp/kernel.config"
		cp "$fragment" "$tmp/kernel.fragment"
		if [ ${#patches[@]} -gt 0 ]; then
			mkdir -p "$tmp/patches"
			cp ${patches[@]+"${patches[@]}"} "$tmp/patches/"
		fi
		echo "$ver" > "$tmp/source-version"
		rm -rf "$cdir"
		mv "$tmp" "$cdir"
		if [ -z "${KATA_OSBUILDER_KEEP_WORK:-}" ]; then
			rm -rf "$work"
		fi
		log "cached kernel in $cdir"
	fi

	install_file "$cdir/vmlinuz.container" "$outdir/vmlinuz.container"
	install_file "$cdir/vmlinux.container" "$outdir/vmlinux.container"
	install_file "$cdir/kernel.config" "$outdir/kernel.config"
	# A minimal kernel has no modules: make sure stale generic ones do not linger.
	rm -rf "$outdir/modules" "$outdir/modules.load"
	ls -l "$outdir/vmlinuz.container" "$outdir/vmlinux.container" >&2
}

# Every CONFIG_X=y (or =value) in the fragment must have survived olddefconfig;
# every CONFIG_X=n must be unset.
check_config() { # fragment .config
	local fragment=$1 config=$2 missing=() line sym val
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*}
		val=${line#*=}
		if [ "$val" = n ]; then
			if grep -q "^$sym=" "$config"; then
				missing+=("$sym=n (got $(grep "^$sym=" "$config"))")
			fi
		elif ! grep -qx "$sym=$val" "$config"; then
			missing+=("$line (got $(grep "^$sym=" "$config" || echo unset))")
		fi
	done < "$fragment"
	if [ ${#missing[@]} -gt 0 ]; then
		echo "$prog: error: these fragment options did not stick after olddefconfig:" >&2
		printf '  %s\n' "${missing[@]}" >&2
		exit 1
	fi
	log "all fragment options present in .config"
}

# ---------------------------------------------------------------- generic
# Modules the agent needs from a generic kernel.  Built-ins are skipped.
generic_modules="virtio virtio_ring virtio_pci virtio_mmio virtio_console virtio_blk
virtio_net virtio_rng 9p 9pnet_virtio overlay crc32c_generic ext4 fuse virtiofs loop"
# crc32c_generic: ext4/jbd2 get crc32c through the crypto API (request_module),
# which modules.dep does not show and which cannot work without modprobe.

build_generic() {
	local pkg=${KATA_KERNEL_PACKAGE:-linux-image-amd64}
	command -v apt-get >/dev/null 2>&1 || die "generic flavor needs apt-get"
	command -v depmod >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
	command -v depmod >/dev/null 2>&1 || die "generic flavor needs depmod (kmod)"

	gwork=$(mktemp -d "$cache/generic.XXXXXX")
	trap 'rm -rf "$gwork"' EXIT
	chmod 0755 "$gwork" # apt-get download drops privileges to _apt
	local work=$gwork

	# The metapackage only depends on the versioned image package.
	local real
	if ! real=$(resolve_image_pkg "$pkg") || [ -z "$real" ]; then
		log "apt metadata for $pkg not found; running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		real=$(resolve_image_pkg "$pkg") || die "cannot resolve $pkg"
	fi
	log "generic kernel package: $real"
	local pver mhash
	pver=$(apt-cache show --no-all-versions "$real" | sed -n 's/^Version: //p' | head -n1)
	mhash=$(echo $generic_modules | sha256sum | cut -c1-8)
	local cdir="$cache/generic-$real-$pver-$mhash"
	if [ -f "$cdir/vmlinuz.container" ] && [ -f "$cdir/modules.load" ]; then
		log "using cached kernel $cdir"
	else
		(cd "$work" && apt-get download "$real" >&2) || die "apt-get download $real failed"
		dpkg -x "$work"/*.deb "$work/root"
		local kver
		kver=$(ls "$work/root/lib/modules" | head -n1)
		[ -n "$kver" ] || die "no modules in $real"
		local mroot="$work/root/lib/modules/$kver"
		if [ ! -s "$mroot/modules.dep" ]; then
			depmod -b "$work/root" "$kver"
		fi

		local tmp="$cdir.tmp.$$"
		rm -rf "$tmp"
		mkdir -p "$tmp/modules"
		cp "$work/root/boot/vmlinuz-$kver" "$tmp/vmlinuz.container"
		cp "$work/root/boot/config-$kver" "$tmp/kernel.config" 2>/dev/null || true

		# Resolve dependencies from modules.dep: depth-first, dependencies first.
		local order
		order=$(resolve_modules "$mroot" $generic_modules)
		: > "$tmp/modules.load"
		local rel f base
		while IFS= read -r rel; do
			[ -n "$rel" ] || continue
			f="$mroot/$rel"
			base=$(basename "$rel")
			case "$base" in
			*.ko.xz) xz -dc "$f" > "$tmp/modules/${base%.xz}"; base=${base%.xz} ;;
			*.ko.zst) zstd -dqc "$f" > "$tmp/modules/${base%.zst}"; base=${base%.zst} ;;
			*.ko.gz) gzip -dc "$f" > "$tmp/modules/${base%.gz}"; base=${base%.gz} ;;
			*) cp "$f" "$tmp/modules/$base" ;;
			esac
			echo "$base" >> "$tmp/modules.load"
		done <<< "$order"
		echo "$kver" > "$tmp/kernel-version"
		rm -rf "$cdir"
		mv "$tmp" "$cdir"
	fi

	install_file "$cdir/vmlinuz.container" "$outdir/vmlinuz.container"
	[ -f "$cdir/kernel.config" ] && install_file "$cdir/kernel.config" "$outdir/kernel.config"
	# No PVH vmlinux for the generic flavor: microvm is unsupported with it.
	rm -f "$outdir/vmlinux.container"
	rm -rf "$outdir/modules"
	cp -r "$cdir/modules" "$outdir/modules"
	install_file "$cdir/modules.load" "$outdir/modules.load"
	log "generic kernel $(cat "$cdir/kernel-version"): $(wc -l < "$outdir/modules.load") modules"
	ls -l "$outdir/vmlinuz.container" >&2
}

resolve_image_pkg() { # metapackage -> versioned image package
	local meta=$1 dep
	apt-cache show --no-all-versions "$meta" >/dev/null 2>&1 || return 1
	case "$meta" in linux-image-[0-9]*) echo "$meta"; return 0 ;; esac
	dep=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | grep -v -- '-dbg' | head -n1)
	[ -n "$dep" ] || return 1
	echo "$dep"
}

# Prints module paths (relative to the modules dir) in load order.
resolve_modules() { # moddir names...
	local mroot=$1; shift
	awk -v want="$*" '
	function modname(p,   n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n); return n }
	function visit(p,   n, i, d) {
		if (p in done) return
		done[p] = 1
		n = split(deps[p], d, " ")
		for (i = 1; i <= n; i++) visit(d[i])
		print p
	}
	FILENAME ~ /modules.builtin$/ { builtin[modname($1)] = 1; next }
	{
		p = $1; sub(/:$/, "", p)
		rest = $0; sub(/^[^:]*:[ ]*/, "", rest)
		deps[p] = rest
		byname[modname(p)] = p
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (m in byname) visit(byname[m])
			else if (m in builtin) printf("builtin: %s\n", m) > "/dev/stderr"
			else printf("warning: module %s not found\n", m) > "/dev/stderr"
		}
	}' "$mroot/modules.builtin" "$mroot/modules.dep"
}

case "$flavor" in
minimal) build_minimal ;;
generic) build_generic ;;
*) die "unknown flavor '$flavor' (minimal|generic)" ;;
esac

# shellcheck shell=bash
# scripts/deps.sh - sourced by scripts/test and scripts/bench.
#
# ensure_packages PKG...: install the Debian packages that are missing
# (apt-get update first), as root or through sudo.  Does nothing, and
# needs no network, when everything is already installed.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || {
			echo "need root or sudo to install: ${missing[*]}" >&2
			return 1
		}
		sudo=(sudo)
	fi
	echo "installing: ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ensure_foreign_arch ARCH: let dpkg install ARCH packages (multiarch).
ensure_foreign_arch() {
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	local sudo=()
	[ "$(id -u)" -ne 0 ] && sudo=(sudo)
	echo "adding dpkg architecture $1" >&2
	"${sudo[@]}" dpkg --add-architecture "$1"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
}

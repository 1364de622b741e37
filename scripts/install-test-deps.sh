#!/bin/sh
# Installs what the tests need from outside Go and npm: the AWS CLI version 2
# of Debian's awscli package (/usr/bin/aws), which the AWS CLI tests run
# beside the version 1 `aws` found on PATH. It does nothing, and says
# nothing, when everything is there; otherwise it installs with apt-get,
# as root (or through sudo), on Debian and its derivatives.
#
# The version 1 CLI is not a Debian package: when no `aws` of version 1 is on
# PATH, this says so, and the tests skip it (or fail when CI is set).
set -eu

warn() { echo "install-test-deps: $*" >&2; }

has_v1() (
	# Every `aws` on PATH but Debian's, asked for its version.
	IFS=:
	for dir in $PATH; do
		[ -x "$dir/aws" ] && [ "$dir/aws" != /usr/bin/aws ] || continue
		case $("$dir/aws" --version 2>&1) in
		aws-cli/1.*) return 0 ;;
		esac
	done
	return 1
)

if ! has_v1; then
	warn "no AWS CLI version 1 on PATH (pip install awscli): its tests are skipped"
fi

[ -x /usr/bin/aws ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	warn "/usr/bin/aws is missing and there is no apt-get to install Debian's awscli: its tests are skipped"
	exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root="sudo -n"
else
	warn "/usr/bin/aws is missing: run 'apt-get install -y awscli' as root (its tests are skipped)"
	exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_get() { $as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@" >>"$log" 2>&1; }

echo "install-test-deps: installing Debian's awscli (/usr/bin/aws)" >&2
# A fresh machine has no package lists yet: read them when the package is
# not known, or when installing from the current ones fails.
if ! apt-cache show awscli >/dev/null 2>&1 || ! apt_get install awscli; then
	if ! apt_get update || ! apt_get install awscli; then
		cat "$log" >&2
		warn "apt-get install awscli failed"
		exit 1
	fi
fi

#!/usr/bin/env bash
# Builds fwc's Debian package: scripts/deb.sh [OUTDIR] (default: dist/).
#
# The binary is built with the version, commit and commit date set by
# -ldflags (fwc version prints them), stripped and static; then
# packaging/mkdeb (a Go program using nfpm, in its own module so that fwc's
# dependencies stay fwc's) writes OUTDIR/fwc_VERSION_ARCH.deb with the
# binary, the systemd unit, the man pages, the shell completions and
# /etc/fwc/policy.fw. No network is needed beyond the Go module proxy (or a
# filled module cache). The file's timestamps are the commit's, so two runs
# on one commit give the same bytes.
#
# Environment: VERSION (Debian version; default 0.0.0~gitYYYYMMDD.HASH from
# the commit, or 0.0.0~dev outside a git checkout), GOARCH (default: the
# host's; the man pages and completions are then written by a host build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if commit=$(git rev-parse HEAD 2>/dev/null); then
	# The commit's time in UTC, as the Go toolchain records vcs.time.
	date=$(TZ=UTC0 git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
	version=${VERSION:-0.0.0~git$(TZ=UTC0 git log -1 --date=format-local:%Y%m%d --format=%cd).${commit:0:12}}
	# A build from a tree with changes is not that commit: say so in the
	# version, as Go's own +dirty does.
	if [[ -z ${VERSION:-} && -n $(git status --porcelain) ]]; then
		version+=+modified
	fi
else
	commit=unknown date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	version=${VERSION:-0.0.0~dev}
fi
# A Debian version starts with a digit: a tag's v goes.
version=${version#v}
echo "fwc $version, commit $commit, $date" >&2

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# CGO_ENABLED=0: one static binary that runs on any Debian release.
# -trimpath: no build paths in the binary. -s -w: no symbol table or DWARF
# (Debian strips binaries; a Go binary is stripped at link time).
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$version -X main.commit=$commit -X main.date=$date" \
	-o "$stage/fwc" ./cmd/fwc
gen=$stage/fwc
if [[ -n ${GOARCH:-} && $GOARCH != "$(GOARCH= go env GOARCH)" ]]; then
	# The man pages and completions come from running fwc: a host build.
	GOARCH= CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$stage/fwc-host" ./cmd/fwc
	gen=$stage/fwc-host
fi
# mkdeb runs on the host; it prints the package's path.
(cd packaging && GOARCH= go run ./mkdeb -fwc "$stage/fwc" -gen "$gen" -repo "$root" \
	-version "$version" -arch "$(go env GOARCH)" -mtime "$date" -outdir "$out")

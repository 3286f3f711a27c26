#!/usr/bin/env bash
# The full test suite, the one command CI runs (.ci/run) and the README names.
#
#   1. installs the system packages the tests use (nftables, iptables,
#      ipset, iproute2 for the kernel tests; systemd for systemd-analyze,
#      which verifies contrib/systemd/fwc.service; nodejs, npm, vim and man-db for
#      the editor grammars and the manual pages; lintian for the Debian
#      package) when they are missing:
#      apt-get update + install as root; without root it only says what is
#      missing;
#   2. gofmt (fails listing the files), go vet, staticcheck (installed from
#      the Go module proxy at a pinned version when missing);
#   3. go test ./... ;
#   4. the Debian package (packaging/, a module of its own: vet, tidy,
#      staticcheck, then its test, which builds the .deb with
#      scripts/deb.sh, installs it into a scratch root and runs lintian);
#   5. the editor grammars' tests (editors/test: npm ci from the npm
#      registry, then node's test runner; vim -es);
#   6. a fuzz smoke: every Fuzz* target in the repo, found by grep, for
#      FUZZTIME (default 3000x: executions, not seconds) each.
#
# Kernel tests (network namespaces, nft, iptables) run when they can and skip
# when they cannot (not root, tools missing). FWC_REQUIRE_NETNS=1 turns those
# skips into failures: CI sets it (CI=true sets it here too, and then root is
# required); a laptop run without root just skips them.
#
# Environment: FUZZTIME (go test -fuzztime, default 3000x), FWC_REQUIRE_NETNS.
# The default counts executions: with a duration, Go 1.26's fuzz coordinator
# can fail a target with a bare "context deadline exceeded" at the deadline
# and no failing input (golang/go#75804), which a count has no deadline for.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
die() {
	printf '\nFAIL: %s\n' "$*" >&2
	exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

command -v go >/dev/null || die "go is not installed (https://go.dev/doc/install)"

if [[ ${CI:-} == true && -z ${FWC_REQUIRE_NETNS:-} ]]; then
	export FWC_REQUIRE_NETNS=1
fi
if [[ ${FWC_REQUIRE_NETNS:-} == 1 ]] && ! is_root; then
	die "FWC_REQUIRE_NETNS=1 needs root: the kernel tests create network namespaces"
fi

step "system packages"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for pkg in nftables iptables ipset iproute2 systemd lintian; do
	if command -v dpkg-query >/dev/null; then
		installed "$pkg" || missing+=("$pkg")
	else
		# Not Debian: look for the commands instead.
		case $pkg in
		nftables) cmd=nft ;; iproute2) cmd=ip ;; systemd) cmd=systemd-analyze ;; *) cmd=$pkg ;;
		esac
		PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null || missing+=("$pkg")
	fi
done
# The editor, manual and Ansible tests need these commands; they are looked up by
# command, not package, since node may come from elsewhere than Debian.
for tool in node:nodejs npm:npm vim:vim man:man-db ansible-playbook:ansible; do
	PATH=$PATH:/usr/sbin:/sbin command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]} == 0)); then
	echo "all present: nftables iptables ipset iproute2 systemd lintian nodejs npm vim man-db"
elif is_root && command -v apt-get >/dev/null; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
else
	echo "missing: ${missing[*]} (not installing: needs root and apt-get; the tests that use them will skip)"
fi

step "gofmt"
unformatted=$(gofmt -l .)
[[ -z $unformatted ]] || die "gofmt needed on:
$unformatted
(run gofmt -w on them)"
echo ok

step "go vet"
go vet ./... || die "go vet found problems"
echo ok

step "go mod tidy"
go mod tidy -diff || die "go mod tidy would change go.mod or go.sum (run go mod tidy and commit)"
echo ok

step "staticcheck"
staticcheck=$(command -v staticcheck || echo "$(go env GOPATH)/bin/staticcheck")
if [[ ! -x $staticcheck ]]; then
	echo "installing staticcheck"
	go install honnef.co/go/tools/cmd/staticcheck@v0.8.2 || die "could not install staticcheck"
fi
"$staticcheck" ./... || die "staticcheck found problems"
echo ok

step "go test (FWC_REQUIRE_NETNS=${FWC_REQUIRE_NETNS:-unset})"
go test -timeout 30m ./... || die "go test failed"

step "Debian package (packaging/)"
# A module of its own (nfpm's dependencies are not fwc's), so ./... above
# does not reach it.
(
	cd packaging
	go vet ./... || die "go vet found problems in packaging/"
	go mod tidy -diff || die "go mod tidy would change packaging/go.mod or go.sum"
	"$staticcheck" ./... || die "staticcheck found problems in packaging/"
	# -count=1: the test reads the repository through scripts/deb.sh, a
	# child process whose reads go test's cache does not see.
	go test -count=1 -timeout 30m ./... || die "the Debian package test failed"
)

step "editor grammars (editors/test)"
if command -v npm >/dev/null && command -v vim >/dev/null; then
	(cd editors/test && npm ci --no-audit --no-fund --loglevel=error && npm test --silent) || die "the TextMate grammar test failed"
	bash editors/test/vim.sh || die "the Vim syntax test failed"
elif [[ ${FWC_REQUIRE_NETNS:-} == 1 ]]; then
	die "npm and vim are needed for the editor tests"
else
	echo "skipped: npm or vim missing"
fi

step "fuzz smoke (${FUZZTIME:-3000x} per target)"
mapfile -t targets < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '/testdata/' | sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|;s|^\./[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|. \1|' | sort -u)
if ((${#targets[@]} == 0)); then
	echo "no Fuzz targets yet"
fi
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	echo "--- $name in ./$dir"
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="${FUZZTIME:-3000x}" "./$dir" || die "fuzzing $name in ./$dir failed (the failing input is under ./$dir/testdata/fuzz/$name)"
done

printf '\nall checks passed\n'

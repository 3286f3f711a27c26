#!/usr/bin/env bash
# The check step of the GitHub Action (action.yml): runs fwc check once for
# annotations (--format github, on stdout, which the runner reads) and once
# for the SARIF file, and exits with fwc check's status (0 clean, 1 findings,
# 2 usage or I/O). Inputs come from the environment:
#   FWC_PATHS     files and directories, separated by spaces (default .)
#   FWC_BACKENDS  backends for --backend, comma-separated (default none)
#   FWC_STRICT    "true": warnings fail too
#   FWC_SARIF     the SARIF file to write (default fwc.sarif)
# GITHUB_OUTPUT, when set, receives sarif=PATH.
set -uo pipefail
read -r -a paths <<<"${FWC_PATHS:-.}"
args=()
[[ -n ${FWC_BACKENDS:-} ]] && args+=(--backend "$FWC_BACKENDS")
[[ ${FWC_STRICT:-false} == true ]] && args+=(--strict)
sarif=${FWC_SARIF:-fwc.sarif}

fwc check --format github "${args[@]}" "${paths[@]}"
status=$?
fwc check --format sarif "${args[@]}" "${paths[@]}" >"$sarif"
sarif_status=$?
if [[ $sarif_status != "$status" ]]; then
	echo "::error::fwc check gave status $status, then $sarif_status writing SARIF" >&2
	status=2
fi
[[ -n ${GITHUB_OUTPUT:-} ]] && echo "sarif=$sarif" >>"$GITHUB_OUTPUT"
exit "$status"

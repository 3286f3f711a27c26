// Package golden holds fwc's end-to-end tests, from policy source to the
// text each backend emits and to what the kernel does with it. It has no
// code of its own, only tests:
//
//   - testdata/scenarios/*.txtar: one policy per scenario of
//     docs/scenarios.md (in.fw and the files it includes) with the expected
//     iptables-save, ip6tables-save, ipset and nft text (want.iptables,
//     want.ip6tables, want.ipset, want.nft) and the rendered diagnostics
//     (want.diag) when there are any, for instance a backend's refusal;
//   - testdata/examples/*.txtar: the same outputs for every policy under
//     examples/, plus want.nft.list, nft's own listing after loading;
//   - every output is fed to the real tools in a throwaway network
//     namespace and loaded for real (ipset restore, iptables-restore,
//     ip6tables-restore, nft -c -f, nft -f), not only parsed;
//   - the differential test sends real packets through the iptables and
//     the nft translation of the scenario examples and compares the
//     verdicts with each other and with the policy's intent.
//
// `go test ./internal/golden -update` rewrites the want sections; read
// every changed line before committing.
package golden

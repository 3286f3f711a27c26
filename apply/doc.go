// Package apply installs a checked policy on a running host: it is what
// `fwc apply`, `fwc plan` and `fwc confirm` do.
//
// It sits after the backends and the compile driver in the pipeline
// (lang → check → policy → ir → backend → compile → apply → cmd/fwc) and adds the parts that need a live kernel:
//
//   - Reading the live state ([Read]): the ruleset generation, fwc's own
//     nftables table `inet fwc` as nft lists it, and the ip rules and routes
//     fwc owns.
//   - Planning ([NewPlan]): what the policy wants, in the same terms, and a
//     readable difference (tables, chains, rules, set elements, ip rules,
//     routes). An unchanged policy costs one read and no write.
//   - Applying ([Apply]): one atomic nftables batch that changes only the
//     fwc table (never FlushRuleset, never another table), guarded by the
//     generation read when planning, so a ruleset changed by someone else in
//     between is left alone; then the ip rules and routes, each step
//     journaled and undone in reverse if a later one fails. While the
//     record of the last apply vouches for the live table, the batch is
//     the difference: rules deleted by handle and inserted at their
//     place, set elements added and deleted (incremental.go); rules keep their
//     identity across edits that only move them (a comment, a blank line,
//     another file), and those not touched keep their counters. Otherwise
//     it replaces the table, adding back the elements the kernel holds in
//     the policy's dynamic sets (runtime.go), so fail2ban's bans and
//     meters' buckets survive it, and, when the handles are known, the
//     counters of the rules that stay (counters.go).
//   - Lock-out safety: [Snapshot] and [StartWatchdog] put the previous state
//     on disk before applying and restore it unless [Confirm] is called in
//     time; the [Watchdog] holds a lock on its snapshot for as long as it
//     runs, so a dead one is noticed ([Inspect]). [SSHCheck] proves what the
//     new ruleset does to the SSH connection in use, both ways, every hook
//     and table its packets traverse, for every value of what it cannot
//     know of the connection (the symbolic walk of check/space, which also
//     proves the policy's asserts), so that apply refuses a policy that
//     would cut it, naming the rule and a witness packet.
//
// # What fwc owns
//
// In nftables, the table `inet fwc` (backend/nft.Table) and nothing else.
// In routing, every ip rule and route whose protocol is [RouteProtocol]
// (70, 0x46, 'F'; unused in iproute2's rt_protos): `ip rule show proto 70`
// and `ip route show table all proto 70` list them. systemd-networkd and
// NetworkManager leave routes of foreign protocols alone (networkd's
// ManageForeignRoutes removes only those whose protocol is not its own when
// asked to, and fwc's rules are re-created by the next apply).
//
// An ip rule is installed per route and family (IPv4 and IPv6, so marked
// IPv6 packets are steered too): `fwmark MARK/MASK lookup TABLE priority P
// proto 70`. A route without a priority gets [DefaultPriority] plus its
// index among the policy's routes.
//
// With the iptables backend (iptables.go: ReadIptables, NewIptablesPlan,
// then Apply and the --confirm snapshot as above), fwc owns instead the
// iptables chains named fwc-* in every table, one jump to fwc-HOOK in each
// built-in chain the policy hooks, and the ipsets the policy declares;
// other programs' chains, rules and chain policies are never written to.
// coexist.go warns when docker's or kube-proxy's chains are in the
// namespace and the policy drops the traffic they forward.
//
// # Comparing with the kernel
//
// After an apply, the cache directory (Host.Cache, the --state-dir) keeps
// a record of it: the script it loaded (which holds every rule's
// "file:line"), the ruleset generation it committed, the kernel's handle
// of each rule, and, for a table of up to 2,000 rules and 20,000 set
// elements, a fingerprint of the table it made (its netlink dumps, table
// flags, stateful objects and flowtables included, without handles, rule
// comments, counter and quota values, element expiry times and the
// contents of dynamic sets). A larger table is not read back after the
// apply: the kernel's dump of a large set or chain costs more than
// loading it. A plan trusts the record
// while the generation has not moved (one GETGEN: every change to any
// table moves it). Then re-applying the same policy costs that one read
// and no write, and a changed policy is compared script against script,
// with no read of the table at all. Once the generation has moved, the
// file is not believed on its own word: the record counts only for the
// same policy, and only when the live table's fingerprint equals that of
// the policy's batch committed into a scratch namespace (some 0.1 s at
// 2,000 rules); a changed policy is then compared on listings. This matters because the kernel dumps a
// chain's rules in 32 KiB pieces and walks the chain from its start for
// each piece: reading a table of 50,000 rules takes 3 to 5 s, longer than
// loading it.
//
// Otherwise (no record, another policy's record, a table changed by
// someone else, or a changed policy or a large table after the generation
// moved) the
// comparison is made on nft's own listing (`nft -s list table inet fwc`):
// the live table's, and the wanted ruleset's, loaded with `nft -f` into a
// throwaway network namespace and listed there (cached by the script's
// checksum; a cached listing is loaded again before the plan says there is
// nothing to do). Both sides are thus in nft's canonical form, whatever
// built them, and the differences print as nft rules. nft is run from the
// system's directories only (/usr/sbin, /sbin, /usr/bin, /bin), never
// looked up in $PATH, and namespaces are entered in-process.
package apply

// Package limits is the one table, per backend, of what a checked policy
// can say that the backend cannot express: Nft for the nft backend (its
// text and its netlink batch alike), Iptables for iptables-restore and
// ip6tables-restore (with IpsetType, the ipset types iptables looks sets up
// in). Each refusal carries its diagnostic code (FW1901–FW1905, documented
// by check's capability pass), its words and the condition or action it
// refuses, so that every stage that asks says the same thing at the same
// place:
//
//   - check/passes/capability reports the refusals of the backends asked
//     for (fwc check --backend, fwc translate --to), or of every backend
//     as warnings, at file:line:col;
//   - backend/nft's text emitter and its netlink encoder, and
//     backend/restore, ask before writing a rule and leave out the rule
//     with that same diagnostic, so a policy built without the checker
//     (tests, fuzzing) still never becomes a different rule.
//
// Why a package of its own, right after policy, rather than the compile
// driver running each backend's own limits over the lowered ruleset for
// fwc check: the checker comes before ir and the backends and may import
// neither, and check's job is to judge the policy as written (with
// suppression comments, severities and positions of the conditions
// themselves), while the backends' emitters see rules after lowering and
// merging. A table over policy's conditions and actions serves both:
// the IR's rules hold the same values (package ir keeps policy's
// conditions and actions), so the checker and the emitters ask the same
// function about the same values. limits imports only policy (and ast and
// diag, which policy is built on); check and the backends import it.
//
// A backend's emitter keeps a last guard of its own (FW2001, FW2003) for
// what should never reach it; a policy that passes the checker for a
// backend makes no such diagnostic (internal/golden's FuzzBackends holds
// the two to that).
package limits

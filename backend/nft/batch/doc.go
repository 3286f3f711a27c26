// Package batch is fwc's nftables transport: it installs a whole ruleset as
// one atomic netlink transaction, guarded by the ruleset generation ID, and
// reports honestly whether the kernel applied it.
//
// It sits at the end of the pipeline, under `fwc apply`: the nft backend
// describes the ruleset with the github.com/google/nftables API, and this
// package gets it into the kernel.
//
// # How a commit works
//
// Callers queue operations on an ordinary *nftables.Conn inside the build
// function given to [Conn.Commit]. That Conn is wired to a capture instead of
// the kernel (google/nftables' test dialer), so Flush only hands over the
// encoded messages ([Capture]; a [Recorder] also takes messages the caller
// encoded itself, in order). Commit drops the batch begin and end that
// Flush wraps them in, and sends them itself on its own NETLINK_NETFILTER
// socket, as
//
//	NFNL_MSG_BATCH_BEGIN  NLM_F_ACK, NFNL_BATCH_GENID = the expected generation
//	... the caller's messages, with their NLM_F_ACK and NLM_F_ECHO removed ...
//	NFNL_MSG_BATCH_END    NLM_F_ACK
//
// in a single sendmsg(2). The kernel processes a batch synchronously, inside
// that call, so its whole answer is queued on the socket when the call
// returns, and Commit reads it without waiting. The answer is small whatever
// the batch size: the kernel reports errors whether or not a message asked
// for an ACK, so only the delimiters ask for one. (google/nftables v0.3.0
// asks for an ACK per message; a large batch overflows the receive buffer
// with them and Flush reports ENOBUFS after the kernel has committed.)
//
// # Outcomes
//
// Commit always says what happened, as an [Outcome]:
//
//   - ERESTART on the batch begin: the generation guard refused the batch
//     before looking at it. [NotApplied]; the error wraps
//     [ErrGenerationChanged].
//   - Since Linux 6.10 the kernel ACKs a delimiter that asks for it: the
//     begin's ACK whenever it processed the batch (after the error of a
//     failed commit, before the errors of refused messages), the end's ACK
//     only when it committed. Begin and end ACKed and no error: [Applied].
//     Begin ACKed and any error: the kernel aborted the whole batch, so
//     [NotApplied], with a [MessageError] per refused message.
//   - Otherwise the answer is incomplete (ENOBUFS on receive, a send error,
//     a kernel too old to ACK delimiters), and Commit re-reads the
//     generation: unchanged means [NotApplied]; one higher, and the ruleset
//     shows the tables, chains and rule counts the batch should have made,
//     means [Applied]; anything else is [Unknown]. Commit never guesses.
//
// # Reading back
//
// [Conn.Query] gives a google/nftables Conn in the same namespace for
// listing. Beware one kernel behaviour when reading back a large set right
// after loading it: while the kernel is still growing the set's hash table
// (a deferred resize, for some hundreds of milliseconds after a load of
// 100,000 elements), a dump of the set repeats some elements and skips
// others. Giving the set its expected Size when creating it lets the kernel
// size the table up front; otherwise read again until a dump has no
// duplicates. (Size is also the most elements the set will take.)
//
// # Kernel limits this package works around
//
// The socket send buffer must hold the whole batch (netlink refuses a message
// larger than it with EMSGSIZE; with default buffers that is about 580
// rules), so Commit sizes the send and receive buffers to each batch with
// SO_SNDBUFFORCE/SO_RCVBUFFORCE, falling back to SO_SNDBUF/SO_RCVBUF when not
// privileged. A set-element message whose element list exceeds 64 KiB wraps
// the 16-bit attribute length and silently loads only part of the elements;
// [AddSetElements] splits elements into messages that fit.
package batch

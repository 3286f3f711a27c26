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
// encoded messages. Commit then sends them itself on its own NETLINK_NETFILTER
// socket, as
//
//	NFNL_MSG_BATCH_BEGIN  (with NFNL_BATCH_GENID = the expected generation)
//	... the caller's messages, with their ACK and ECHO flags removed ...
//	NFNL_MSG_BATCH_END    (with NLM_F_ACK)
//
// in a single sendmsg(2). The kernel processes a batch synchronously in that
// call: it rejects it outright with ERESTART if the generation moved, reports
// an error for each message it refuses (and then aborts the whole batch), or
// commits. Because only the batch end asks for an ACK, the replies are a
// handful of messages whatever the batch size, instead of one ACK per message
// (google/nftables v0.3.0 asks for one per message, which overflows the
// receive buffer of a large batch and makes Flush report ENOBUFS after the
// kernel has already committed).
//
// # Outcomes
//
// Commit always says what happened, as an [Outcome]:
//
//   - The ACK of the batch end arrived after every error report, so when it
//     is seen the kernel's answer is complete: no errors means [Applied], any
//     error means the kernel aborted and nothing changed ([NotApplied]).
//   - ERESTART on the batch begin means the generation guard refused the batch
//     before looking at it: [NotApplied], and the error wraps
//     [ErrGenerationChanged].
//   - When the answer is incomplete (a send or receive error such as ENOBUFS,
//     or no batch-end ACK in time), Commit re-reads the generation: unchanged
//     means [NotApplied]; one higher, and the tables, chains and rule counts
//     the batch should have produced are there, means [Applied]; anything
//     else is [Unknown]. Commit never guesses.
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

package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// maxGuardRetries is how often Commit with genid 0 re-reads the generation
// and tries again when another writer commits between the read and the send.
const maxGuardRetries = 3

// Capture runs build on a google/nftables Conn that talks to nothing, flushes
// it, and returns the encoded messages build queued, without the batch begin
// and end that Flush wraps them in. Their flags are as google/nftables set
// them. Commit uses it; it is exported for tests and for printing a batch.
//
// build must only queue changes: queries on the Conn it is given (ListTables,
// GetRules, …) see an empty ruleset. Use Conn.Query to read the ruleset.
func Capture(build func(*nftables.Conn) error) ([]netlink.Message, error) {
	r, err := NewRecorder()
	if err != nil {
		return nil, err
	}
	if err := build(r.Conn); err != nil {
		return nil, err
	}
	return r.Messages()
}

// Recorder collects a batch: the messages queued on its google/nftables
// Conn, which talks to nothing, and messages encoded otherwise (Append), in
// the order they were queued. It is Capture for a caller that encodes some
// messages itself.
type Recorder struct {
	Conn *nftables.Conn
	msgs []netlink.Message
	got  []netlink.Message // what the Conn's Flush sent, nil if nothing
}

// NewRecorder returns an empty Recorder.
func NewRecorder() (*Recorder, error) {
	r := &Recorder{}
	nc, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		if req == nil {
			return nil, io.EOF // a read with nothing sent
		}
		// The messages are google/nftables' own, dropped by it after Flush:
		// no copy needed.
		r.got = req
		// Flush then reads one ACK per message, through mdlayher/netlink's
		// receive path (about a fifth of the allocations of encoding a
		// large batch) for nothing. ENOBUFS is the one error that makes it
		// stop at the first: "the kernel dropped the replies".
		return nil, syscall.ENOBUFS
	}), nftables.AsLasting()) // one test socket for every Flush
	if err != nil {
		return nil, err
	}
	r.Conn = nc
	return r, nil
}

// flush moves the messages queued on the Conn to the batch.
func (r *Recorder) flush() error {
	r.got = nil
	if err := r.Conn.Flush(); err != nil && !(r.got != nil && errors.Is(err, syscall.ENOBUFS)) {
		return fmt.Errorf("encode batch: %w", err)
	}
	if r.got == nil {
		return nil // nothing was queued
	}
	got := r.got
	first, last := got[0], got[len(got)-1]
	if len(got) < 2 || first.Header.Type != unix.NFNL_MSG_BATCH_BEGIN || last.Header.Type != unix.NFNL_MSG_BATCH_END {
		return fmt.Errorf("google/nftables Flush did not frame its %d messages as one batch", len(got))
	}
	for i, m := range got[1 : len(got)-1] {
		if m.Header.Type == unix.NFNL_MSG_BATCH_BEGIN || m.Header.Type == unix.NFNL_MSG_BATCH_END {
			return fmt.Errorf("message %d is a nested batch delimiter", len(r.msgs)+i)
		}
		m.Header.Sequence, m.Header.PID, m.Header.Length = 0, 0, 0
		r.msgs = append(r.msgs, m)
	}
	return nil
}

// Append adds m to the batch after everything queued so far.
func (r *Recorder) Append(m netlink.Message) error {
	if err := r.flush(); err != nil {
		return err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Messages returns the batch, with what is still queued on the Conn.
func (r *Recorder) Messages() ([]netlink.Message, error) {
	if err := r.flush(); err != nil {
		return nil, err
	}
	return r.msgs, nil
}

// Commit sends the changes that build queues as one atomic batch and reports
// what happened to the kernel ruleset.
//
// build gets a google/nftables Conn and queues changes on it with the usual
// API (AddTable, DelTable, AddChain, AddRule, AddSet, …; use AddSetElements
// for set elements). It must not call Flush. If build returns an error,
// nothing is sent and Commit returns NotApplied with that error.
//
// genid guards the batch: the kernel refuses it (ERESTART, reported as
// NotApplied with an error wrapping ErrGenerationChanged) unless the ruleset
// generation is still genid, typically the value Generation returned when
// the caller read the ruleset it based the batch on. With genid 0 there is
// no caller guard: Commit reads the generation itself just before sending and
// guards with that (retrying a few times if other writers race it), which
// keeps the outcome exact.
//
// The error is nil exactly when the outcome is Applied. A batch with no
// messages sends nothing and is Applied. On NotApplied the error describes
// why, with a *MessageError per message the kernel refused; on Unknown it
// says what is known.
func (c *Conn) Commit(genid uint32, build func(*nftables.Conn) error) (Outcome, error) {
	msgs, err := Capture(build)
	if err != nil {
		return NotApplied, err
	}
	return c.CommitMessages(genid, msgs)
}

// CommitMessages is Commit for messages already encoded, as Capture returns
// them (possibly adjusted by the caller): one atomic batch, guarded by genid
// as Commit describes.
func (c *Conn) CommitMessages(genid uint32, msgs []netlink.Message) (Outcome, error) {
	if len(msgs) == 0 {
		return Applied, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if genid != 0 {
		return c.commit(genid, msgs, nil)
	}
	for try := 1; ; try++ {
		pre, err := c.generation()
		if err != nil {
			return NotApplied, fmt.Errorf("read generation before commit: %w", err)
		}
		out, err := c.commit(pre, msgs, nil)
		if !errors.Is(err, ErrGenerationChanged) || try == maxGuardRetries {
			return out, err
		}
	}
}

// commit sends msgs guarded by pre, the generation the batch is based on.
// With ec set, the messages it names keep NLM_F_ECHO and the kernel's
// echoes of them are collected into it.
func (c *Conn) commit(pre uint32, msgs []netlink.Message, ec *echoes) (Outcome, error) {
	n := len(msgs)
	first := c.nextSeq(n + 2)
	beginSeq, endSeq := first, first+uint32(n)+1

	genAttr := make([]byte, 8)
	binary.NativeEndian.PutUint16(genAttr[0:], 8)
	binary.NativeEndian.PutUint16(genAttr[2:], unix.NFNL_BATCH_GENID)
	binary.BigEndian.PutUint32(genAttr[4:], pre)

	out := make([]netlink.Message, 0, n+2)
	out = append(out, netlink.Message{
		Header: netlink.Header{Type: unix.NFNL_MSG_BATCH_BEGIN, Flags: netlink.Request | netlink.Acknowledge, Sequence: beginSeq},
		Data:   append(nfgenmsg(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES), genAttr...),
	})
	size := 16 + 12
	for i, m := range msgs {
		m.Header.Flags &^= netlink.Acknowledge | netlink.Echo
		if ec != nil && ec.want[i] {
			m.Header.Flags |= netlink.Echo
		}
		m.Header.Sequence = first + 1 + uint32(i)
		m.Header.PID, m.Header.Length = 0, 0
		out = append(out, m)
		size += 16 + (len(m.Data)+3)&^3
	}
	out = append(out, netlink.Message{
		Header: netlink.Header{Type: unix.NFNL_MSG_BATCH_END, Flags: netlink.Request | netlink.Acknowledge, Sequence: endSeq},
		Data:   nfgenmsg(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES),
	})
	size += 16 + 4

	replyRoom := n + 2
	if ec != nil {
		// An echo carries the whole object: room for some 8 KiB each.
		replyRoom += 8 * len(ec.want)
	}
	if err := c.sizeBuffers(size, replyRoom); err != nil {
		return NotApplied, err
	}
	c.drain()

	if err := c.send(out, size); err != nil {
		err = fmt.Errorf("send batch of %d messages (%d bytes): %w", n, size, err)
		if errors.Is(err, syscall.EMSGSIZE) {
			err = fmt.Errorf("%w (the socket send buffer is too small; run as root or raise net.core.wmem_max)", err)
		}
		return c.resolve(pre, msgs, err)
	}

	// The kernel processes the batch inside sendmsg(2), so its whole answer
	// is queued on the socket by now: read what is there, without waiting.
	// A read error (ENOBUFS: the kernel dropped replies) means the answer is
	// incomplete.
	replies, rerr := c.readPending()

	// Since Linux 6.10 the kernel ACKs batch delimiters that ask for it: the
	// begin's ACK is sent whenever the batch was processed (after the error
	// of a failed commit, if any, and before the errors of refused
	// messages), the end's ACK only when the batch was committed.
	var (
		refused          []int // indexes into msgs
		refusedErr       []syscall.Errno
		commitErr        error
		beginAck, endAck bool
	)
	if ec != nil {
		ec.collect(replies, first+1, n)
	}
	for _, r := range replies {
		seq, code, ok := ackOf(r)
		if !ok {
			continue
		}
		switch off := seq - beginSeq; { // wraps like the sequence numbers
		case off == 0 && code == syscall.ERESTART:
			// Refused before processing.
			now, gerr := c.generation()
			if gerr != nil {
				return NotApplied, fmt.Errorf("%w: batch based on generation %d refused by the kernel", ErrGenerationChanged, pre)
			}
			return NotApplied, fmt.Errorf("%w: batch based on generation %d, ruleset is now at %d", ErrGenerationChanged, pre, now)
		case off == 0 && code == 0:
			beginAck = true
		case off == 0:
			commitErr = code
		case off == uint32(n)+1 && code == 0:
			endAck = true
		case off == uint32(n)+1:
			commitErr = code
		case off <= uint32(n) && code != 0:
			refused = append(refused, int(off-1))
			refusedErr = append(refusedErr, code)
		}
	}
	if endAck && commitErr == nil && len(refused) == 0 {
		return Applied, nil // the end's ACK is only sent after a commit
	}
	if rerr != nil {
		return c.resolve(pre, msgs, fmt.Errorf("receive the kernel's answer: %w", rerr))
	}
	msgErrs := make([]error, len(refused))
	if len(refused) > 0 {
		infos := make([]msgInfo, n)
		ruleIdx := map[chainKey]int{}
		for i, m := range msgs {
			infos[i] = decodeMsg(m)
			if infos[i].typ == unix.NFT_MSG_NEWRULE {
				k := chainKey{tableKey{infos[i].family, infos[i].table}, infos[i].object}
				infos[i].rule = ruleIdx[k]
				ruleIdx[k]++
			}
		}
		for k, i := range refused {
			in := infos[i]
			msgErrs[k] = &MessageError{Index: i, Op: in.op(), Family: in.family, Table: in.table,
				Object: in.object, Rule: in.rule, Err: refusedErr[k]}
		}
	}
	failed := commitErr != nil || len(msgErrs) > 0
	switch {
	case !beginAck && commitErr != nil:
		// Refused before processing for another reason than the guard.
		return NotApplied, fmt.Errorf("batch of %d messages refused: %w", n, commitErr)
	case !beginAck:
		// A kernel older than 6.10, which does not ACK batch delimiters.
		return c.resolve(pre, msgs, errors.New("the kernel did not acknowledge the batch"))
	case !failed:
		return c.resolve(pre, msgs, errors.New("the kernel acknowledged the batch begin but not its end"))
	}
	// The kernel aborts a batch in which any message fails, and reports a
	// failed commit on the batch begin; either way nothing was applied.
	errs := msgErrs
	const maxShown = 20
	if len(errs) > maxShown {
		errs = append(errs[:maxShown:maxShown], fmt.Errorf("and %d more refused messages", len(msgErrs)-maxShown))
	}
	if commitErr != nil {
		errs = append([]error{fmt.Errorf("commit: %w", commitErr)}, errs...)
	}
	return NotApplied, fmt.Errorf("batch of %d messages not applied: %w", n, errors.Join(errs...))
}

// send encodes msgs into one buffer of size bytes and sends it with a single
// sendmsg(2), which is what makes them one batch. (netlink.Conn.SendMessages
// would do the same, but grows its buffer by appending, which costs about a
// tenth of a 50,000-rule commit.)
func (c *Conn) send(msgs []netlink.Message, size int) error {
	buf := make([]byte, 0, size)
	for _, m := range msgs {
		l := 16 + len(m.Data)
		buf = binary.NativeEndian.AppendUint32(buf, uint32(l))
		buf = binary.NativeEndian.AppendUint16(buf, uint16(m.Header.Type))
		buf = binary.NativeEndian.AppendUint16(buf, uint16(m.Header.Flags))
		buf = binary.NativeEndian.AppendUint32(buf, m.Header.Sequence)
		buf = binary.NativeEndian.AppendUint32(buf, c.nl.PID())
		buf = append(buf, m.Data...)
		for range (l+3)&^3 - l {
			buf = append(buf, 0)
		}
	}
	if len(buf) != size {
		return fmt.Errorf("internal error: encoded %d bytes, computed %d", len(buf), size)
	}
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("sendto", serr)
	}
	return nil
}

// ackOf decodes an NLMSG_ERROR reply: the sequence number of the message it
// answers and its error number (0 for an ACK).
func ackOf(m netlink.Message) (seq uint32, code syscall.Errno, ok bool) {
	if m.Header.Type != netlink.Error || len(m.Data) < 4+16 {
		return 0, 0, false
	}
	e := int32(binary.NativeEndian.Uint32(m.Data[0:4]))
	return m.Header.Sequence, syscall.Errno(-e), true
}

// readPending returns the messages queued on the socket, reading without
// blocking until none is left. A receive error (ENOBUFS when the kernel had
// to drop replies) is returned after reading the rest.
func (c *Conn) readPending() ([]netlink.Message, error) {
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		out  []netlink.Message
		rerr error
		buf  = make([]byte, 64<<10)
	)
	cerr := rc.Control(func(fd uintptr) {
		for {
			n, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT|unix.MSG_PEEK|unix.MSG_TRUNC)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return
			case err != nil:
				rerr = errors.Join(rerr, os.NewSyscallError("recvfrom", err))
				if err != unix.ENOBUFS {
					return
				}
				continue
			}
			if n > len(buf) {
				buf = make([]byte, n)
			}
			n, _, err = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			if err != nil {
				continue
			}
			b := buf[:n]
			for len(b) >= 16 {
				l := int(binary.NativeEndian.Uint32(b))
				if l < 16 || l > len(b) {
					break
				}
				out = append(out, netlink.Message{
					Header: netlink.Header{
						Length:   uint32(l),
						Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:])),
						Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:])),
						Sequence: binary.NativeEndian.Uint32(b[8:]),
						PID:      binary.NativeEndian.Uint32(b[12:]),
					},
					Data: append([]byte(nil), b[16:l]...),
				})
				b = b[min((l+3)&^3, len(b)):]
			}
		}
	})
	if cerr != nil {
		return out, cerr
	}
	return out, rerr
}

// drain discards replies left on the socket by an earlier, abandoned
// exchange, so that they are not taken for this batch's answer. It reads
// with MSG_DONTWAIT: a read deadline in the past would not read at all.
func (c *Conn) drain() {
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	_ = rc.Control(func(fd uintptr) {
		for range 1 << 16 {
			_, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			if err != nil && err != unix.ENOBUFS && err != unix.EINTR {
				return // EAGAIN: nothing left
			}
		}
	})
}

// resolve decides the outcome of a batch whose answer from the kernel is
// missing or incomplete, from the generation: unchanged means nothing was
// committed; one more, with the ruleset showing what the batch should have
// made, means the batch was committed; anything else is unknown.
func (c *Conn) resolve(pre uint32, msgs []netlink.Message, cause error) (Outcome, error) {
	c.drain()
	now, err := c.generation()
	if err != nil {
		return Unknown, fmt.Errorf("%w; then reading the generation failed: %v", cause, err)
	}
	if now == pre {
		return NotApplied, fmt.Errorf("%w; the generation is still %d, so nothing was committed", cause, pre)
	}
	if now != pre+1 {
		return Unknown, fmt.Errorf("%w; the generation moved from %d to %d, so others committed too", cause, pre, now)
	}
	infos := make([]msgInfo, len(msgs))
	for i, m := range msgs {
		infos[i] = decodeMsg(m)
	}
	exp := expect(infos)
	if exp.empty() {
		return Unknown, fmt.Errorf("%w; the generation moved from %d to %d, and the batch changes nothing that can be checked", cause, pre, now)
	}
	q, err := c.Query()
	if err != nil {
		return Unknown, fmt.Errorf("%w; generation %d→%d, and checking the ruleset failed: %v", cause, pre, now, err)
	}
	diff, err := exp.mismatch(q, c.countRules)
	switch {
	case err != nil:
		return Unknown, fmt.Errorf("%w; generation %d→%d, and checking the ruleset failed: %v", cause, pre, now, err)
	case diff != "":
		return Unknown, fmt.Errorf("%w; generation %d→%d, but the ruleset does not show this batch (%s)", cause, pre, now, diff)
	}
	// Applied: the kernel has it, whatever went wrong on the way back.
	return Applied, nil
}

// countRules counts the rules of one chain with a GETRULE dump, without
// decoding their expressions.
func (c *Conn) countRules(k chainKey) (int, error) {
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_RULE_TABLE, Data: append([]byte(k.tableKey.name), 0)},
		{Type: unix.NFTA_RULE_CHAIN, Data: append([]byte(k.name), 0)},
	})
	if err != nil {
		return 0, err
	}
	req := netlink.Message{
		Header: netlink.Header{
			Type:     netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags:    netlink.Request | netlink.Dump,
			Sequence: c.nextSeq(1),
		},
		Data: append(nfgenmsg(uint8(k.family), 0), attrs...),
	}
	if err := c.nl.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	defer func() { _ = c.nl.SetReadDeadline(time.Time{}) }()
	if _, err := c.nl.Send(req); err != nil {
		return 0, err
	}
	count := 0
	for m, err := range c.nl.ReceiveIter() {
		if err != nil {
			return 0, fmt.Errorf("dump rules of %s: %w", k.name, err)
		}
		if m.Header.Sequence == req.Header.Sequence && uint16(m.Header.Type)&0xff == unix.NFT_MSG_NEWRULE {
			count++
		}
	}
	return count, nil
}

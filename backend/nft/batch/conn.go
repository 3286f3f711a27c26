package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Conn is a netlink connection to nftables in one network namespace. It is
// safe for concurrent use; commits on one Conn are serialised.
type Conn struct {
	mu      sync.Mutex
	nl      *netlink.Conn
	nsFD    int // -1: the namespace Open was called in
	ownNSFD bool
	timeout time.Duration
	seq     uint32
	sndbuf  int // the send buffer size last asked for, 0 if never
	rcvbuf  int
	rbuf    []byte // request's receive buffer, made on first use
}

// Option configures Open.
type Option func(*options) error

type options struct {
	nsFD    int
	ownNSFD bool
	timeout time.Duration
}

// WithNetNS opens the Conn in the network namespace referenced by fd (an open
// /proc/PID/ns/net, /run/netns/NAME or netns handle). The caller keeps
// ownership of fd and must keep it open while the Conn is in use. A negative
// fd means the current namespace.
func WithNetNS(fd int) Option {
	return func(o *options) error {
		o.nsFD = fd
		return nil
	}
}

// WithNetNSPath opens the Conn in the network namespace bound at path. A path
// without a slash is a name made by `ip netns add` and is looked up in
// /run/netns. An empty path means the current namespace.
func WithNetNSPath(path string) Option {
	return func(o *options) error {
		if path == "" {
			return nil
		}
		if filepath.Base(path) == path {
			path = filepath.Join("/run/netns", path)
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open network namespace %s: %w", path, err)
		}
		o.nsFD, o.ownNSFD = fd, true
		return nil
	}
}

// WithReplyTimeout bounds how long a query (Generation, and the ruleset
// checks Commit makes when the kernel's answer to a batch was lost) waits for
// the kernel (default 30 s). Commit itself never waits: the kernel processes
// a batch within the send call, so its answer is queued by the time the
// send returns.
func WithReplyTimeout(d time.Duration) Option {
	return func(o *options) error {
		o.timeout = d
		return nil
	}
}

// Open opens a NETLINK_NETFILTER socket for nftables, in the current network
// namespace unless an option names another. Close it when done.
func Open(opts ...Option) (*Conn, error) {
	o := options{nsFD: -1, timeout: 30 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			if o.ownNSFD {
				_ = unix.Close(o.nsFD)
			}
			return nil, err
		}
	}
	c := &Conn{nsFD: o.nsFD, ownNSFD: o.ownNSFD, timeout: o.timeout, seq: uint32(time.Now().UnixNano())}
	cfg := &netlink.Config{}
	if c.nsFD >= 0 {
		cfg.NetNS = c.nsFD
	}
	nl, err := netlink.Dial(unix.NETLINK_NETFILTER, cfg)
	if err != nil {
		c.closeNS()
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	c.nl = nl
	// Capped ACKs keep each error reply to a header instead of a copy of the
	// refused message. Extended ACKs stay off: nftables gives no message
	// text, only an attribute offset, and mdlayher/netlink v1.11.2 misreads
	// extended ACKs that are capped ("not enough data for netlink error
	// code").
	_ = nl.SetOption(netlink.CapAcknowledge, true)
	return c, nil
}

// Close closes the socket, and the namespace handle if Open opened it.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.nl.Close()
	c.closeNS()
	return err
}

func (c *Conn) closeNS() {
	if c.ownNSFD && c.nsFD >= 0 {
		_ = unix.Close(c.nsFD)
		c.nsFD = -1
	}
}

// Query returns a google/nftables connection in the same network namespace,
// for reading the ruleset back (ListTables, ListChains, GetRules, GetSets,
// GetSetElements, …). It opens a socket per call; it is valid until Close.
// Do not use it to change the ruleset: that is what Commit is for.
func (c *Conn) Query() (*nftables.Conn, error) {
	if c.nsFD >= 0 {
		return nftables.New(nftables.WithNetNSFd(c.nsFD))
	}
	return nftables.New()
}

func (c *Conn) nextSeq(n int) uint32 {
	first := c.seq + 1
	if first == 0 {
		first = 1
	}
	c.seq = first + uint32(n)
	return first
}

// Generation returns the current ruleset generation ID. Every committed
// batch, whoever sends it, increments it.
func (c *Conn) Generation() (uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation()
}

func (c *Conn) generation() (uint32, error) {
	req := netlink.Message{
		Header: netlink.Header{
			Type:     netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN),
			Flags:    netlink.Request,
			Sequence: c.nextSeq(1),
		},
		Data: nfgenmsg(unix.AF_UNSPEC, 0),
	}
	if err := c.nl.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	defer func() { _ = c.nl.SetReadDeadline(time.Time{}) }()
	if _, err := c.nl.Send(req); err != nil {
		return 0, fmt.Errorf("send NFT_MSG_GETGEN: %w", err)
	}
	for {
		msgs, err := c.nl.Receive()
		if err != nil {
			return 0, fmt.Errorf("receive NFT_MSG_NEWGEN: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Sequence != req.Header.Sequence {
				continue // a stale reply to an earlier request
			}
			if m.Header.Type != netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWGEN) || len(m.Data) < 4 {
				return 0, fmt.Errorf("unexpected reply %v to NFT_MSG_GETGEN", m.Header.Type)
			}
			ad, err := netlink.NewAttributeDecoder(m.Data[4:])
			if err != nil {
				return 0, err
			}
			ad.ByteOrder = binary.BigEndian
			for ad.Next() {
				if ad.Type() == unix.NFTA_GEN_ID {
					return ad.Uint32(), nil
				}
			}
			if err := ad.Err(); err != nil {
				return 0, err
			}
			return 0, errors.New("NFT_MSG_NEWGEN without NFTA_GEN_ID")
		}
	}
}

// sizeBuffers makes the socket buffers large enough for a batch of size bytes
// and n messages. Netlink refuses a send larger than the send buffer
// (EMSGSIZE). The receive buffer must hold the error replies: at most one per
// message, each charged at its allocation size (under 1 KiB with capped
// ACKs). Buffers are only grown.
func (c *Conn) sizeBuffers(size, n int) error {
	const maxBuf = 1 << 30 // the kernel caps at INT_MAX/2 anyway
	snd := min(size+64<<10, maxBuf)
	rcv := min(max(n*1024, 1<<20), maxBuf)
	if snd > c.sndbuf {
		if err := c.setBuf(unix.SO_SNDBUFFORCE, snd, c.nl.SetWriteBuffer); err != nil {
			return fmt.Errorf("set send buffer to %d bytes: %w", snd, err)
		}
		c.sndbuf = snd
	}
	if rcv > c.rcvbuf {
		if err := c.setBuf(unix.SO_RCVBUFFORCE, rcv, c.nl.SetReadBuffer); err != nil {
			return fmt.Errorf("set receive buffer to %d bytes: %w", rcv, err)
		}
		c.rcvbuf = rcv
	}
	return nil
}

// setBuf tries the privileged *BUFFORCE option, which ignores the
// net.core.[rw]mem_max limits, and falls back to the ordinary one, which the
// kernel silently caps at those limits.
func (c *Conn) setBuf(force, size int, fallback func(int) error) error {
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, force, size)
	}); err != nil {
		return err
	}
	if serr == nil {
		return nil
	}
	if !errors.Is(serr, syscall.EPERM) {
		return os.NewSyscallError("setsockopt", serr)
	}
	return fallback(size)
}

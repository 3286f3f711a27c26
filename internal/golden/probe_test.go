package golden_test

// The probe helper: the test binary re-executed inside a namespace (with
// `ip netns exec NS /proc/self/exe`) as a listener or a dialer, so the
// packet tests need no tools beyond iproute2 and ping.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// envProbe selects the helper's mode in a re-executed test binary.
const envProbe = "FWC_PROBE"

func TestMain(m *testing.M) {
	switch os.Getenv(envProbe) {
	case "":
		os.Exit(m.Run())
	case "serve":
		serve(os.Args[1:])
	case "dial":
		dial(false)
	case "dial-seq":
		dial(true)
	case "write":
		// write PATH VALUE: a sysctl of the namespace (ip_forward).
		if err := os.WriteFile(os.Args[1], []byte(os.Args[2]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// serve NAME tcp:PORT,... udp:PORT,... listens on every address of the
// namespace and answers each TCP connection and UDP datagram with
// "NAME PEER-ADDRESS", then prints "ready" and runs until killed.
func serve(args []string) {
	name := args[0]
	for _, a := range args[1:] {
		proto, port, _ := strings.Cut(a, ":")
		switch proto {
		case "tcp":
			l, err := net.Listen("tcp", ":"+port)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					ap, _ := netipOf(c.RemoteAddr())
					fmt.Fprintf(c, "%s %s\n", name, ap)
					c.Close()
				}
			}()
		case "udp":
			pc, err := net.ListenPacket("udp", ":"+port)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			go func() {
				buf := make([]byte, 512)
				for {
					_, from, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					ap, _ := netipOf(from)
					fmt.Fprintf(writerTo{pc, from}, "%s %s\n", name, ap)
				}
			}()
		}
	}
	fmt.Println("ready")
	select {}
}

type writerTo struct {
	pc   net.PacketConn
	addr net.Addr
}

func (w writerTo) Write(b []byte) (int, error) { return w.pc.WriteTo(b, w.addr) }

func netipOf(a net.Addr) (string, error) {
	host, _, err := net.SplitHostPort(a.String())
	return strings.TrimPrefix(host, "::ffff:"), err
}

// probe is one connection attempt; its outcome is "open NAME PEER" (the
// server that answered and the source address it saw), "refused" (TCP
// reset or ICMP port unreachable), "unreachable" (ICMP host or admin
// prohibited), or "timeout" (dropped).
type probe struct {
	Proto string // tcp or udp
	Src   string // source address
	Dst   string // destination address
	Port  int
}

func (p probe) String() string {
	if p.Proto == "icmp" {
		return fmt.Sprintf("icmp echo %s -> %s", p.Src, p.Dst)
	}
	return fmt.Sprintf("%s %s -> %s", p.Proto, p.Src, net.JoinHostPort(p.Dst, strconv.Itoa(p.Port)))
}

// probeTimeout bounds every probe: a dropped packet is one that got no
// answer within it.
const probeTimeout = time.Second

// dial reads probes as JSON from stdin, runs them all at once (or one
// after the other with seq, for probes that share a rate limit) and prints
// their outcomes as a JSON list in the same order.
func dial(seq bool) {
	var ps []probe
	if err := json.NewDecoder(bufio.NewReader(os.Stdin)).Decode(&ps); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := make([]string, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		if seq {
			out[i] = p.run()
			continue
		}
		wg.Go(func() { out[i] = p.run() })
	}
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func (p probe) run() string {
	d := net.Dialer{Timeout: probeTimeout}
	dst := net.JoinHostPort(p.Dst, strconv.Itoa(p.Port))
	var c net.Conn
	var err error
	switch p.Proto {
	case "tcp":
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.Src)}
		c, err = d.Dial("tcp", dst)
	case "udp":
		d.LocalAddr = &net.UDPAddr{IP: net.ParseIP(p.Src)}
		c, err = d.Dial("udp", dst)
		if err == nil {
			_, err = c.Write([]byte("probe\n"))
		}
	case "icmp":
		return p.echo()
	default:
		return "bad protocol " + p.Proto
	}
	if err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(probeTimeout))
		var line string
		line, err = bufio.NewReader(c).ReadString('\n')
		if err == nil {
			return "open " + strings.TrimSpace(line)
		}
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EACCES):
		return "unreachable"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "error " + err.Error()
}

// echo sends one ICMP or ICMPv6 echo request from Src to Dst on a raw
// socket and waits for the answer: "reply", "unreachable" for a
// destination-unreachable error about it, else "timeout".
func (p probe) echo() string {
	src, dst := net.ParseIP(p.Src), net.ParseIP(p.Dst)
	network, reqType, proto := "ip4:icmp", icmp.Type(ipv4.ICMPTypeEcho), 1
	if dst.To4() == nil {
		network, reqType, proto = "ip6:ipv6-icmp", ipv6.ICMPTypeEchoRequest, 58
	}
	c, err := icmp.ListenPacket(network, src.String())
	if err != nil {
		return "error " + err.Error()
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("fwc probe")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return "error " + err.Error()
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: dst}); err != nil {
		return "error " + err.Error()
	}
	deadline := time.Now().Add(probeTimeout)
	buf := make([]byte, 1500)
	for {
		_ = c.SetReadDeadline(deadline)
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return "timeout"
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		switch body := m.Body.(type) {
		case *icmp.Echo:
			if body.ID == id && from.(*net.IPAddr).IP.Equal(dst) &&
				(m.Type == ipv4.ICMPTypeEchoReply || m.Type == ipv6.ICMPTypeEchoReply) {
				return "reply"
			}
		case *icmp.DstUnreach:
			// Only the test's own packets travel in its namespaces.
			return "unreachable"
		}
	}
}

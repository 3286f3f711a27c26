package apply

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
)

// Host is a connection to the kernel state fwc manages in one network
// namespace: nftables (through backend/nft/batch and the nft tool) and
// routing (through netlink).
type Host struct {
	// NetNS is the namespace path ("" for the current namespace).
	NetNS string
	// Cache is a directory where plans keep what saves time the next
	// time (the listing of the last policy, the fingerprint of the last
	// apply); "" for none.
	Cache string

	nft   *batch.Conn
	route *netlink.Handle
	ns    netns.NsHandle
}

// NetNSPath returns the path of a namespace given as a name made by `ip
// netns add` (looked up in /run/netns) or as a path, made absolute (the
// path is handed to the confirm watchdog, which runs in "/"); "" stays "".
func NetNSPath(name string) string {
	if name == "" {
		return name
	}
	if strings.ContainsRune(name, '/') {
		if abs, err := filepath.Abs(name); err == nil {
			return abs
		}
		return name
	}
	return filepath.Join("/run/netns", name)
}

// Open connects to the namespace named by netnsName (see NetNSPath), or to
// the current one when it is empty.
func Open(netnsName string) (*Host, error) {
	h := &Host{NetNS: NetNSPath(netnsName), ns: -1}
	if h.NetNS != "" {
		if _, err := os.Stat(h.NetNS); err != nil {
			return nil, fmt.Errorf("network namespace %s: %w", netnsName, err)
		}
	}
	var err error
	if h.nft, err = batch.Open(batch.WithNetNSPath(h.NetNS)); err != nil {
		return nil, err
	}
	if h.NetNS == "" {
		h.route, err = netlink.NewHandle()
	} else {
		if h.ns, err = netns.GetFromPath(h.NetNS); err == nil {
			h.route, err = netlink.NewHandleAt(h.ns)
		}
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("open routing netlink socket: %w", err)
	}
	return h, nil
}

// Close releases the sockets.
func (h *Host) Close() {
	if h.nft != nil {
		_ = h.nft.Close()
	}
	if h.route != nil {
		h.route.Close()
	}
	if h.ns >= 0 {
		_ = h.ns.Close()
	}
}

// Batch returns the nftables connection.
func (h *Host) Batch() *batch.Conn { return h.nft }

// Routing returns the routing netlink handle.
func (h *Host) Routing() *netlink.Handle { return h.route }

// nftDirs are where fwc looks for the nft tool, in order. Never $PATH:
// fwc runs as root, and whoever set its environment (a sudo rule keeping
// PATH, a service file, a CI job) must not choose the program that lists
// and restores the firewall.
var nftDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// nftPath returns the nft tool to run (see systemTool).
func nftPath() (string, error) { return systemTool("nft") }

// systemTool returns the program name to run (nft, iptables-restore,
// ipset, ...): the first one in nftDirs that is a regular executable
// file, in a directory, owned by root and writable by nobody else.
func systemTool(name string) (string, error) {
	var refused []string
	for _, d := range nftDirs {
		p := filepath.Join(d, name)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		dst, err := os.Stat(d)
		if err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 || !rootOnly(st) || !rootOnly(dst) {
			refused = append(refused, p)
			continue
		}
		return p, nil
	}
	if len(refused) > 0 {
		return "", fmt.Errorf("no trusted %s: %s is not a root-owned executable that only root can write", name, strings.Join(refused, ", "))
	}
	return "", fmt.Errorf("%s is not installed (looked in %s)", name, strings.Join(nftDirs, ", "))
}

// rootOnly reports whether a file is owned by root and writable by no one
// else.
func rootOnly(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == 0 && st.Mode()&0o022 == 0
}

// nftCmd runs nft with args inside the host's namespace, with stdin, and
// returns its standard output. runCmd sets TZ=UTC: the scripts fwc writes
// carry times as numbers, which nft stores the same under any zone, but
// nft lists times of day and dates in its zone and reads them back in it
// (restoreTable reloads a listing). One fixed zone without daylight saving
// keeps a listing comparable with canonical's (cached on disk, across
// runs) and its reload exact.
func (h *Host) nftCmd(stdin []byte, args ...string) ([]byte, error) {
	return h.tool(stdin, "nft", args...)
}

// inNetNS runs f with the calling thread in the network namespace ns (or,
// when fresh is set, in a new, empty one that lives as long as the
// processes f starts and no longer); a process f starts is born there. With
// ns < 0 and fresh unset, f runs as it is. Switching a thread in-process
// (setns, unshare) takes the place of nsenter and a shell: no other
// program is run, and none is looked up.
func inNetNS(ns netns.NsHandle, fresh bool, f func() error) error {
	if ns < 0 && !fresh {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it ends with this goroutine, so
		// no other goroutine ever runs in the namespace it was moved to.
		runtime.LockOSThread()
		var err error
		if fresh {
			err = unix.Unshare(unix.CLONE_NEWNET)
		} else {
			err = netns.Set(ns)
		}
		if err != nil {
			errc <- fmt.Errorf("enter the network namespace: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func runCmd(cmd *exec.Cmd, stdin []byte) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			return out.Bytes(), fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
		}
		return out.Bytes(), fmt.Errorf("%s: %w: %s", cmd.Args[0], err, msg)
	}
	return out.Bytes(), nil
}

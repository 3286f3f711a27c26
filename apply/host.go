package apply

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
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

// nftCmd runs nft with args inside the host's namespace, with stdin, and
// returns its standard output. TZ=UTC: nft converts times of day with its
// local zone, and fwc policies mean UTC.
func (h *Host) nftCmd(stdin []byte, args ...string) ([]byte, error) {
	argv := append([]string{"nft"}, args...)
	if h.NetNS != "" {
		argv = append([]string{"nsenter", "--net=" + h.NetNS}, argv...)
	}
	return runCmd(exec.Command(argv[0], argv[1:]...), stdin)
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

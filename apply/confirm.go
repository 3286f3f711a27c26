package apply

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultStateDir is where apply --confirm keeps its snapshot.
const DefaultStateDir = "/var/lib/fwc"

// Pending is an apply waiting for confirmation, as written to disk before
// the apply: the state to go back to, and until when.
type Pending struct {
	// Token tells this apply from a later one.
	Token string `json:"token"`
	// NetNS is the namespace path ("" for the host's own).
	NetNS    string    `json:"netns"`
	Deadline time.Time `json:"deadline"`
	// Table is the previous listing of fwc's table ("" when there was
	// none); Routing the previous ip rules and routes.
	Table   string  `json:"table"`
	Routing Routing `json:"routing"`
}

// ErrNothingPending is returned by Confirm when no apply waits for
// confirmation (none was made, it was confirmed already, or the watchdog
// has rolled it back).
var ErrNothingPending = errors.New("no apply is waiting for confirmation")

// ErrPending is returned by Snapshot when an earlier apply is still waiting
// for confirmation: its snapshot must not be overwritten by one of an
// unconfirmed state.
var ErrPending = errors.New("an earlier apply --confirm is still waiting for confirmation")

// pendingPath is the snapshot file for a namespace in dir.
func pendingPath(dir, netns string) string {
	name := "host"
	if netns != "" {
		name = "netns-" + strings.NewReplacer("/", "_").Replace(strings.TrimPrefix(netns, "/"))
	}
	return filepath.Join(dir, "pending-"+name+".json")
}

// lock takes an exclusive lock on dir/lock; call the function to release.
func lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// Snapshot writes have, the state before an apply, to dir as the pending
// apply of h's namespace, to be rolled back at deadline. It is durable
// (fsynced) when Snapshot returns. It fails with ErrPending if an earlier
// apply waits for confirmation.
func Snapshot(dir string, h *Host, have *State, deadline time.Time) (*Pending, error) {
	unlock, err := lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := pendingPath(dir, h.NetNS)
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%w (%s)", ErrPending, path)
	}
	tok := make([]byte, 8)
	_, _ = rand.Read(tok)
	p := &Pending{Token: hex.EncodeToString(tok), NetNS: h.NetNS, Deadline: deadline, Table: have.Table.Text, Routing: have.Routing}
	data, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	return p, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readPending(path string) (*Pending, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &Pending{}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Discard removes the pending apply p without rolling back (the apply it
// guarded did not happen).
func Discard(dir string, p *Pending) error {
	unlock, err := lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	path := pendingPath(dir, p.NetNS)
	if cur, err := readPending(path); err == nil && cur.Token == p.Token {
		return os.Remove(path)
	}
	return nil
}

// Confirm keeps the state of the apply waiting for confirmation in the
// namespace netns (a name or path, "" for the host's own): the watchdog
// finds nothing to roll back. It returns the confirmed apply, or
// ErrNothingPending.
func Confirm(dir, netns string) (*Pending, error) {
	unlock, err := lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := pendingPath(dir, NetNSPath(netns))
	p, err := readPending(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNothingPending
	}
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	return p, syncDir(dir)
}

// Rollback restores p's state: fwc's table and ip rules and routes as they
// were before the apply.
func Rollback(p *Pending) error {
	h, err := Open(p.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	var errs []error
	if err := h.restoreTable(p.Table); err != nil {
		errs = append(errs, fmt.Errorf("restore the nftables table: %w", err))
	}
	now, err := readRouting(h.route)
	if err != nil {
		errs = append(errs, err)
	} else if err := applyRouting(h.route, routingSteps(now, p.Routing)); err != nil {
		errs = append(errs, fmt.Errorf("restore routing: %w", err))
	}
	return errors.Join(errs...)
}

// Watch is the watchdog: it waits until the deadline of the pending apply
// with token in dir for namespace netns, and rolls it back unless it was
// confirmed (or replaced) by then. It returns nil when there was nothing to
// do or the rollback succeeded; rolledBack says whether it rolled back.
func Watch(dir, netns, token string) (rolledBack bool, err error) {
	path := pendingPath(dir, NetNSPath(netns))
	for {
		p, err := readPending(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // confirmed
		}
		if err != nil {
			return false, err
		}
		if p.Token != token {
			return false, nil // another apply's
		}
		left := time.Until(p.Deadline)
		if left <= 0 {
			break
		}
		time.Sleep(min(left, 100*time.Millisecond))
	}
	unlock, err := lock(dir)
	if err != nil {
		return false, err
	}
	defer unlock()
	p, err := readPending(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && p.Token != token {
		return false, nil // confirmed at the last moment
	}
	if err != nil {
		return false, err
	}
	rerr := Rollback(p)
	if rerr != nil {
		// Keep the snapshot: the operator can look at it, and a rerun of
		// the watchdog can try again.
		return false, rerr
	}
	if err := os.Remove(path); err != nil {
		return true, err
	}
	return true, nil
}

// StartWatchdog starts argv (a command that calls Watch, such as `fwc
// confirm --watchdog ...`) as a detached process: a new session, no
// controlling terminal, stdio on /dev/null, so that it outlives the SSH
// session and the process that started it. Its output goes to logPath
// when not empty.
func StartWatchdog(argv []string, logPath string) (int, error) {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	out := devnull
	if logPath != "" {
		if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			defer f.Close()
			out = f
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, out, out
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the watchdog: %w", err)
	}
	pid := cmd.Process.Pid
	// Not waited for: it must outlive us. Release lets the runtime forget
	// it; when we exit, init reaps it.
	_ = cmd.Process.Release()
	return pid, nil
}

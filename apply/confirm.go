package apply

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/internal/safefile"
)

// DefaultStateDir is where apply --confirm keeps its snapshot.
const DefaultStateDir = "/var/lib/fwc"

// The state directory of apply --confirm holds, per namespace K (nsKey):
//
//   - pending-K.json: the Pending apply, written before the apply and
//     removed when it is confirmed, discarded or rolled back. While its
//     watchdog lives, the watchdog holds an exclusive flock on it (the lock
//     is taken by Snapshot on the new file and handed to the watchdog with
//     the descriptor): the kernel drops the lock when the watchdog dies,
//     however it dies, so a pending file that nobody holds is an apply that
//     nothing will roll back.
//   - watchdog-K.json: the WatchdogRecord the last watchdog wrote.
//
// and, for all namespaces, "lock" (taken around every change of the
// pending files) and watchdog.log (the watchdogs' output).
const (
	lockName = "lock"
	logName  = "watchdog.log"
)

// Pending is an apply waiting for confirmation, as written to disk before
// the apply: the state to go back to, and until when.
type Pending struct {
	// Token tells this apply from a later one.
	Token string `json:"token"`
	// NetNS is the namespace path ("" for the host's own).
	NetNS string `json:"netns"`
	// Created is when the snapshot was taken; Deadline when the watchdog
	// rolls back.
	Created  time.Time `json:"created"`
	Deadline time.Time `json:"deadline"`
	// BootID is the kernel's boot ID at Created: after a reboot the
	// kernel holds what the boot loaded, whatever the snapshot says.
	BootID string `json:"boot_id"`
	// Table is the previous listing of fwc's table ("" when there was
	// none); Routing the previous ip rules and routes.
	Table   string  `json:"table"`
	Routing Routing `json:"routing"`
	// Iptables is fwc's previous part of iptables and ipset when the
	// apply was made with the iptables backend (Table is then unused).
	Iptables *IptablesState `json:"iptables,omitempty"`

	// Dir is the state directory (absolute) the snapshot is in.
	Dir string `json:"-"`
	// file is the pending file, flocked, from Snapshot until it is handed
	// to the watchdog.
	file *os.File
}

// ErrNothingPending is returned by Confirm when no apply waits for
// confirmation (none was made, it was confirmed already, or the watchdog
// has rolled it back).
var ErrNothingPending = errors.New("no apply is waiting for confirmation")

// ErrPending is matched (errors.Is) by a *PendingError: an earlier apply
// still waits for confirmation in that namespace.
var ErrPending = errors.New("an earlier apply --confirm is still waiting for confirmation")

// ErrUnwatched is matched by a *PendingError whose apply has no watchdog
// any more (killed, crashed, or the host rebooted): nothing will roll it
// back.
var ErrUnwatched = errors.New("the watchdog of the apply waiting for confirmation is not running")

// Waiting is what the state directory says of the apply waiting for
// confirmation in one namespace.
type Waiting struct {
	// Path is the pending file.
	Path string
	// Pending is its content; nil when Unreadable is set.
	Pending *Pending
	// Unreadable is why the file could not be read as a snapshot of this
	// namespace (damaged, truncated, not fwc's, a link).
	Unreadable error
	// WatchdogAlive is set while a watchdog holds the file.
	WatchdogAlive bool
	// Rebooted is set when the host has rebooted since the snapshot.
	Rebooted bool
}

// Overdue reports whether the deadline has passed at now.
func (w *Waiting) Overdue(now time.Time) bool {
	return w.Pending != nil && !now.Before(w.Pending.Deadline)
}

// PendingError refuses a change while an apply waits for confirmation
// (or its pending file is in the way). It matches ErrPending, and
// ErrUnwatched when no watchdog holds the file.
type PendingError struct{ Waiting }

func (e *PendingError) Error() string {
	switch {
	case e.Unreadable != nil:
		return fmt.Sprintf("the pending file of an apply --confirm cannot be read: %v", e.Unreadable)
	case !e.WatchdogAlive:
		return fmt.Sprintf("%v (%s); its watchdog is not running", ErrPending, e.Path)
	}
	return fmt.Sprintf("%v (%s)", ErrPending, e.Path)
}

func (e *PendingError) Is(target error) bool {
	return target == ErrPending || target == ErrUnwatched && !e.WatchdogAlive
}

// pendingName is the snapshot file of namespace path netns.
func pendingName(netns string) string { return "pending-" + nsKey(netns) + ".json" }

// outcomeName is the watchdog's record for namespace path netns.
func outcomeName(netns string) string { return "watchdog-" + nsKey(netns) + ".json" }

// nsKey names a namespace path in file names.
func nsKey(netns string) string {
	if netns == "" {
		return "host"
	}
	return "netns-" + strings.NewReplacer("/", "_").Replace(strings.TrimPrefix(netns, "/"))
}

// CheckStateDir makes sure dir can hold fwc's state: it is created (0700)
// if missing, and refused (*safefile.UnsafeDirError) if it is a link, is
// not owned by the caller, or others may write to it, since root acts
// later on what it finds there. It returns dir made absolute.
func CheckStateDir(dir string) (string, error) {
	d, err := safefile.OpenPrivate(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return d.Path(), nil
}

// lock takes the exclusive lock of the state directory; call the function
// to release it.
func lock(d *safefile.Dir) (func(), error) {
	f, err := d.OpenFile(lockName, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// openLocked opens the state directory dir and takes its lock.
func openLocked(dir string) (*safefile.Dir, func(), error) {
	d, err := safefile.OpenPrivate(dir)
	if err != nil {
		return nil, nil, err
	}
	release, err := lock(d)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, func() { release(); d.Close() }, nil
}

// inspect reads the pending file of namespace path netns; nil when there
// is none. Call it with the directory locked.
func inspect(d *safefile.Dir, netns string) (*Waiting, error) {
	name := pendingName(netns)
	w := &Waiting{Path: d.Join(name)}
	f, err := d.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		w.Unreadable = err
		return w, nil
	}
	defer f.Close()
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err {
	case nil:
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	case unix.EWOULDBLOCK:
		w.WatchdogAlive = true
	default:
		return nil, fmt.Errorf("lock %s: %w", w.Path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if w.Pending, w.Unreadable = decodePending(data, netns); w.Unreadable == nil {
		w.Pending.Dir = d.Path()
		w.Rebooted = w.Pending.BootID != "" && w.Pending.BootID != bootID()
	}
	return w, nil
}

// decodePending reads a pending file of namespace path netns.
func decodePending(data []byte, netns string) (*Pending, error) {
	p := &Pending{}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("not a snapshot written by fwc: %w", err)
	}
	switch {
	case p.Token == "" || p.Deadline.IsZero():
		return nil, errors.New("not a snapshot written by fwc: no token or no deadline")
	case p.NetNS != netns:
		return nil, fmt.Errorf("the snapshot is of namespace %q, not %q", p.NetNS, netns)
	}
	return p, nil
}

// Inspect returns what waits for confirmation in the namespace netns (a
// name or path, "" for the host's own), or nil when nothing does.
func Inspect(dir, netns string) (*Waiting, error) {
	d, unlock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return inspect(d, NetNSPath(netns))
}

// Lock takes the lock of the state directory dir, which the watchdog takes
// before it rolls back: an apply --confirm holds it while it applies, so
// that a rollback due meanwhile comes after the whole apply (table and
// routing), not between its steps. Call the function to release it.
func Lock(dir string) (unlock func(), err error) {
	_, release, err := openLocked(dir)
	return release, err
}

// Idle takes the lock of the state directory, for a plain apply, if no
// apply waits for confirmation in the namespace netns: the watchdog of one
// that does would undo the plain apply at its deadline. It fails with a
// *PendingError otherwise. Holding the lock during the apply keeps a
// rollback and another apply --confirm out meanwhile.
func Idle(dir, netns string) (unlock func(), err error) {
	d, unlock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	w, err := inspect(d, NetNSPath(netns))
	if err == nil && w != nil {
		err = &PendingError{*w}
	}
	if err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// Snapshot writes have, the state before an apply, to dir as the pending
// apply of h's namespace, to be rolled back at deadline. It is durable
// (fsynced) when Snapshot returns. It fails with a *PendingError if an
// earlier apply waits for confirmation there (or its file is in the way).
//
// The pending file stays locked by the returned Pending until
// StartWatchdog hands it over, or Discard.
func Snapshot(dir string, h *Host, have *State, deadline time.Time) (*Pending, error) {
	d, unlock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := pendingName(h.NetNS)
	if w, err := inspect(d, h.NetNS); err != nil {
		return nil, err
	} else if w != nil {
		return nil, &PendingError{*w}
	}
	tok := make([]byte, 8)
	_, _ = rand.Read(tok)
	p := &Pending{Token: hex.EncodeToString(tok), NetNS: h.NetNS, Created: time.Now(), Deadline: deadline, BootID: bootID(),
		Routing: have.Routing, Iptables: have.ipt, Dir: d.Path()}
	if have.ipt == nil {
		if p.Table, err = snapshotTable(have); err != nil {
			return nil, err
		}
	}
	data, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		return nil, err
	}
	f, tmp, err := d.CreateTemp(name, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	// Locked before it is visible under its name: from then on, the lock
	// says whether a watchdog is responsible for it.
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = d.Commit(tmp, name)
	}
	if err != nil {
		f.Close()
		_ = d.Remove(tmp)
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	p.file = f
	return p, nil
}

// snapshotTable is the kernel's listing of fwc's table, which a rollback
// loads: never the script of the record of the last apply (which a plan
// may have trusted instead of listing), since the kernel's sets also hold
// what was added at run time, and packets add elements to dynamic sets (a
// meter's entries) without moving the generation the record is checked
// by. It costs the one listing a plan by record saves, for --confirm only.
func snapshotTable(have *State) (string, error) {
	if have.listed {
		t, err := have.Listing()
		if err != nil {
			return "", err
		}
		return t.Text, nil
	}
	return have.h.listTable()
}

// Discard removes the pending apply p without rolling back (the apply it
// guarded did not happen).
func Discard(dir string, p *Pending) error {
	if p.file != nil {
		defer func() { p.file.Close(); p.file = nil }()
	}
	d, unlock, err := openLocked(dir)
	if err != nil {
		return err
	}
	defer unlock()
	name := pendingName(p.NetNS)
	if data, err := d.ReadFile(name); err == nil {
		if cur, err := decodePending(data, p.NetNS); err == nil && cur.Token == p.Token {
			if err := d.Remove(name); err != nil {
				return err
			}
			return d.Sync()
		}
	}
	return nil
}

// ConfirmOptions tune Confirm.
type ConfirmOptions struct {
	// Keep confirms an apply whose watchdog is not running even though
	// its deadline has passed or the host rebooted since; without it
	// Confirm refuses such an apply with a *PendingError (the operator
	// must be told it was never rolled back).
	Keep bool
	// Now is the time to compare with the deadline; zero means now.
	Now time.Time
}

// Confirm keeps the state of the apply waiting for confirmation in the
// namespace netns (a name or path, "" for the host's own): its watchdog
// finds it gone and exits. It returns what it confirmed, or
// ErrNothingPending.
//
// An unreadable pending file is moved aside (to its name plus
// ".unreadable"), which confirms what is loaded since nothing can be
// rolled back from it; the Waiting returned says so.
func Confirm(dir, netns string, opts ConfirmOptions) (*Waiting, error) {
	d, unlock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := NetNSPath(netns)
	w, err := inspect(d, path)
	switch {
	case err != nil:
		return nil, err
	case w == nil:
		return nil, ErrNothingPending
	case w.Unreadable != nil:
		name := pendingName(path)
		if err := d.Rename(name, name+".unreadable"); err != nil {
			return nil, err
		}
		return w, d.Sync()
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !w.WatchdogAlive && (w.Overdue(now) || w.Rebooted) && !opts.Keep {
		return w, &PendingError{*w}
	}
	if err := d.Remove(pendingName(path)); err != nil {
		return nil, err
	}
	return w, d.Sync()
}

// RollbackNow restores, at once, the state saved before the apply waiting
// for confirmation in the namespace netns, and removes its pending file;
// its watchdog, if alive, finds it gone and exits. It returns what it
// rolled back, or ErrNothingPending, or a *PendingError when the pending
// file is unreadable.
func RollbackNow(dir, netns string) (*Waiting, error) {
	d, unlock, err := openLocked(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path := NetNSPath(netns)
	w, err := inspect(d, path)
	switch {
	case err != nil:
		return nil, err
	case w == nil:
		return nil, ErrNothingPending
	case w.Unreadable != nil:
		return w, &PendingError{*w}
	}
	if err := Rollback(w.Pending); err != nil {
		return w, err
	}
	if err := d.Remove(pendingName(path)); err != nil {
		return w, err
	}
	return w, d.Sync()
}

// Rollback restores p's state: fwc's table (or its iptables chains and
// sets) and ip rules and routes as they were before the apply.
func Rollback(p *Pending) error {
	h, err := Open(p.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	var errs []error
	if p.Iptables != nil {
		if err := h.restoreIpt(p.Iptables); err != nil {
			errs = append(errs, fmt.Errorf("restore the iptables rules and sets: %w", err))
		}
	} else if err := h.restoreTable(p.Table); err != nil {
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

// What a watchdog did, in WatchdogRecord.Action.
const (
	// RolledBack: the deadline passed unconfirmed and the previous state
	// is back.
	RolledBack = "rolled back"
	// LeftAlone: the pending apply was gone before the deadline
	// (confirmed, discarded, or rolled back by hand).
	LeftAlone = "left alone"
	// RollbackFailed: the deadline passed and the rollback failed; the
	// pending file is kept.
	RollbackFailed = "rollback failed"
)

// WatchdogRecord is what a watchdog did, left in the state directory when
// it ends (watchdog-K.json); its times are the watchdog's clock.
type WatchdogRecord struct {
	Token    string    `json:"token"`
	NetNS    string    `json:"netns"`
	Deadline time.Time `json:"deadline"`
	// Armed is when the watchdog took charge, Decided when it acted.
	Armed   time.Time `json:"armed"`
	Decided time.Time `json:"decided"`
	Action  string    `json:"action"`
	Error   string    `json:"error,omitempty"`
}

// LastWatchdogRecord returns the record of the last watchdog that ended in the
// namespace netns, or nil when there is none.
func LastWatchdogRecord(dir, netns string) (*WatchdogRecord, error) {
	d, err := safefile.OpenPrivate(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	data, err := d.ReadFile(outcomeName(NetNSPath(netns)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o := &WatchdogRecord{}
	if err := json.Unmarshal(data, o); err != nil {
		return nil, err
	}
	return o, nil
}

// Clock is the watchdog's time. Tests replace it; the zero Watchdog uses
// the system's.
type Clock interface {
	Now() time.Time
	// After fires once d has passed on this clock, or earlier: the
	// watchdog looks at Now again each time it fires.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// pollInterval is how often a watchdog looks whether its pending apply was
// confirmed: it then ends without waiting for the deadline.
const pollInterval = 200 * time.Millisecond

// Watchdog waits for the deadline of one pending apply and rolls it back
// unless it was confirmed (or discarded) by then. StartWatchdog starts a
// process that runs one.
type Watchdog struct {
	// Dir is the state directory; it must be absolute (a watchdog runs in
	// "/").
	Dir string
	// NetNS is the namespace (a name or path, "" for the host's own).
	NetNS string
	// Token is that of the pending apply to watch.
	Token string
	// File is the pending file as StartWatchdog hands it over (descriptor
	// 3), flocked; the lock is held as long as the watchdog runs.
	File *os.File
	// Ready, when set, receives "armed\n" once the watchdog has taken
	// charge, or the reason it will not; it is closed then.
	Ready io.WriteCloser
	// Clock is the watchdog's time (nil: the system's).
	Clock Clock
}

// Run arms the watchdog and waits. It refuses to arm (and reports why on
// Ready) unless File is the pending file of NetNS in Dir with Token. It
// returns the record it wrote, and an error when it could not arm or the
// rollback failed.
func (w *Watchdog) Run() (*WatchdogRecord, error) {
	clock := w.Clock
	if clock == nil {
		clock = systemClock{}
	}
	d, p, err := w.arm()
	if w.Ready != nil {
		msg := "armed\n"
		if err != nil {
			msg = err.Error() + "\n"
		}
		_, _ = io.WriteString(w.Ready, msg)
		_ = w.Ready.Close()
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o := &WatchdogRecord{Token: p.Token, NetNS: p.NetNS, Deadline: p.Deadline, Armed: clock.Now()}
	for {
		if w.gone(d, pendingName(p.NetNS)) {
			o.Decided, o.Action = clock.Now(), LeftAlone
			return o, w.record(d, o)
		}
		now := clock.Now()
		if !now.Before(p.Deadline) {
			break
		}
		<-clock.After(min(p.Deadline.Sub(now), pollInterval))
	}
	unlock, err := lock(d)
	if err != nil {
		return nil, err
	}
	defer unlock()
	o.Decided = clock.Now()
	if w.gone(d, pendingName(p.NetNS)) {
		o.Action = LeftAlone // confirmed at the last moment
		return o, w.record(d, o)
	}
	// The snapshot as read when arming: a file damaged since cannot
	// change what is put back.
	if err := Rollback(p); err != nil {
		// Keep the snapshot: the operator can look at it, and `fwc
		// confirm --rollback` can try again.
		o.Action, o.Error = RollbackFailed, err.Error()
		return o, errors.Join(err, w.record(d, o))
	}
	o.Action = RolledBack
	rerr := d.Remove(pendingName(p.NetNS))
	if rerr == nil {
		rerr = d.Sync()
	}
	return o, errors.Join(rerr, w.record(d, o))
}

// arm checks that the watchdog holds the pending file it is to watch.
func (w *Watchdog) arm() (*safefile.Dir, *Pending, error) {
	if !filepath.IsAbs(w.Dir) {
		return nil, nil, fmt.Errorf("watchdog: the state directory %q is not an absolute path", w.Dir)
	}
	if w.File == nil {
		return nil, nil, errors.New("watchdog: no pending file was handed over")
	}
	d, err := safefile.OpenPrivate(w.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("watchdog: %w", err)
	}
	netns := NetNSPath(w.NetNS)
	name := pendingName(netns)
	var have unix.Stat_t
	st, err := d.Stat(name)
	if err == nil {
		err = unix.Fstat(int(w.File.Fd()), &have)
	}
	if err == nil && (st.Dev != have.Dev || st.Ino != have.Ino) {
		err = errors.New("it is not the file handed over")
	}
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("watchdog: cannot find its pending file %s: %v", d.Join(name), err)
	}
	// Taking the lock the descriptor already holds is a no-op; if it does
	// not hold it, someone else may be watching.
	if err := flock(w.File, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("watchdog: %s is held by another watchdog: %v", d.Join(name), err)
	}
	data, err := io.ReadAll(io.NewSectionReader(w.File, 0, 1<<30))
	var p *Pending
	if err == nil {
		p, err = decodePending(data, netns)
	}
	if err == nil && p.Token != w.Token {
		err = fmt.Errorf("it belongs to another apply (token %s, not %s)", p.Token, w.Token)
	}
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("watchdog: %s: %v", d.Join(name), err)
	}
	p.Dir = d.Path()
	return d, p, nil
}

// gone reports whether the pending file the watchdog holds is no longer
// the pending file: removed, replaced, or moved aside under another name
// (as Confirm does with an unreadable one). When it cannot tell, it is
// not gone: a watchdog that stops watching on an error would leave an
// apply that nothing rolls back.
func (w *Watchdog) gone(d *safefile.Dir, name string) bool {
	var have unix.Stat_t
	if err := unix.Fstat(int(w.File.Fd()), &have); err != nil {
		return false
	}
	if have.Nlink == 0 {
		return true
	}
	st, err := d.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && (st.Dev != have.Dev || st.Ino != have.Ino)
}

func (w *Watchdog) record(d *safefile.Dir, o *WatchdogRecord) error {
	data, err := json.MarshalIndent(o, "", "\t")
	if err != nil {
		return err
	}
	return d.WriteFile(outcomeName(o.NetNS), data, 0o600)
}

// StartWatchdog starts argv (a command that runs a Watchdog for p, such as
// `fwc confirm --watchdog TOKEN --state-dir DIR`) as a detached process: a
// new session, no controlling terminal, stdin on /dev/null, stdout and
// stderr appended to watchdog.log in p's state directory, so that it
// outlives the SSH session and the process that started it. The child gets
// p's locked pending file as descriptor 3 and a pipe as descriptor 4 on
// which it says when it is armed; StartWatchdog returns once it is, and
// fails (the caller then Discards p) if it is not.
func StartWatchdog(p *Pending, path string, argv []string) (int, error) {
	if p.file == nil {
		return 0, errors.New("start the watchdog: the snapshot is not held (started already, or discarded)")
	}
	// Whatever happens, our copy of the lock goes: the watchdog holds it,
	// or no one does.
	defer func() { p.file.Close(); p.file = nil }()
	d, err := safefile.OpenPrivate(p.Dir)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	out, err := d.OpenFile(logName, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("start the watchdog: %w", err)
	}
	defer out.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	r, wr, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	// path is run as given, never looked up in $PATH; argv[0] is only the
	// name the process gets.
	cmd := &exec.Cmd{Path: path, Args: argv}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, out, out
	cmd.ExtraFiles = []*os.File{p.file, wr}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return 0, fmt.Errorf("start the watchdog: %w", err)
	}
	pid := cmd.Process.Pid
	// The watchdog writes one line and closes the pipe (or dies, which
	// closes it too). A watchdog that neither arms nor dies in a minute
	// is stuck: better no apply than one it may not roll back.
	_ = r.SetReadDeadline(time.Now().Add(time.Minute))
	msg, err := io.ReadAll(r)
	if string(msg) != "armed\n" {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		why := strings.TrimSpace(string(msg))
		if why == "" {
			why = fmt.Sprintf("it exited without arming (%v); see %s", err, d.Join(logName))
		}
		return 0, fmt.Errorf("the watchdog did not start: %s", why)
	}
	// Not waited for: it must outlive us. Release lets the runtime forget
	// it; when we exit, init reaps it.
	_ = cmd.Process.Release()
	return pid, nil
}

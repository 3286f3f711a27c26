package apply

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestMain lets the test binary play two other roles: the client that
// runs an apply --confirm and then hangs (like an SSH session), and the
// watchdog it starts (argv: fwc-watchdog DIR NETNS TOKEN CLOCK, with the
// pending file as descriptor 3 and the ready pipe as 4, as StartWatchdog
// hands them over).
func TestMain(m *testing.M) {
	if len(os.Args) == 6 && os.Args[1] == "fwc-watchdog" {
		w := &Watchdog{Dir: os.Args[2], NetNS: os.Args[3], Token: os.Args[4], File: os.NewFile(3, "pending"), Ready: os.NewFile(4, "ready")}
		if os.Args[5] == "jump" {
			w.Clock = newJumpClock()
		}
		o, err := w.Run()
		fmt.Printf("watchdog: %+v %v\n", o, err)
		os.Exit(0)
	}
	if os.Getenv("FWC_APPLY_HELPER") == "client" {
		if err := confirmClient(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		select {} // the session hangs until killed
	}
	os.Exit(m.Run())
}

// jumpClock is the system clock until the process gets SIGUSR1, and two
// days later from then on: a test makes the deadline pass when it wants,
// whatever the scheduler does.
type jumpClock struct{ jumped chan struct{} }

const jump = 48 * time.Hour

func newJumpClock() *jumpClock {
	c := &jumpClock{jumped: make(chan struct{})}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		<-sig
		close(c.jumped)
	}()
	return c
}

func (c *jumpClock) Now() time.Time {
	select {
	case <-c.jumped:
		return time.Now().Add(jump)
	default:
		return time.Now()
	}
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		select {
		case <-time.After(d):
		case <-c.jumped:
		}
		ch <- c.Now()
	}()
	return ch
}

// watchdogArgv runs the test binary as the watchdog of p.
func watchdogArgv(dir, ns, token, clock string) []string {
	return []string{os.Args[0], "fwc-watchdog", dir, ns, token, clock}
}

// confirmClient does what `fwc apply --confirm` does, with the test binary
// as the watchdog, and prints "applied DEADLINE PID TOKEN".
func confirmClient() error {
	c, ds, err := Compile([]string{os.Getenv("FWC_POLICY")})
	if err != nil || ds.HasErrors() {
		return fmt.Errorf("compile: %v %v", err, ds)
	}
	w := c.Want()
	h, err := Open(os.Getenv("FWC_NS"))
	if err != nil {
		return err
	}
	have, err := Read(h)
	if err != nil {
		return err
	}
	d, _ := time.ParseDuration(os.Getenv("FWC_CONFIRM"))
	p, err := Snapshot(os.Getenv("FWC_STATE"), h, have, time.Now().Add(d))
	if err != nil {
		return err
	}
	pid, err := StartWatchdog(p, os.Args[0], watchdogArgv(p.Dir, h.NetNS, p.Token, os.Getenv("FWC_CLOCK")))
	if err != nil {
		return err
	}
	p2, err := NewPlan(have, w)
	if err != nil {
		return err
	}
	if out, err := Apply(h, p2, Options{}); err != nil {
		return fmt.Errorf("%v: %v", out, err)
	}
	fmt.Printf("applied %s %d %s\n", p.Deadline.Format(time.RFC3339Nano), pid, p.Token)
	return nil
}

const policyA = `
zone far { net 198.51.100.0/24 }
route via_a { mark 0x1/0xff; table 10; default via 10.1.0.2 dev up_a }
from self to far route via_a
table filter { chain input { tcp dport 22 accept } }
`

const policyB = `
zone far { net 198.51.100.0/24 }
route via_b { mark 0x2/0xff; table 20; default via 10.1.0.3 dev up_a }
from self to far route via_b
table filter { chain input policy drop { tcp dport 2222 accept } }
`

// client is a started client: its process, and the apply it made.
type client struct {
	cmd      *exec.Cmd
	deadline time.Time
	watchdog int // pid
	token    string
}

// startClient runs the client for policy src in its own process group and
// waits until it has applied.
func startClient(t *testing.T, ns, dir, src string, confirm time.Duration, clock string) *client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FWC_APPLY_HELPER=client", "FWC_NS="+ns, "FWC_POLICY="+path,
		"FWC_STATE="+dir, "FWC_CONFIRM="+confirm.String(), "FWC_CLOCK="+clock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 4 || f[0] != "applied" {
		t.Fatalf("client: %q %v", line, err)
	}
	c := &client{cmd: cmd, token: f[3]}
	if c.deadline, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
		t.Fatal(err)
	}
	if c.watchdog, err = strconv.Atoi(f[2]); err != nil {
		t.Fatal(err)
	}
	// Should the test fail before the watchdog ends, it must not outlive
	// the test (it would act on a namespace that is gone). A pidfd, so
	// that a pid reused once the watchdog has ended is never signalled.
	if fd, err := unix.PidfdOpen(c.watchdog, 0); err == nil {
		t.Cleanup(func() {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			unix.Close(fd)
		})
	}
	return c
}

// holdPending opens the pending file of ns in dir, so that waitWatchdog
// can wait on the lock its watchdog holds.
func holdPending(t *testing.T, dir, ns string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, pendingName(NetNSPath(ns))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// waitWatchdog waits until no process holds the watchdog's lock on the
// pending file f: the watchdog has exited, however it ended.
func waitWatchdog(t *testing.T, f *os.File) {
	t.Helper()
	if err := flock(f, unix.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// lastRecord returns the watchdog's record for ns in dir.
func lastRecord(t *testing.T, dir, ns string) *WatchdogRecord {
	t.Helper()
	o, err := LastWatchdogRecord(dir, ns)
	if err != nil || o == nil {
		t.Fatalf("watchdog record: %v %v", o, err)
	}
	return o
}

func confirmSetup(t *testing.T) (ns string, h *Host, snapshot func() string) {
	ns = nsWithLinks(t)
	testnetns.Run(t, ns, "ip", "link", "add", "up_a", "type", "veth", "peer", "name", "up_ap")
	testnetns.Run(t, ns, "ip", "link", "set", "up_ap", "up")
	testnetns.Run(t, ns, "ip", "link", "set", "up_a", "up")
	testnetns.Run(t, ns, "ip", "addr", "add", "10.1.0.1/24", "dev", "up_a")
	h = openHost(t, ns)
	snapshot = func() string {
		return testnetns.Ruleset(t, ns) +
			testnetns.Run(t, ns, "ip", "-4", "rule") + testnetns.Run(t, ns, "ip", "-6", "rule") +
			testnetns.Run(t, ns, "ip", "-4", "route", "show", "table", "all", "proto", "70") +
			testnetns.Run(t, ns, "ip", "-6", "route", "show", "table", "all", "proto", "70")
	}
	return ns, h, snapshot
}

// TestConfirmTimeout: the client applies with --confirm and is killed
// with SIGKILL (its session dies); the detached watchdog puts the previous
// ruleset and routes back once its clock passes the deadline, and not
// before. The watchdog's clock jumps two days when the test says so, and
// the test waits for the watchdog's exit: nothing depends on how fast the
// machine is. The namespace is given by name, and as a path relative to
// the test's directory (the watchdog runs in "/").
func TestConfirmTimeout(t *testing.T) {
	for _, relative := range []bool{false, true} {
		t.Run(fmt.Sprintf("relative=%v", relative), func(t *testing.T) {
			ns, h, snapshot := confirmSetup(t)
			mustApply(t, h, compileSrc(t, policyA), Options{})
			before := snapshot()
			dir := t.TempDir()
			nsArg := ns
			if relative {
				t.Chdir("/run")
				nsArg = "netns/" + ns
			}

			c := startClient(t, nsArg, dir, policyB, time.Hour, "jump")
			if now := snapshot(); now == before || !strings.Contains(now, "lookup 20") {
				t.Fatalf("policy B is not in place:\n%s", now)
			}
			if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = c.cmd.Wait()
			pending := holdPending(t, dir, ns)
			if w, err := Inspect(dir, ns); err != nil || w == nil || !w.WatchdogAlive || w.Pending.Token != c.token {
				t.Fatalf("inspect after the client died: %+v %v", w, err)
			}
			if err := syscall.Kill(c.watchdog, syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			waitWatchdog(t, pending)
			o := lastRecord(t, dir, ns)
			if o.Action != RolledBack || o.Token != c.token || o.Error != "" {
				t.Fatalf("watchdog record: %+v, want rolled back", o)
			}
			if o.Decided.Before(o.Deadline) || o.Armed.After(o.Deadline) {
				t.Errorf("armed %v, decided %v: want the decision after the deadline %v", o.Armed, o.Decided, o.Deadline)
			}
			if now := snapshot(); now != before {
				log, _ := os.ReadFile(filepath.Join(dir, "watchdog.log"))
				t.Fatalf("not rolled back; now:\n%s\nwant:\n%s\nwatchdog log: %s", now, before, log)
			}
			if _, err := Confirm(dir, ns, ConfirmOptions{}); !errors.Is(err, ErrNothingPending) {
				t.Errorf("confirm after the rollback: %v, want ErrNothingPending", err)
			}
		})
	}
}

// TestConfirmDeadline: the same on the system clock, which the watchdog
// reads for itself: its record says it decided after the deadline. The
// watchdog is started after the apply, so however late that is, nothing
// races.
func TestConfirmDeadline(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	before := snapshot()
	dir := t.TempDir()
	have, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Snapshot(dir, h, have, time.Now().Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	pending := holdPending(t, dir, ns)
	mustApply(t, h, compileSrc(t, policyB), Options{})
	if _, err := StartWatchdog(p, os.Args[0], watchdogArgv(p.Dir, h.NetNS, p.Token, "system")); err != nil {
		t.Fatal(err)
	}
	waitWatchdog(t, pending)
	o := lastRecord(t, dir, ns)
	if o.Action != RolledBack || o.Decided.Before(p.Deadline) || !o.Deadline.Equal(p.Deadline) {
		t.Errorf("watchdog record %+v: want rolled back after %v", o, p.Deadline)
	}
	if now := snapshot(); now != before {
		t.Errorf("not rolled back; now:\n%s\nwant:\n%s", now, before)
	}
}

// TestConfirmInTime: confirmed before the deadline, the new state stays:
// the watchdog sees the confirmation, records that it left the apply
// alone, and exits.
func TestConfirmInTime(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	dir := t.TempDir()
	c := startClient(t, ns, dir, policyB, time.Hour, "system")
	applied := snapshot()
	pending := holdPending(t, dir, ns)
	w, err := Confirm(dir, ns, ConfirmOptions{})
	if err != nil || w.Pending.Token != c.token || !w.WatchdogAlive {
		t.Fatalf("confirm: %+v %v", w, err)
	}
	waitWatchdog(t, pending)
	o := lastRecord(t, dir, ns)
	if o.Action != LeftAlone || o.Token != c.token || !o.Decided.Before(o.Deadline) {
		t.Errorf("watchdog record: %+v, want left alone before the deadline", o)
	}
	if now := snapshot(); now != applied {
		t.Errorf("confirmed state changed:\n%s\nwant:\n%s", now, applied)
	}
	if _, err := Confirm(dir, ns, ConfirmOptions{}); !errors.Is(err, ErrNothingPending) {
		t.Errorf("second confirm: %v, want ErrNothingPending", err)
	}
	// A pending apply blocks a second snapshot and a plain apply.
	have, _ := Read(h)
	p, err := Snapshot(dir, h, have, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(dir, h, have, time.Now().Add(time.Hour)); !errors.Is(err, ErrPending) || errors.Is(err, ErrUnwatched) {
		t.Errorf("second snapshot: %v, want ErrPending (watched)", err)
	}
	if _, err := Idle(dir, ns); !errors.Is(err, ErrPending) {
		t.Errorf("idle: %v, want ErrPending", err)
	}
	if err := Discard(dir, p); err != nil {
		t.Fatal(err)
	}
	unlock, err := Idle(dir, ns)
	if err != nil {
		t.Fatalf("idle after discard: %v", err)
	}
	unlock()
}

// TestWatchdogKilled (B8): a watchdog killed with SIGKILL is noticed by
// the lock it no longer holds. Before the deadline, confirm keeps the
// apply (saying the watchdog was gone); after it, confirm refuses unless
// told to keep, since the operator must learn that nothing was rolled
// back; a new snapshot and a plain apply are refused as unwatched; a
// rollback by hand restores the previous state.
func TestWatchdogKilled(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	before := snapshot()
	dir := t.TempDir()
	c := startClient(t, ns, dir, policyB, time.Hour, "system")
	applied := snapshot()
	pending := holdPending(t, dir, ns)
	if err := syscall.Kill(c.watchdog, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitWatchdog(t, pending)

	w, err := Inspect(dir, ns)
	if err != nil || w == nil || w.WatchdogAlive || w.Rebooted || w.Unreadable != nil || w.Pending.Token != c.token {
		t.Fatalf("inspect: %+v %v, want a pending apply without watchdog", w, err)
	}
	have, _ := Read(h)
	if _, err := Snapshot(dir, h, have, time.Now().Add(time.Hour)); !errors.Is(err, ErrUnwatched) {
		t.Errorf("snapshot: %v, want ErrUnwatched", err)
	}
	if _, err := Idle(dir, ns); !errors.Is(err, ErrUnwatched) {
		t.Errorf("idle: %v, want ErrUnwatched", err)
	}
	late := ConfirmOptions{Now: c.deadline.Add(time.Second)}
	if w, err := Confirm(dir, ns, late); !errors.Is(err, ErrUnwatched) || w == nil || !w.Overdue(late.Now) {
		t.Errorf("confirm after the deadline: %+v %v, want ErrUnwatched", w, err)
	}
	if w, _ := Inspect(dir, ns); w == nil {
		t.Fatal("a refused confirm removed the pending apply")
	}
	if now := snapshot(); now != applied {
		t.Fatalf("the kernel changed:\n%s\nwant:\n%s", now, applied)
	}
	w, err = RollbackNow(dir, ns)
	if err != nil || w.Pending.Token != c.token {
		t.Fatalf("rollback: %+v %v", w, err)
	}
	if now := snapshot(); now != before {
		t.Errorf("not rolled back:\n%s\nwant:\n%s", now, before)
	}
	if w, _ := Inspect(dir, ns); w != nil {
		t.Errorf("still pending after the rollback: %+v", w)
	}

	// Killed again; before the deadline confirm keeps it, and so does
	// --keep after it.
	for _, opts := range []ConfirmOptions{{}, {Keep: true, Now: time.Now().Add(2 * time.Hour)}} {
		c := startClient(t, ns, dir, policyB, time.Hour, "system")
		pending := holdPending(t, dir, ns)
		_ = syscall.Kill(c.watchdog, syscall.SIGKILL)
		waitWatchdog(t, pending)
		if w, err := Confirm(dir, ns, opts); err != nil || w.WatchdogAlive || w.Pending.Token != c.token {
			t.Errorf("confirm %+v: %+v %v", opts, w, err)
		}
		mustApply(t, h, compileSrc(t, policyA), Options{})
	}
}

// TestPendingUnreadable (B9): a pending file that is not a snapshot of
// this namespace refuses a new snapshot with a PendingError that says
// why, cannot be rolled back from, and is moved aside by Confirm; one
// written before a reboot is told apart.
func TestPendingUnreadable(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, pendingName(""))
	for _, c := range []struct{ content, want string }{
		{"", "not a snapshot written by fwc"},
		{`{"token": "ab", "deadl`, "not a snapshot written by fwc"},
		{`{"token": "", "deadline": "2026-01-01T00:00:00Z"}`, "no token"},
		{`{"token": "ab", "netns": "/run/netns/x", "deadline": "2026-01-01T00:00:00Z"}`, `of namespace "/run/netns/x"`},
	} {
		if err := os.WriteFile(name, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Idle(dir, "")
		pe, ok := errors.AsType[*PendingError](err)
		if !ok || pe.Unreadable == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrUnwatched) {
			t.Errorf("%q: idle: %v, want a PendingError saying %q", c.content, err, c.want)
		}
		if _, err := RollbackNow(dir, ""); !errors.Is(err, ErrPending) {
			t.Errorf("%q: rollback: %v, want ErrPending", c.content, err)
		}
		w, err := Confirm(dir, "", ConfirmOptions{})
		if err != nil || w.Unreadable == nil {
			t.Errorf("%q: confirm: %+v %v, want it moved aside", c.content, w, err)
		}
		if _, err := os.Stat(name + ".unreadable"); err != nil {
			t.Error(err)
		}
		if unlock, err := Idle(dir, ""); err != nil {
			t.Errorf("%q: idle after confirm: %v", c.content, err)
		} else {
			unlock()
		}
	}
	// A link where the pending file goes is unreadable, not followed.
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte(`{"token": "ab", "deadline": "2026-01-01T00:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	if w, err := Inspect(dir, ""); err != nil || w == nil || w.Unreadable == nil || !strings.Contains(w.Unreadable.Error(), "symbolic link") {
		t.Errorf("inspect a link: %+v %v", w, err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	// Written in another boot.
	p := Pending{Token: "ab", Deadline: time.Now().Add(time.Hour), BootID: "another-boot"}
	data, _ := json.Marshal(p)
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Inspect(dir, "")
	if err != nil || w == nil || !w.Rebooted || w.WatchdogAlive {
		t.Errorf("inspect after a reboot: %+v %v", w, err)
	}
	if _, err := Confirm(dir, "", ConfirmOptions{}); !errors.Is(err, ErrUnwatched) {
		t.Errorf("confirm after a reboot: %v, want ErrUnwatched", err)
	}
	if _, err := Confirm(dir, "", ConfirmOptions{Keep: true}); err != nil {
		t.Errorf("confirm --keep after a reboot: %v", err)
	}
}

// TestWatchdogRefusesToArm (B2): a watchdog that cannot find the pending
// file it was handed (a relative state directory, which it would look up
// from "/", or another apply's token) refuses to start, and StartWatchdog
// says so instead of leaving an apply nothing watches.
func TestWatchdogRefusesToArm(t *testing.T) {
	ns, h, _ := confirmSetup(t)
	have, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, c := range []struct {
		dir   func(p *Pending) string
		token func(p *Pending) string
		want  string
	}{
		{func(*Pending) string { return "state" }, func(p *Pending) string { return p.Token }, `the state directory "state" is not an absolute path`},
		{func(p *Pending) string { return p.Dir }, func(*Pending) string { return "0123" }, "belongs to another apply"},
		{func(*Pending) string { return "/" }, func(p *Pending) string { return p.Token }, "cannot find its pending file"},
	} {
		p, err := Snapshot("state", h, have, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(p.Dir) {
			t.Errorf("snapshot's directory %q is not absolute", p.Dir)
		}
		_, err = StartWatchdog(p, os.Args[0], watchdogArgv(c.dir(p), ns, c.token(p), "system"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("start: %v, want an error saying %q", err, c.want)
		}
		if err := Discard("state", p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfirmUnreadableWhileWatched (B9): a pending file damaged in place
// while its watchdog runs is moved aside by Confirm, and the watchdog,
// which no longer finds it under its name, leaves the apply alone instead
// of rolling back what the operator confirmed.
func TestConfirmUnreadableWhileWatched(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	dir := t.TempDir()
	c := startClient(t, ns, dir, policyB, time.Hour, "jump")
	applied := snapshot()
	pending := holdPending(t, dir, ns)
	// Same inode, new contents: what a disk error or a hand edit does.
	if err := os.WriteFile(pending.Name(), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Confirm(dir, ns, ConfirmOptions{})
	if err != nil || w.Unreadable == nil || !w.WatchdogAlive {
		t.Fatalf("confirm: %+v %v, want an unreadable file moved aside", w, err)
	}
	// Past the deadline now, on the watchdog's clock.
	if err := syscall.Kill(c.watchdog, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitWatchdog(t, pending)
	if o := lastRecord(t, dir, ns); o.Action != LeftAlone || o.Token != c.token {
		t.Errorf("watchdog record: %+v, want left alone", o)
	}
	if now := snapshot(); now != applied {
		t.Errorf("the confirmed state changed:\n%s\nwant:\n%s", now, applied)
	}
}

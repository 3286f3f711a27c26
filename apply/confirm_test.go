package apply

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestMain lets the test binary play two other roles: the client that
// runs an apply --confirm and then hangs (like an SSH session), and the
// watchdog it starts.
func TestMain(m *testing.M) {
	switch os.Getenv("FWC_APPLY_HELPER") {
	case "client":
		if err := confirmClient(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		select {} // the session hangs until killed
	case "watchdog":
		rolled, err := Watch(os.Getenv("FWC_STATE"), os.Getenv("FWC_NS"), os.Getenv("FWC_TOKEN"))
		fmt.Println("watchdog:", rolled, err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// confirmClient does what `fwc apply --confirm` does, with the test binary
// as the watchdog.
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
	dir := os.Getenv("FWC_STATE")
	p, err := Snapshot(dir, h, have, time.Now().Add(d))
	if err != nil {
		return err
	}
	os.Setenv("FWC_APPLY_HELPER", "watchdog")
	os.Setenv("FWC_TOKEN", p.Token)
	if _, err := StartWatchdog([]string{os.Args[0]}, filepath.Join(dir, "watchdog.log")); err != nil {
		return err
	}
	p2, err := NewPlan(have, w)
	if err != nil {
		return err
	}
	if out, err := Apply(h, p2, Options{}); err != nil {
		return fmt.Errorf("%v: %v", out, err)
	}
	fmt.Printf("applied %s\n", p.Deadline.Format(time.RFC3339Nano))
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

// startClient runs the client for policy src in its own process group and
// waits until it has applied; it returns the process and the deadline.
func startClient(t *testing.T, ns, dir, src string, confirm time.Duration) (*exec.Cmd, time.Time) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FWC_APPLY_HELPER=client", "FWC_NS="+ns, "FWC_POLICY="+path,
		"FWC_STATE="+dir, "FWC_CONFIRM="+confirm.String())
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
	if err != nil || len(f) != 2 || f[0] != "applied" {
		t.Fatalf("client: %q %v", line, err)
	}
	deadline, err := time.Parse(time.RFC3339Nano, f[1])
	if err != nil {
		t.Fatal(err)
	}
	return cmd, deadline
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
// ruleset and routes back within the timeout plus one second.
func TestConfirmTimeout(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	before := snapshot()
	dir := t.TempDir()

	client, deadline := startClient(t, ns, dir, policyB, 2*time.Second)
	if now := snapshot(); now == before || !strings.Contains(now, "lookup 20") {
		t.Fatalf("policy B is not in place:\n%s", now)
	}
	if err := syscall.Kill(-client.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = client.Wait()
	for {
		now := snapshot()
		if now == before {
			break
		}
		if time.Now().After(deadline.Add(time.Second)) {
			log, _ := os.ReadFile(filepath.Join(dir, "watchdog.log"))
			t.Fatalf("not rolled back by the deadline + 1 s; now:\n%s\nwant:\n%s\nwatchdog log: %s", now, before, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("rolled back %v after the deadline", time.Since(deadline).Round(time.Millisecond))
	if time.Now().Before(deadline) {
		t.Errorf("rolled back before the deadline")
	}
	if _, err := Confirm(dir, ns); !errors.Is(err, ErrNothingPending) {
		t.Errorf("confirm after the rollback: %v, want ErrNothingPending", err)
	}
}

// TestConfirmInTime: confirmed before the deadline, the new state stays.
func TestConfirmInTime(t *testing.T) {
	ns, h, snapshot := confirmSetup(t)
	mustApply(t, h, compileSrc(t, policyA), Options{})
	dir := t.TempDir()
	var deadline time.Time
	var applied string
	for _, window := range []time.Duration{time.Second, 5 * time.Second} {
		_, deadline = startClient(t, ns, dir, policyB, window)
		applied = snapshot()
		_, err := Confirm(dir, ns)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNothingPending) || !time.Now().After(deadline) || window > time.Second {
			t.Fatal(err)
		}
		// A loaded machine got here after the deadline, and the watchdog
		// rolled back as it should: try again with more time.
		t.Logf("confirm came after the %v window: %v; again with a longer one", window, err)
	}
	time.Sleep(time.Until(deadline) + 500*time.Millisecond)
	if now := snapshot(); now != applied {
		t.Errorf("confirmed state changed after the deadline:\n%s\nwant:\n%s", now, applied)
	}
	if _, err := Confirm(dir, ns); !errors.Is(err, ErrNothingPending) {
		t.Errorf("second confirm: %v, want ErrNothingPending", err)
	}
	// A pending apply blocks a second snapshot.
	have, _ := Read(h)
	p, err := Snapshot(dir, h, have, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(dir, h, have, time.Now().Add(time.Hour)); !errors.Is(err, ErrPending) {
		t.Errorf("second snapshot: %v, want ErrPending", err)
	}
	if err := Discard(dir, p); err != nil {
		t.Fatal(err)
	}
}

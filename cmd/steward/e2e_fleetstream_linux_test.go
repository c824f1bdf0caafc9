package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// clientProc is a client command running in the background, such as
// logs -f.
type clientProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed once it exited, with code set
	code           int
}

// background starts the client command args on e.
func (e *env) background(args ...string) *clientProc {
	e.t.Helper()
	return e.backgroundCmd(command(append([]string{"-c", e.config}, args...)...))
}

// backgroundCmd starts cmd, a client command of e.
func (e *env) backgroundCmd(cmd *exec.Cmd) *clientProc {
	e.t.Helper()
	p := &clientProc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitOutput waits until p's stdout holds want.
func (p *clientProc) waitOutput(t *testing.T, want string) {
	t.Helper()
	testwait.NoError(t, 30*time.Second, func() error {
		if strings.Contains(p.stdout.String(), want) {
			return nil
		}
		select {
		case <-p.done:
			t.Fatalf("%v exited %d before it printed %q: %s%s", p.cmd.Args, p.code, want, p.stdout, p.stderr)
		default:
		}
		return fmt.Errorf("%v printed %q, want %q", p.cmd.Args, p.stdout, want)
	})
}

// waitExit waits at most d for p to exit and returns its exit code.
func (p *clientProc) waitExit(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("%v did not exit within %v: %s%s", p.cmd.Args, d, p.stdout, p.stderr)
		return 0
	}
}

// TestFleetStreamsE2E: events --fleet and alerts --fleet list every
// node's, each with its node, by time, and name a killed node on stderr
// with the exit status 1; --node nb logs -f and events -f, asked of A,
// follow what happens on B after they started, end when the token they
// came with is revoked on A, and end with an error once B is killed.
func TestFleetStreamsE2E(t *testing.T) {
	crashy := "  crashy:\n    command: [\"{{prog}}\", \"-exit\", \"1\"]\n    restart: {backoff: 0s, max_restarts: 1, window: 1m}\n"
	port := freePort(t)
	fleet := newFleet(t, []string{"na", "nb", "nc"}, map[string]string{
		"na": crashy + fmt.Sprintf("api: {listen: \"127.0.0.1:%d\"}\n", port),
		"nb": crashy + "  talker:\n    command: [\"sh\", \"-c\", \"echo ready; while :; do if [ -e {{dir}}/say ]; then echo said-$(cat {{dir}}/say); rm {{dir}}/say; fi; sleep 0.05; done\"]\n",
	})
	a, b, c := fleet["na"], fleet["nb"], fleet["nc"]
	waitNodes(t, a.env, "na=up nb=up nc=up")

	// events --fleet: the events of the three nodes, by time.
	testwait.NoError(t, 30*time.Second, func() error {
		var evs []steward.FleetEvent
		if err := a.jsonOf(&evs, "events", "--fleet", "-o", "json"); err != nil {
			return err
		}
		nodes := map[string]bool{}
		for i, ev := range evs {
			nodes[ev.Node] = true
			if i > 0 && ev.Time.Before(evs[i-1].Time) {
				return fmt.Errorf("events --fleet not by time: %+v before %+v", evs[i-1], ev)
			}
		}
		if !nodes["na"] || !nodes["nb"] || !nodes["nc"] || len(nodes) != 3 {
			return fmt.Errorf("events --fleet: the events of %v", nodes)
		}
		return nil
	})
	if code, out, stderr := a.steward("events", "--fleet"); code != 0 || !strings.HasPrefix(out, "NODE  TIME") || !strings.Contains(out, "\nnc    ") {
		t.Errorf("events --fleet (table): exit %d:\n%s%s", code, out, stderr)
	}
	// alerts --fleet: crashy failed on A and on B.
	testwait.NoError(t, 30*time.Second, func() error {
		var list []steward.FleetAlert
		if err := a.jsonOf(&list, "alerts", "--fleet", "--all", "-o", "json"); err != nil {
			return err
		}
		var got []string
		for i, al := range list {
			got = append(got, al.Node+"/"+al.Subject+"/"+al.Rule)
			if i > 0 && al.Started.Before(list[i-1].Started) {
				return fmt.Errorf("alerts --fleet not by time: %+v", list)
			}
		}
		slices.Sort(got)
		if strings.Join(got, " ") != "na/crashy/failed nb/crashy/failed" {
			return fmt.Errorf("alerts --fleet: %v", got)
		}
		return nil
	})
	if code, out, stderr := a.steward("alerts", "--fleet"); code != 0 || !strings.HasPrefix(out, "NODE  ID") || !strings.Contains(out, "nb    ") {
		t.Errorf("alerts --fleet (table): exit %d:\n%s%s", code, out, stderr)
	}
	if code, _, stderr := a.steward("events", "--fleet", "-f"); code != 2 || !strings.Contains(stderr, "--node NAME") {
		t.Errorf("events --fleet -f: exit %d: %s", code, stderr)
	}

	// --node nb logs -f and events -f, through A.
	logs := a.background("--node", "nb", "logs", "-f", "-n", "5", "talker")
	logs.waitOutput(t, "ready")
	if err := os.WriteFile(filepath.Join(b.dir, "say"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs.waitOutput(t, "said-hello")
	events := a.background("--node", "nb", "events", "-f", "-n", "1", "-o", "json")
	testwait.NoError(t, 30*time.Second, func() error {
		if strings.Count(events.stdout.String(), "\n") >= 1 {
			return nil
		}
		return fmt.Errorf("events -f printed %q", events.stdout)
	})
	if code, _, stderr := b.steward("restart", "talker"); code != 0 {
		t.Fatalf("restart talker on nb: exit %d: %s", code, stderr)
	}
	events.waitOutput(t, `"service":"talker"`)
	logs.waitOutput(t, "ready\nsaid-hello\nready") // the talker's next run

	// A token's stream through A ends when A revokes the token.
	code, secret, stderr := a.steward("token", "create", "watcher", "--role", "viewer")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	cmd := command("--socket", fmt.Sprintf("http://127.0.0.1:%d", port), "--node", "nb", "logs", "-f", "talker")
	cmd.Env = append(cmd.Env, "STEWARD_TOKEN="+strings.TrimSpace(secret))
	watcher := a.backgroundCmd(cmd)
	watcher.waitOutput(t, "ready")
	if code, _, stderr := a.steward("token", "revoke", "watcher"); code != 0 {
		t.Fatalf("token revoke: %d %s", code, stderr)
	}
	watcher.waitExit(t, 10*time.Second)

	// C is killed: events --fleet and alerts --fleet name it, at once.
	c.run.cmd.Process.Kill()
	<-c.run.done
	waitNodes(t, a.env, "na=up nb=up nc=down")
	for _, args := range [][]string{{"events", "--fleet", "-o", "json"}, {"alerts", "--fleet", "--all", "-o", "json"}} {
		began := time.Now()
		code, out, stderr := a.steward(args...)
		var list []map[string]any
		if code != 1 || !strings.Contains(stderr, "steward: node nc: ") || !strings.Contains(stderr, "down") || json.Unmarshal([]byte(out), &list) != nil || len(list) == 0 {
			t.Errorf("%v with nc down: exit %d: %s%s", args, code, out, stderr)
		}
		for _, v := range list {
			if v["node"] == "nc" || v["node"] == nil {
				t.Errorf("%v with nc down: %v", args, v)
			}
		}
		if d := time.Since(began); d > 20*time.Second {
			t.Errorf("%v with nc down took %v", args, d)
		}
	}

	// B is killed: both streams end with an error, within their timeout.
	b.run.cmd.Process.Kill()
	<-b.run.done
	for name, p := range map[string]*clientProc{"logs -f": logs, "events -f": events} {
		if code := p.waitExit(t, 30*time.Second); code == 0 || !strings.Contains(p.stderr.String(), `node "nb"`) {
			t.Errorf("%s once nb was killed: exit %d: %s", name, code, p.stderr)
		}
		t.Logf("%s once nb was killed: %s", name, p.stderr)
	}
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// registryOf returns "ID@NODE:healthy" of each instance of name e lists.
func registryOf(e *env, name string) (string, error) {
	var list []steward.Instance
	if err := e.jsonOf(&list, "registry", name, "-o", "json"); err != nil {
		return "", err
	}
	var out []string
	for _, in := range list {
		out = append(out, fmt.Sprintf("%s@%s:%t", in.ID, in.Node, in.Healthy))
	}
	return strings.Join(out, " "), nil
}

func waitRegistry(t *testing.T, e *env, name, want string) {
	t.Helper()
	testwait.NoError(t, 30*time.Second, func() error {
		got, err := registryOf(e, name)
		if err == nil && got != want {
			err = fmt.Errorf("registry %s: %q, want %q", name, got, want)
		}
		return err
	})
}

// TestRegistryE2E: instances registered through B's API are listed on A;
// heartbeats keep one healthy past its TTL, and without them it turns
// unhealthy, then leaves; a failing heartbeat marks one unhealthy; pick
// goes round the healthy instances of both nodes; deregister removes one
// everywhere; bad input is refused; and when B is killed its instances
// leave A's list.
func TestRegistryE2E(t *testing.T) {
	fleet := newFleet(t, []string{"na", "nb"}, nil)
	a, b := fleet["na"], fleet["nb"]
	waitNodes(t, a.env, "na=up nb=up")

	if code, out, stderr := b.steward("registry", "register", "--name", "shop", "--port", "9001", "--tag", "v1",
		"--ttl", "2s", "--deregister-after", "6s", "--id", "s1"); code != 0 || out != "s1\n" {
		t.Fatalf("register s1 on nb: exit %d: %s%s", code, out, stderr)
	}
	var s2 steward.Instance
	if err := b.jsonOf(&s2, "registry", "register", "--name", "shop", "--port", "9002", "--meta", "zone=b", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s2.ID, "shop-") || s2.Node != "nb" || !s2.Healthy || s2.TTL != "30s" || s2.Meta["zone"] != "b" {
		t.Errorf("register s2 on nb: %+v", s2)
	}
	waitRegistry(t, a.env, "shop", fmt.Sprintf("s1@nb:true %s@nb:true", s2.ID))
	var tagged []steward.Instance
	if err := a.jsonOf(&tagged, "registry", "--tag", "v1", "--node", "nb", "--healthy", "-o", "json"); err != nil || len(tagged) != 1 || tagged[0].ID != "s1" || tagged[0].Port != 9001 {
		t.Errorf("registry --tag v1 --node nb: %+v %v", tagged, err)
	}
	// Registering s1 again replaces it: no duplicate.
	if code, _, stderr := b.steward("registry", "register", "--name", "shop", "--port", "9001", "--tag", "v1",
		"--ttl", "2s", "--deregister-after", "6s", "--id", "s1"); code != 0 {
		t.Fatalf("register s1 again: exit %d: %s", code, stderr)
	}

	// Heartbeats every 500 ms keep s1 healthy for twice its TTL.
	tick := time.NewTicker(500 * time.Millisecond)
	for began := time.Now(); time.Since(began) < 4*time.Second; <-tick.C {
		if code, out, stderr := b.steward("registry", "heartbeat", "shop", "s1"); code != 0 || out != "shop s1 healthy=true\n" {
			t.Fatalf("heartbeat s1: exit %d: %s%s", code, out, stderr)
		}
	}
	tick.Stop()
	if got, err := registryOf(a.env, "shop"); err != nil || got != fmt.Sprintf("s1@nb:true %s@nb:true", s2.ID) {
		t.Errorf("after 4 s of heartbeats: %q %v", got, err)
	}
	// Without them: unhealthy after its TTL, gone after deregister_after.
	waitRegistry(t, a.env, "shop", fmt.Sprintf("s1@nb:false %s@nb:true", s2.ID))
	waitRegistry(t, a.env, "shop", s2.ID+"@nb:true")
	if code, _, stderr := b.steward("registry", "heartbeat", "shop", "s1"); code != 1 || !strings.Contains(stderr, `no instance "s1" of "shop"`) {
		t.Errorf("heartbeat of the removed s1: exit %d: %s", code, stderr)
	}

	// A failing heartbeat marks s2 unhealthy, with its note; a passing one
	// healthy again.
	if code, out, stderr := b.steward("registry", "heartbeat", s2.ID, "--failing", "-m", "disk full", "shop"); code != 1 || !strings.Contains(stderr, "no instance") {
		t.Errorf("heartbeat with NAME and ID swapped: exit %d: %s%s", code, out, stderr)
	}
	if code, out, stderr := b.steward("registry", "heartbeat", "shop", s2.ID, "--failing", "-m", "disk full"); code != 0 || !strings.Contains(out, "healthy=false") {
		t.Errorf("failing heartbeat: exit %d: %s%s", code, out, stderr)
	}
	testwait.NoError(t, 30*time.Second, func() error {
		var list []steward.Instance
		if err := a.jsonOf(&list, "registry", "shop", "-o", "json"); err != nil {
			return err
		}
		if len(list) != 1 || list[0].Healthy || list[0].Note != "disk full" {
			return fmt.Errorf("after a failing heartbeat: %+v", list)
		}
		return nil
	})
	if code, _, stderr := a.steward("registry", "pick", "shop"); code != 1 || !strings.Contains(stderr, `no healthy instance of "shop"`) {
		t.Errorf("pick with none healthy: exit %d: %s", code, stderr)
	}
	if code, _, stderr := b.steward("registry", "heartbeat", "shop", s2.ID); code != 0 {
		t.Errorf("heartbeat s2: exit %d: %s", code, stderr)
	}

	// s3 on A: pick goes round s2 (on B) and s3.
	if code, _, stderr := a.steward("registry", "register", "--name", "shop", "--port", "9003", "--address", "127.0.0.3", "--id", "s3"); code != 0 {
		t.Fatalf("register s3 on na: exit %d: %s", code, stderr)
	}
	waitRegistry(t, b.env, "shop", fmt.Sprintf("s3@na:true %s@nb:true", s2.ID))
	var beat steward.Instance
	if err := a.jsonOf(&beat, "registry", "heartbeat", "shop", "s3", "-m", "fine", "-o", "json"); err != nil || beat.Note != "fine" || !beat.Healthy || beat.Node != "na" {
		t.Errorf("heartbeat s3 -o json: %+v %v", beat, err)
	}
	var picks []string
	for range 4 {
		code, out, stderr := a.steward("registry", "pick", "shop")
		if code != 0 {
			t.Fatalf("pick: exit %d: %s", code, stderr)
		}
		picks = append(picks, strings.TrimSpace(out))
	}
	if picks[0] == picks[1] || picks[0] != picks[2] || picks[1] != picks[3] || !slices.Contains(picks, "127.0.0.3:9003") {
		t.Errorf("picks: %v, want s2 and s3 in turn", picks)
	}
	var picked steward.Instance
	if err := a.jsonOf(&picked, "registry", "pick", "shop", "-o", "json"); err != nil || picked.Name != "shop" || !picked.Healthy {
		t.Errorf("pick -o json: %+v %v", picked, err)
	}

	// Deregister s3: gone from B's list too; an unknown one is a 404.
	if code, out, stderr := a.steward("registry", "deregister", "shop", "s3"); code != 0 || out != "" {
		t.Errorf("deregister s3: exit %d: %s%s", code, out, stderr)
	}
	waitRegistry(t, b.env, "shop", s2.ID+"@nb:true")
	if code, _, stderr := a.steward("registry", "deregister", "shop", "s3"); code != 1 || !strings.Contains(stderr, `no instance "s3"`) {
		t.Errorf("deregister s3 again: exit %d: %s", code, stderr)
	}

	// Bad input: refused, nothing registered.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "shop", "--port", "70000"}, "port 70000"},
		{[]string{"--name", "shop", "--port", "1", "--ttl", "10ms"}, `ttl "10ms"`},
		{[]string{"--name", "a/b", "--port", "1"}, `name "a/b"`},
		{[]string{"--name", "shop", "--port", "1", "--meta", "novalue"}, "--meta"},
	} {
		if code, _, stderr := a.steward(append([]string{"registry", "register"}, c.args...)...); code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("register %v: exit %d: %s, want %q", c.args, code, stderr, c.want)
		}
	}
	if got, err := registryOf(a.env, "shop"); err != nil || got != s2.ID+"@nb:true" {
		t.Errorf("after bad registrations: %q %v", got, err)
	}

	// B is killed: its instances leave A's list with its presence.
	b.run.cmd.Process.Kill()
	<-b.run.done
	waitRegistry(t, a.env, "shop", "")
}

// TestRegistryNoBus: without a bus, the list, registering, heartbeats,
// deregister and pick are a 409 naming the missing bus: section.
func TestRegistryNoBus(t *testing.T) {
	e := newEnv(t, "services:\n  a: {command: [\"{{prog}}\"]}\n")
	e.run()
	for _, args := range [][]string{
		{},
		{"register", "--name", "shop", "--port", "1"},
		{"heartbeat", "shop", "s1"},
		{"deregister", "shop", "s1"},
		{"pick", "shop"},
	} {
		if code, _, stderr := e.steward(append([]string{"registry"}, args...)...); code != 1 || !strings.Contains(stderr, "no fleet: add a bus: section") {
			t.Errorf("registry %v without a bus: exit %d: %s", args, code, stderr)
		}
	}
}

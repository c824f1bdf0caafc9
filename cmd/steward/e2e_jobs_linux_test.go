package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// runsJSON returns the runs as `steward runs -o json` lists them.
func (e *env) runsJSON(args ...string) []map[string]any {
	e.t.Helper()
	code, out, stderr := e.steward(append([]string{"runs", "-o", "json"}, args...)...)
	if code != 0 {
		e.t.Fatalf("runs: exit %d: %s", code, stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("runs -o json: %v\n%s", err, out)
	}
	return list
}

func TestJobsRunWaitRunsAndNext(t *testing.T) {
	e := newEnv(t, `
jobs:
  ok: {command: "sh -c 'echo hello from $STEWARD_JOB'"}
  bad: {command: "sh -c 'exit 3'"}
  nightly: {schedule: "0 0 * * *", timezone: UTC, command: "true"}
`)
	e.run()
	if code, out, stderr := e.steward("jobs", "run", "ok", "--wait"); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("jobs run ok --wait: exit %d, %q %q; want 0 and succeeded", code, out, stderr)
	}
	if code, out, _ := e.steward("jobs", "run", "bad", "--wait"); code != 1 || !strings.Contains(out, "failed (exit 3)") {
		t.Fatalf("jobs run bad --wait: exit %d, %q; want 1 and failed (exit 3)", code, out)
	}
	list := e.runsJSON()
	if len(list) != 2 {
		t.Fatalf("%d runs, want 2: %v", len(list), list)
	}
	for _, r := range list {
		for _, k := range []string{"id", "kind", "name", "status", "trigger", "started", "ended", "exit_code"} {
			if _, ok := r[k]; !ok {
				t.Errorf("run %v has no %s", r, k)
			}
		}
		if r["kind"] != "job" || r["trigger"] != "manual" {
			t.Errorf("run %v: want kind job, trigger manual", r)
		}
	}
	okID := strconv.Itoa(int(list[1]["id"].(float64)))
	if list := e.runsJSON("bad"); len(list) != 1 || list[0]["status"] != "failed" || list[0]["exit_code"] != 3.0 {
		t.Errorf("runs bad = %v, want one failed with exit_code 3", list)
	}
	if code, out, _ := e.steward("runs", "logs", okID); code != 0 || out != "hello from ok\n" {
		t.Errorf("runs logs %s: exit %d, %q", okID, code, out)
	}
	if code, out, _ := e.steward("runs", "show", okID); code != 0 || !strings.Contains(out, "trigger: manual") {
		t.Errorf("runs show %s: exit %d, %q", okID, code, out)
	}

	code, out, _ := e.steward("jobs", "next", "nightly", "-n", "3")
	lines := strings.Fields(out)
	if code != 0 || len(lines) != 3 {
		t.Fatalf("jobs next: exit %d, %q; want 3 times", code, out)
	}
	for i, l := range lines {
		at, err := time.Parse(time.RFC3339, l)
		if err != nil || at.Hour() != 0 || at.Minute() != 0 || (i > 0 && at.Sub(mustTime(t, lines[i-1])) != 24*time.Hour) {
			t.Errorf("jobs next line %d = %q (%v): want midnights a day apart", i, l, err)
		}
	}
	var jobs []steward.Job
	_, out, _ = e.steward("jobs", "-o", "json")
	if err := json.Unmarshal([]byte(out), &jobs); err != nil || len(jobs) != 3 {
		t.Fatalf("jobs -o json: %v %q", err, out)
	}
	if jobs[0].Name != "ok" || jobs[0].Last == nil || jobs[0].Last.Status != steward.RunSucceeded || jobs[2].Next.IsZero() {
		t.Errorf("jobs = %+v", jobs)
	}

	// Bad input: a usage error, an unknown job and a run that ended.
	if code, _, _ := e.steward("runs", "show", "x"); code != 2 {
		t.Errorf("runs show x: exit %d, want 2", code)
	}
	if code, _, stderr := e.steward("jobs", "run", "nope"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("jobs run nope: exit %d %q, want 1 and not found", code, stderr)
	}
	if code, _, stderr := e.steward("runs", "cancel", okID); code != 1 || !strings.Contains(stderr, "already") {
		t.Errorf("runs cancel of an ended run: exit %d %q", code, stderr)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// catchUps counts the runs with trigger catch-up.
func catchUps(list []map[string]any) int {
	n := 0
	for _, r := range list {
		if r["trigger"] == steward.TriggerCatchUp {
			n++
		}
	}
	return n
}

func TestJobsCatchUpAcrossRestart(t *testing.T) {
	e := newEnv(t, `
jobs:
  tick: {schedule: "@every 1s", missed: once, command: "true"}
`)
	d := e.run()
	testwait.For(t, 10*time.Second, "a scheduled run", func() bool { return len(e.runsJSON("tick")) > 0 })
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	stopped := time.Now()
	// Down for a few scheduled times.
	testwait.For(t, 10*time.Second, "3 s of down time", func() bool { return time.Since(stopped) > 3*time.Second })

	e.run()
	testwait.For(t, 10*time.Second, "the catch-up run", func() bool { return catchUps(e.runsJSON("tick")) > 0 })
	// Scheduled runs follow; the catch-up stays the only one.
	testwait.For(t, 10*time.Second, "a scheduled run after it", func() bool {
		list := e.runsJSON("tick")
		return len(list) > 0 && list[0]["trigger"] == steward.TriggerSchedule && list[0]["status"] == "succeeded" &&
			mustTime(t, list[0]["started"].(string)).After(stopped.Add(3*time.Second))
	})
	list := e.runsJSON("tick")
	if n := catchUps(list); n != 1 {
		t.Fatalf("%d catch-up runs, want exactly 1: %v", n, list)
	}
	for _, r := range list {
		if r["trigger"] != steward.TriggerCatchUp {
			continue
		}
		if at := mustTime(t, r["scheduled"].(string)); at.Before(stopped) || at.After(time.Now()) {
			t.Errorf("catch-up scheduled at %v, want within the down time from %v", at, stopped)
		}
	}
}

func TestJobsReloadKeepsServices(t *testing.T) {
	e := newEnv(t, `
services:
  web: {command: ["{{prog}}"]}
jobs:
  j: {schedule: "0 0 * * *", timezone: UTC, command: "true"}
`)
	e.run()
	web := e.waitState("web", steward.StateRunning)
	// An invalid job is rejected with its position, and nothing changes.
	e.write(`
services:
  web: {command: ["{{prog}}"]}
jobs:
  j: {schedule: "0 0 * * *", timezone: Mars/Olympus, command: "true"}
`)
	if code, _, stderr := e.steward("reload"); code != 1 || !strings.Contains(stderr, `steward.yaml:6:40: job "j": unknown time zone`) || !strings.Contains(stderr, "Mars/Olympus") {
		t.Fatalf("reload of an invalid zone: exit %d, %q; want 1 with its position", code, stderr)
	}
	e.write(`
services:
  web: {command: ["{{prog}}"]}
jobs:
  j: {schedule: "0 12 * * *", timezone: UTC, command: "true"}
  k: {command: "true"}
`)
	if code, _, stderr := e.steward("reload"); code != 0 {
		t.Fatalf("reload: exit %d, %s", code, stderr)
	}
	var jobs []steward.Job
	_, out, _ := e.steward("jobs", "-o", "json")
	if err := json.Unmarshal([]byte(out), &jobs); err != nil || len(jobs) != 2 {
		t.Fatalf("jobs after reload: %v %q", err, out)
	}
	if jobs[0].Schedule != "0 12 * * *" || jobs[0].Next.Hour() != 12 || jobs[1].Name != "k" {
		t.Errorf("jobs after reload = %+v; want j at noon, and k", jobs)
	}
	if now := e.ps()["web"]; now.PID != web.PID {
		t.Errorf("web restarted by a job change: pid %d → %d", web.PID, now.PID)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

// dlqConfig has a stream orders that keeps its dead letters, and a service
// worker that writes its NATS_URL to worker.url, so that the test can be
// that service's NATS client.
const dlqConfig = `node: e2e
bus:
  listen: %s
  streams:
    orders: {subjects: ["orders.>"], dead_letter: {max_deliver: 2}}
services:
  worker:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/url.tmp" && mv "{{dir}}/url.tmp" "{{dir}}/worker.url" && exec sleep 3600']
`

// workerJS connects to the bus as the service worker, with the NATS_URL it
// was given (after a restart, the new one), and returns its JetStream once
// steward has made the stream orders and the one that takes its dead
// letters' advisories (the bus starts apart from the services).
func workerJS(t *testing.T, e *env, not string) (string, jetstream.JetStream) {
	t.Helper()
	testwait.NoError(t, 20*time.Second, func() error {
		var list []steward.BusStream
		code, out, stderr := e.steward("bus", "streams", "-o", "json")
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
			return fmt.Errorf("bus streams: exit %d: %s%s", code, out, stderr)
		}
		have := map[string]bool{}
		for _, st := range list {
			// STEWARD_DLQ_ADVISORIES, or STEWARD_DLQ_ADVISORIES_NODE on a
			// JetStream of bus.url.
			have[strings.TrimSuffix(st.Name, "_edge")] = true
		}
		if !have["orders"] || !have["STEWARD_DLQ_ADVISORIES"] {
			return fmt.Errorf("streams %v, want orders and STEWARD_DLQ_ADVISORIES", have)
		}
		return nil
	})
	var url string
	var nc *nats.Conn
	testwait.NoError(t, 20*time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(e.dir, "worker.url"))
		if err != nil {
			return err
		}
		if url = string(b); url == not {
			return errors.New("worker has the old NATS_URL still")
		}
		nc, err = nats.Connect(url, nats.MaxReconnects(0))
		return err
	})
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return url, js
}

// nakToDeath delivers the next message of cons (max deliver 2) twice,
// naks it both times, and asks once more, when JetStream gives up on it.
func nakToDeath(t *testing.T, cons jetstream.Consumer) {
	t.Helper()
	for i := range 3 {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			m.Nak()
		}
		if i < 2 && n != 1 {
			t.Fatalf("delivery %d: %d messages, want 1", i+1, n)
		}
	}
}

// deadLetters is `steward bus dlq -o json`, once it lists want entries.
func deadLetters(t *testing.T, e *env, want int) []steward.BusDeadLetter {
	t.Helper()
	var list []steward.BusDeadLetter
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("bus", "dlq", "-o", "json")
		if code != 0 {
			return fmt.Errorf("bus dlq: exit %d: %s", code, stderr)
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return fmt.Errorf("bus dlq -o json: %v\n%s", err, out)
		}
		if len(list) != want {
			return fmt.Errorf("%d dead letters, want %d", len(list), want)
		}
		return nil
	})
	return list
}

// TestBusDLQE2E: a consumer that naks a message to its max deliver puts
// it in `steward bus dlq`; `bus dlq show` has its data; `bus dlq replay`
// delivers it again on its subject; `bus dlq purge` removes a terminated
// one.
func TestBusDLQE2E(t *testing.T) {
	e := newEnv(t, fmt.Sprintf(dlqConfig, freeAddr(t)))
	e.run()
	_, js := workerJS(t, e, "")
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, "orders", jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := e.steward("bus", "pub", "orders.new", "order 1"); code != 0 {
		t.Fatalf("bus pub: exit %d: %s", code, stderr)
	}
	nakToDeath(t, cons)

	d := deadLetters(t, e, 1)[0]
	if d.Stream != "orders" || d.Subject != "orders.new" || d.Consumer != "worker" || d.Deliveries != 2 || d.Reason != "max_deliveries" {
		t.Errorf("bus dlq: %+v", d)
	}
	code, out, stderr := e.steward("bus", "dlq")
	if code != 0 || !strings.Contains(out, "orders.new") || !strings.Contains(out, "max_deliveries") {
		t.Errorf("bus dlq: exit %d: %s%s", code, out, stderr)
	}
	code, out, stderr = e.steward("bus", "dlq", "show", fmt.Sprint(d.ID))
	if code != 0 || !strings.Contains(out, "consumer:    worker") || !strings.Contains(out, "data:\norder 1") {
		t.Errorf("bus dlq show: exit %d: %s%s", code, out, stderr)
	}

	code, out, stderr = e.steward("bus", "dlq", "replay", fmt.Sprint(d.ID))
	if code != 0 || !strings.Contains(out, "on orders.new") || !strings.Contains(out, "stored in orders as 2") {
		t.Errorf("bus dlq replay: exit %d: %s%s", code, out, stderr)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		got++
		if m.Subject() != "orders.new" || string(m.Data()) != "order 1" {
			t.Errorf("replayed: %q on %s", m.Data(), m.Subject())
		}
		m.Ack()
	}
	if got != 1 {
		t.Errorf("the worker got %d messages after the replay, want 1", got)
	}
	deadLetters(t, e, 0)
	if code, _, stderr := e.steward("bus", "dlq", "show", fmt.Sprint(d.ID)); code != 1 || !strings.Contains(stderr, "no dead letter "+fmt.Sprint(d.ID)) {
		t.Errorf("bus dlq show of a replayed entry: exit %d: %s", code, stderr)
	}

	// A terminated message, then purged.
	if code, _, stderr := e.steward("bus", "pub", "orders.bad", "order 2"); code != 0 {
		t.Fatalf("bus pub: exit %d: %s", code, stderr)
	}
	batch, err = cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		m.TermWithReason("unknown item")
	}
	if d := deadLetters(t, e, 1)[0]; d.Reason != "terminated: unknown item" || d.Subject != "orders.bad" {
		t.Errorf("terminated: %+v", d)
	}
	if code, out, _ := e.steward("bus", "dlq", "replay", "--all", "--stream", "other"); code != 0 || out != "replayed 0 dead letters\n" {
		t.Errorf("bus dlq replay --all --stream other: exit %d: %s", code, out)
	}
	if code, out, _ := e.steward("bus", "dlq", "purge", "orders"); code != 0 || out != "removed 1 dead letters\n" {
		t.Errorf("bus dlq purge: exit %d: %s", code, out)
	}
	deadLetters(t, e, 0)

	// Usage errors exit 2.
	for _, args := range [][]string{{"replay"}, {"replay", "1", "--all"}, {"replay", "1", "--stream", "orders"}, {"show", "x"}, {"show", "0"}} {
		if code, _, _ := e.steward(append([]string{"bus", "dlq"}, args...)...); code != 2 {
			t.Errorf("bus dlq %v: exit %d, want 2", args, code)
		}
	}
}

// TestBusServicesE2E: a supervised plugin that registers a NATS micro
// service is in `steward bus services` with its endpoint and figures, and
// in `nats micro ls`, a client nobody here wrote.
func TestBusServicesE2E(t *testing.T) {
	natsBin := natsCLI(t)
	e := newEnv(t, fmt.Sprintf(`bus: {listen: %s}
services:
  plugin:
    command: [sh, -c, 'printf %%s "$NATS_URL" > "{{dir}}/url.tmp" && mv "{{dir}}/url.tmp" "{{dir}}/plugin.url" && exec "{{prog}}" -micro adder']
`, freeAddr(t)))
	e.run()
	var list []steward.BusService
	testwait.NoError(t, 20*time.Second, func() error {
		code, out, stderr := e.steward("bus", "services", "-o", "json")
		if code != 0 {
			return fmt.Errorf("bus services: exit %d: %s", code, stderr)
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return err
		}
		if len(list) != 1 {
			return fmt.Errorf("%d services, want 1", len(list))
		}
		return nil
	})
	if code, out, stderr := e.steward("bus", "req", "adder.echo", "one two"); code != 0 || strings.TrimSpace(out) != "one two" {
		t.Errorf("bus req adder.echo: exit %d: %q %s", code, out, stderr)
	}
	code, out, stderr := e.steward("bus", "services", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 {
		t.Fatalf("bus services: exit %d: %s%s", code, out, stderr)
	}
	s := list[0]
	if s.Name != "adder" || s.Version != "1.0.0" || s.ID == "" || len(s.Endpoints) != 1 {
		t.Fatalf("bus services: %+v", s)
	}
	if ep := s.Endpoints[0]; ep.Name != "echo" || ep.Subject != "adder.echo" || ep.Requests != 1 || ep.Errors != 0 {
		t.Errorf("endpoint %+v", ep)
	}
	code, out, _ = e.steward("bus", "services")
	if code != 0 || !strings.Contains(out, "adder") || !strings.Contains(out, "adder.echo") || !strings.Contains(out, s.ID) {
		t.Errorf("bus services: exit %d:\n%s", code, out)
	}

	url, err := os.ReadFile(filepath.Join(e.dir, "plugin.url"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"micro", "ls"}, {"micro", "info", "adder"}} {
		cmd := exec.Command(natsBin, append([]string{"--server", string(url)}, args...)...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+e.dir, "HOME="+e.dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "adder") || !strings.Contains(string(out), s.ID) {
			t.Errorf("nats %v: %v\n%s", args, err, out)
		}
		if args[1] == "info" && !strings.Contains(string(out), "adder.echo") {
			t.Errorf("nats micro info adder: no endpoint adder.echo\n%s", out)
		}
	}
}

// TestBusKill9E2E: steward killed with SIGKILL while a stream holds a
// message delivered and not acked, one not delivered yet and a dead letter
// loses none of them: after the restart the consumer gets both, and the
// dead letter is still there to replay.
func TestBusKill9E2E(t *testing.T) {
	e := newEnv(t, fmt.Sprintf(dlqConfig, freeAddr(t)))
	first := e.run()
	oldURL, js := workerJS(t, e, "")
	ctx := context.Background()
	cfg := jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 2, AckWait: 2 * time.Second}
	cons, err := js.CreateOrUpdateConsumer(ctx, "orders", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := e.steward("bus", "pub", "orders.dead", "order 1"); code != 0 {
		t.Fatalf("bus pub: exit %d: %s", code, stderr)
	}
	nakToDeath(t, cons)
	dead := deadLetters(t, e, 1)[0]
	for _, s := range []string{"a", "b"} {
		if code, _, stderr := e.steward("bus", "pub", "orders."+s, "order "+s); code != 0 {
			t.Fatalf("bus pub: exit %d: %s", code, stderr)
		}
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if string(m.Data()) != "order a" {
			t.Fatalf("fetched %q, want order a", m.Data())
		}
	}

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	e.run()
	_, js = workerJS(t, e, oldURL)

	if d := deadLetters(t, e, 1)[0]; d.ID != dead.ID || d.Subject != "orders.dead" || d.Reason != "max_deliveries" {
		t.Errorf("dead letter after the restart: %+v, want %+v", d, dead)
	}
	code, out, stderr := e.steward("bus", "dlq", "show", fmt.Sprint(dead.ID))
	if code != 0 || !strings.Contains(out, "data:\norder 1") {
		t.Errorf("bus dlq show after the restart: exit %d: %s%s", code, out, stderr)
	}
	var streams []steward.BusStream
	code, out, _ = e.steward("bus", "streams", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &streams) != nil {
		t.Fatalf("bus streams: exit %d: %s", code, out)
	}
	for _, st := range streams {
		if st.Name == "orders" && st.Messages != 3 {
			t.Errorf("orders after the restart: %d messages, want 3", st.Messages)
		}
	}
	cons, err = js.Consumer(ctx, "orders", "worker")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	testwait.NoError(t, 20*time.Second, func() error {
		batch, err := cons.Fetch(2, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			got[string(m.Data())] = md.NumDelivered
			m.Ack()
		}
		if len(got) != 2 {
			return fmt.Errorf("the worker got %v after the restart, want order a and order b", got)
		}
		return nil
	})
	// JetStream writes a consumer's delivered state asynchronously: the
	// delivery of order a before the SIGKILL may or may not be counted.
	if got["order a"] < 1 || got["order a"] > 2 || got["order b"] != 1 {
		t.Errorf("deliveries after the restart: %v, want order a once or twice and order b once", got)
	}
	if code, out, stderr := e.steward("bus", "dlq", "replay", "--all"); code != 0 || out != "replayed 1 dead letters\n" {
		t.Errorf("bus dlq replay --all: exit %d: %s%s", code, out, stderr)
	}
}

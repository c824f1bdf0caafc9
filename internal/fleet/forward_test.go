package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/testwait"
)

var alice = steward.Principal{Who: "uid:1000:alice", Role: steward.RoleViewer, Via: "socket"}

// TestForward: a request for another node is answered by that node's
// handler with the caller's principal, via this node; bodies larger than
// a message go in chunks; this node answers its own requests itself.
func TestForward(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour)
	b.beat()
	waitStates(t, a.Fleet, "a=up b=up")

	rec := httptest.NewRecorder()
	rq := Request{Method: "GET", Target: "/who?x=1", Header: http.Header{"Accept": {"application/json"}}, Principal: alice}
	if err := a.Forward(context.Background(), "b", rq, rec); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Node      string
		Principal steward.Principal
		Query     string
		Remote    string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %v: %s (%v)", rec.Code, rec.Header(), rec.Body, err)
	}
	want := alice
	want.Via = "node:a"
	if got.Node != "b" || got.Principal != want || got.Query != "x=1" || got.Remote != "fleet:a" {
		t.Errorf("answer: %+v", got)
	}

	big := bytes.Repeat([]byte("0123456789"), 60_000) // over two chunks
	rec = httptest.NewRecorder()
	if err := a.Forward(context.Background(), "b", Request{Method: "POST", Target: "/echo", Body: big, Principal: alice}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusCreated || !bytes.Equal(rec.Body.Bytes(), big) {
		t.Errorf("echo: %d, %d bytes, want 201 and %d", rec.Code, rec.Body.Len(), len(big))
	}

	rec = httptest.NewRecorder()
	if err := a.Forward(context.Background(), "a", Request{Method: "GET", Target: "/who", Principal: alice}, rec); err != nil || !strings.Contains(rec.Body.String(), `"node":"a"`) {
		t.Errorf("own request: %v %s", err, rec.Body)
	}
	if err := a.Forward(context.Background(), "a", Request{Method: "BAD METHOD", Target: "/who"}, httptest.NewRecorder()); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("own request with a bad method: %v", err)
	}
	if err := a.Forward(context.Background(), "b", Request{Method: "POST", Target: "/echo", Body: make([]byte, 2<<20), Principal: alice}, httptest.NewRecorder()); steward.ErrorCode(err) != steward.ETOOLARGE {
		t.Errorf("a request larger than the bus carries: %v", err)
	}
}

// TestForwardErrors: a node that is not known, down, without a responder
// or silent is an error naming it, in time; a request without its
// principal is refused by the node.
func TestForwardErrors(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	nc := connect(t, url)
	// ghost heartbeats but has no API; mute takes requests and never
	// answers.
	nc.Publish(presenceSubject("ghost"), []byte(`{"name": "ghost"}`))
	nc.Publish(presenceSubject("mute"), []byte(`{"name": "mute"}`))
	mute, err := nc.SubscribeSync(apiSubject("mute"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	waitStates(t, a.Fleet, "a=up ghost=up mute=up")
	rq := Request{Method: "GET", Target: "/who", Principal: alice, Timeout: 200 * time.Millisecond}
	for node, want := range map[string]string{
		"nowhere": `no node "nowhere" in the fleet`,
		"ghost":   `node "ghost" does not answer on the bus`,
		"mute":    `node "mute" did not answer within 200ms`,
	} {
		err := a.Forward(context.Background(), node, rq, httptest.NewRecorder())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", node, err, want)
		}
	}
	if _, err := mute.NextMsg(time.Second); err != nil {
		t.Errorf("mute got no request: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Forward(ctx, "mute", rq, httptest.NewRecorder()); err != context.Canceled {
		t.Errorf("a request whose caller went away: %v", err)
	}
	clk.add(1500 * time.Millisecond)
	if err := a.Forward(context.Background(), "ghost", rq, httptest.NewRecorder()); steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), `node "ghost" is down (last seen 1.5s ago)`) {
		t.Errorf("a node that is down: %v", err)
	}

	// Requests to a's API that are not a node's: no principal, no target.
	for _, h := range []nats.Header{
		{hMethod: {"GET"}, hTarget: {"/who"}, hFrom: {"x"}},
		{hMethod: {"GET"}, hTarget: {"/who"}, hFrom: {"x"}, hCaller: {`{"who": ""}`}},
		{hMethod: {"GET"}, hTarget: {"/who"}, hCaller: {`{"who": "w"}`}},
		{hMethod: {"GET"}, hTarget: {"who"}, hFrom: {"x"}, hCaller: {`{"who": "w"}`}},
	} {
		m := &nats.Msg{Subject: apiSubject("a"), Header: h}
		in, err := nc.RequestMsg(m, 5*time.Second)
		if err != nil || in.Header.Get(hDone) == "" || (in.Header.Get(hStatus) != "401" && in.Header.Get(hStatus) != "400") {
			t.Errorf("request %v: %v %v %s", h, err, in.Header, in.Data)
		}
	}
	nc.Publish(apiSubject("a"), nil) // no reply subject: dropped
}

// TestFanOut: every node that is up answers, at once; a node that is down
// or silent, or that answers an error or no JSON, has an error; none waits
// longer than the timeout.
func TestFanOut(t *testing.T) {
	url := natsURL(t)
	clk := newClock()
	a := startNode(t, url, "a", clk, time.Hour)
	b := startNode(t, url, "b", clk, time.Hour)
	nc := connect(t, url)
	nc.Publish(presenceSubject("gone"), []byte(`{"name": "gone"}`))
	waitStates(t, a.Fleet, "a=up b=up gone=up")
	clk.add(1100 * time.Millisecond) // gone is down
	nc.Publish(presenceSubject("mute"), []byte(`{"name": "mute"}`))
	nc.SubscribeSync(apiSubject("mute"))
	nc.Flush()
	b.beat()
	testwait.NoError(t, 10*time.Second, func() error {
		if got := states(a.Fleet); got != "a=up b=up gone=down mute=up" {
			return fmt.Errorf("nodes %s", got)
		}
		return nil
	})
	began := time.Now()
	answers := a.FanOut(context.Background(), "/who", alice, 300*time.Millisecond)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("fan-out took %v", d)
	}
	got := map[string]string{}
	for _, an := range answers {
		switch {
		case an.Error != nil:
			got[an.Node] = an.Error.Code + ": " + an.Error.Message
		default:
			got[an.Node] = string(an.Body)
		}
	}
	if len(answers) != 4 || answers[0].Node != "a" || answers[3].Node != "gone" ||
		!strings.Contains(got["a"], `"node":"a"`) || !strings.Contains(got["b"], `"via":"node:a"`) ||
		got["mute"] != `unavailable: node "mute" did not answer within 300ms` || !strings.HasPrefix(got["gone"], `unavailable: node "gone" is down`) {
		t.Errorf("answers: %v", got)
	}
	for target, want := range map[string]string{
		"/fail":   `not_found: nothing here`,
		"/text":   `internal: node "b" answered with something else than JSON`,
		"/status": `internal: node "b" answered 418`,
	} {
		for _, an := range a.FanOut(context.Background(), target, alice, 300*time.Millisecond) {
			if an.Node == "b" && (an.Error == nil || an.Error.Code+": "+an.Error.Message != want) {
				t.Errorf("%s: %+v, want %s", target, an, want)
			}
		}
	}
}

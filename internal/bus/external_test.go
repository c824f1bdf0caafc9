package bus

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// TestJoinExternal: with bus.url, steward joins another NATS server (here
// an embedded one with bus.listen) with the credentials given, sets its
// streams up there, and a wrong password is a clear error of Start.
func TestJoinExternal(t *testing.T) {
	hub := start(t, freePort(t))
	url := "nats://" + hub.Addr().String()
	ext := config.BusExternal{URL: url, User: StewardUser, Password: hub.creds.Password(StewardUser)}
	cfg := config.Bus{External: &ext, Events: config.BusEvents{MaxAge: time.Hour},
		Streams: map[string]*config.BusStream{"orders": {Name: "orders", Subjects: []string{"orders.>"}}}, StreamOrder: []string{"orders"}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Config: cfg, Node: "edge", Credentials: NewCredentials()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Addr() != nil {
		t.Errorf("Addr = %v, want nil: steward serves nothing with bus.url", s.Addr())
	}
	testWaitStream(t, hub, "orders")

	bad := ext
	bad.Password = "wrong"
	cfg.External = &bad
	bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer bcancel()
	if s, err := Start(bctx, Options{Config: cfg, Node: "edge2", Credentials: NewCredentials()}); err == nil {
		s.Close()
		t.Fatal("joined with a wrong password")
	} else if !strings.Contains(err.Error(), "join the bus at "+url) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q: want the URL named and no password", err)
	}
}

// testWaitStream fails unless the server s has stream name.
func testWaitStream(t *testing.T, s *Server, name string) {
	t.Helper()
	streams, err := s.Streams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(streams, func(st StreamInfo) bool { return st.Name == name }) {
		t.Errorf("streams on the joined server: %+v, want %s", streams, name)
	}
}

func TestExternalEnv(t *testing.T) {
	got := ExternalEnv(config.BusExternal{URL: "nats://a:4222, nats://b:4222", User: "u", Password: "p w", CA: "/ca.pem"})
	want := []string{"NATS_URL=nats://u:p%20w@a:4222,nats://u:p%20w@b:4222", "NATS_CA=/ca.pem"}
	if !slices.Equal(got, want) {
		t.Errorf("ExternalEnv = %q, want %q", got, want)
	}
	if got := ExternalEnv(config.BusExternal{URL: "nats://a", Creds: "/x.creds", NKey: "/seed"}); !slices.Equal(got, []string{"NATS_URL=nats://a", "NATS_CREDS=/x.creds", "NATS_NKEY=/seed"}) {
		t.Errorf("ExternalEnv with creds = %q", got)
	}
	// bus.service_credentials: the services connect as their own user.
	own := config.BusExternal{URL: "nats://a", User: "steward", Password: "s", Services: &config.BusCredentials{Creds: "/app.creds"}}
	if got := ExternalEnv(own); !slices.Equal(got, []string{"NATS_URL=nats://a", "NATS_CREDS=/app.creds"}) {
		t.Errorf("ExternalEnv with service credentials = %q", got)
	}
	own.Services = &config.BusCredentials{User: "app", Password: "x"}
	if got := ExternalEnv(own); !slices.Equal(got, []string{"NATS_URL=nats://app:x@a"}) {
		t.Errorf("ExternalEnv with a service user = %q", got)
	}
	if got := redactURLs("nats://u:secret@a:1,nats://b:2"); strings.Contains(got, "secret") || !strings.Contains(got, "nats://b:2") {
		t.Errorf("redactURLs = %q", got)
	}
}

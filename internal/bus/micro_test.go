package bus

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/micro"
)

func TestServices(t *testing.T) {
	s := start(t, "")
	ctx := context.Background()
	if list, err := s.Services(ctx); err != nil || len(list) != 0 {
		t.Fatalf("no services: %+v, %v", list, err)
	}
	svc, err := micro.AddService(s.Conn(), micro.Config{Name: "echo", Version: "1.2.3", Description: "says it again",
		Endpoint: &micro.EndpointConfig{Subject: "echo.say", Handler: micro.HandlerFunc(func(r micro.Request) { r.Respond(r.Data()) })}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if _, err := s.Conn().Request("echo.say", []byte("hi"), discoveryWait); err != nil {
		t.Fatal(err)
	}
	list, err := s.Services(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("services: %+v, %v", list, err)
	}
	got := list[0]
	if got.Name != "echo" || got.Version != "1.2.3" || got.ID != svc.Info().ID || got.Description != "says it again" || got.Started.IsZero() || len(got.Endpoints) != 1 {
		t.Fatalf("service %+v", got)
	}
	if ep := got.Endpoints[0]; ep.Subject != "echo.say" || ep.Requests != 1 || ep.Errors != 0 || ep.ProcessingTime <= 0 {
		t.Errorf("endpoint %+v", ep)
	}
}

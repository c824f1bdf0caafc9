package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// TestMicro: -micro registers a service that answers discovery and echoes
// on NAME.echo.
func TestMicro(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server is not ready")
	}
	t.Setenv("NATS_URL", ns.ClientURL())
	p := launch(t, "-micro", "adder")
	if got := p.line(t); got != "micro adder up" {
		t.Fatalf("first line %q, want micro adder up", got)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	m, err := nc.Request("adder.echo", []byte("1 2"), 5*time.Second)
	if err != nil || string(m.Data) != "1 2" {
		t.Fatalf("echo: %v %v", m, err)
	}
	m, err = nc.Request("$SRV.INFO.adder", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"name":"adder"`) || !strings.Contains(string(m.Data), `"subject":"adder.echo"`) {
		t.Fatalf("$SRV.INFO.adder: %v %v", m, err)
	}
}

func TestMicroWithoutNATSURL(t *testing.T) {
	cmd := exec.Command(bin, "-micro", "x")
	cmd.Env = append(os.Environ(), "NATS_URL=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "NATS_URL is not set") {
		t.Errorf("-micro without NATS_URL: %v %s", err, out)
	}
}

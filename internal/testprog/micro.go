package main

import (
	"errors"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// serveMicro connects to $NATS_URL and registers a NATS micro service
// called name (version 1.0.0) with one endpoint, echo on name.echo, which
// answers each request with its data. It prints "micro <name> up" once the
// service answers discovery.
func serveMicro(out *lockedWriter, name string) error {
	url := os.Getenv("NATS_URL")
	if url == "" {
		return errors.New("micro: NATS_URL is not set")
	}
	nc, err := nats.Connect(url, nats.Name("testprog "+name), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	svc, err := micro.AddService(nc, micro.Config{Name: name, Version: "1.0.0", Description: "testprog's echo service"})
	if err != nil {
		return err
	}
	echo := micro.HandlerFunc(func(r micro.Request) { r.Respond(r.Data()) })
	if err := svc.AddEndpoint("echo", echo, micro.WithEndpointSubject(name+".echo")); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	out.write("micro " + name + " up\n")
	return nil
}

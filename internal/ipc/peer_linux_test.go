package ipc_test

import (
	"context"
	"net"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/ipc"
)

func TestPeerUser(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "s.sock")
	l, err := ipc.ListenUnix(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		got <- ipc.PeerUser(c)
	}()
	c, err := ipc.Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if who, want := <-got, u.Uid+":"+u.Username; who != want {
		t.Errorf("PeerUser = %q, want %q", who, want)
	}

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	tc, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if who := ipc.PeerUser(tc); who != "local" {
		t.Errorf("PeerUser(tcp) = %q, want local", who)
	}
}

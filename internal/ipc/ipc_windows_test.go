package ipc_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/ipc"
)

// testPipe returns a pipe name no other test uses.
func testPipe(t *testing.T) string {
	return fmt.Sprintf(`\\.\pipe\steward-test-%d-%s`, windows.GetCurrentProcessId(), t.Name())
}

func TestPipeRoundTrip(t *testing.T) {
	name := testPipe(t)
	l, err := ipc.Listen(name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err == nil {
					c.Write(buf)
				}
			}()
		}
	}()
	// The first client too: on Wine and Windows 7 it used to reach the
	// pipe's first instance and hang (go-winio issues 173 and 313).
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := ipc.Dial(ctx, name)
		cancel()
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("read %d: %q, %v", i, buf, err)
		}
		c.Close()
	}
}

func TestPipeTakenIsAConflict(t *testing.T) {
	name := testPipe(t)
	l, err := ipc.Listen(name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := ipc.Listen(name, ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second listener: got %v, want ECONFLICT", err)
	}
}

func TestPipeNobodyListens(t *testing.T) {
	_, err := ipc.Dial(context.Background(), testPipe(t))
	if steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), "steward is not running") {
		t.Errorf("got %v, want EUNAVAILABLE", err)
	}
}

func TestPipeUnknownGroup(t *testing.T) {
	_, err := ipc.Listen(testPipe(t), "no-such-group-steward")
	if steward.ErrorCode(err) != steward.EINVALID || !strings.Contains(err.Error(), `socket group "no-such-group-steward"`) {
		t.Errorf("got %v, want EINVALID naming the group", err)
	}
}

package osservice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/stewardhq/steward"
)

// launchd manages launchd jobs through launchctl: the system domain's
// when steward runs as root, the user's otherwise.
type launchd struct {
	domain string // "system" or "gui/UID"
}

func connect(context.Context) (manager, error) {
	if _, err := exec.LookPath("launchctl"); err != nil {
		return nil, steward.Errorf(steward.EUNAVAILABLE, "launchctl not found: %v", err)
	}
	domain := "system"
	if uid := os.Geteuid(); uid != 0 {
		domain = fmt.Sprintf("gui/%d", uid)
	}
	return &launchd{domain: domain}, nil
}

// launchctl runs launchctl with args and returns its standard output.
func launchctl(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "launchctl", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return "", fmt.Errorf("launchctl %s: %s (%w)", strings.Join(args, " "), msg, err)
		}
		return "", fmt.Errorf("launchctl %s: %w", strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

func (l *launchd) list(ctx context.Context) ([]Service, error) {
	out, err := launchctl(ctx, "list")
	if err != nil {
		return nil, err
	}
	return parseLaunchctlList(out)
}

func (l *launchd) get(ctx context.Context, name string) (Service, error) {
	list, err := l.list(ctx)
	if err != nil {
		return Service{}, err
	}
	for _, s := range list {
		if s.Name == name {
			return s, nil
		}
	}
	return Service{}, steward.Errorf(steward.ENOTFOUND, "no launchd job %s", name)
}

func (l *launchd) start(ctx context.Context, name string) error {
	return l.run(ctx, name, "kickstart", l.domain+"/"+name)
}

// stop sends SIGTERM to the job: launchd starts a KeepAlive job again.
func (l *launchd) stop(ctx context.Context, name string) error {
	return l.run(ctx, name, "kill", "SIGTERM", l.domain+"/"+name)
}

func (l *launchd) restart(ctx context.Context, name string) error {
	return l.run(ctx, name, "kickstart", "-k", l.domain+"/"+name)
}

// run checks that the job name exists, then runs launchctl with args.
func (l *launchd) run(ctx context.Context, name string, args ...string) error {
	if _, err := l.get(ctx, name); err != nil {
		return err
	}
	_, err := launchctl(ctx, args...)
	return err
}

func (l *launchd) close() error { return nil }

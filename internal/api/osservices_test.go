package api_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/osservice"
)

// fakeOS is an OS service manager with one service, sshd.service.
type fakeOS struct{ state string }

func (f *fakeOS) List(context.Context) ([]osservice.Service, error) {
	return []osservice.Service{{Name: "sshd.service", State: f.state}}, nil
}

func (f *fakeOS) Get(_ context.Context, name string) (osservice.Service, error) {
	if name != "sshd.service" {
		return osservice.Service{}, steward.Errorf(steward.ENOTFOUND, "no OS service %q", name)
	}
	return osservice.Service{Name: name, State: f.state}, nil
}

func (f *fakeOS) act(name, state string) error {
	if _, err := f.Get(context.Background(), name); err != nil {
		return err
	}
	f.state = state
	return nil
}

func (f *fakeOS) Start(_ context.Context, name string) error {
	return f.act(name, osservice.StateRunning)
}
func (f *fakeOS) Stop(_ context.Context, name string) error {
	return f.act(name, osservice.StateStopped)
}
func (f *fakeOS) Restart(_ context.Context, name string) error {
	return f.act(name, osservice.StateRunning)
}

func newOSClient(t *testing.T, os api.OSServices) *client.Client {
	t.Helper()
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(apitest.Serve(t, api.New(api.Options{
		Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs, OSServices: os,
	}).Handler()))
	t.Cleanup(c.Close)
	return c
}

func TestOSServicesAPI(t *testing.T) {
	ctx := context.Background()
	c := newOSClient(t, &fakeOS{state: osservice.StateRunning})
	list, err := c.OSServices(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "sshd.service" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for _, tt := range []struct{ verb, want string }{
		{"stop", osservice.StateStopped},
		{"start", osservice.StateRunning},
		{"stop", osservice.StateStopped},
		{"restart", osservice.StateRunning},
	} {
		got, err := c.OSServiceAction(ctx, tt.verb, "sshd.service")
		if err != nil || got.State != tt.want {
			t.Errorf("%s: got %+v, %v; want state %s", tt.verb, got, err, tt.want)
		}
	}
	if _, err := c.OSService(ctx, "nope.service"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("get unknown: err = %v, want not found", err)
	}
	if _, err := c.OSServiceAction(ctx, "start", "nope.service"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("start unknown: err = %v, want not found", err)
	}
}

func TestOSServicesUnavailable(t *testing.T) {
	ctx := context.Background()
	c := newOSClient(t, nil)
	if _, err := c.OSServices(ctx); steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("list: err = %v, want unavailable", err)
	}
	if _, err := c.OSService(ctx, "x"); steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("get: err = %v, want unavailable", err)
	}
	if _, err := c.OSServiceAction(ctx, "stop", "x"); steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("stop: err = %v, want unavailable", err)
	}
}

package api_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
)

// forensics is an api.Forensics with one service, "api".
type forensics struct{ limits []int }

func (f *forensics) Why(_ context.Context, name string) (steward.Why, error) {
	if name != "api" {
		return steward.Why{}, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	return steward.Why{Service: "api", State: steward.StateFailed, Since: since, Summary: "api is failed: it crashed"}, nil
}

func (f *forensics) Exits(_ context.Context, name string, limit int) ([]steward.Exit, error) {
	if name != "api" {
		return nil, steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	f.limits = append(f.limits, limit)
	return []steward.Exit{{ID: 2, Service: "api", Status: "killed by SIGKILL", Signal: "SIGKILL", OOM: steward.OOMYes}}, nil
}

func TestWhyAndExits(t *testing.T) {
	fx := &forensics{}
	file := filepath.Join(t.TempDir(), "steward.yaml")
	configs, err := apitest.NewConfigs(file, []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs, Forensics: fx,
		Platform: func() steward.Info {
			return steward.Info{OS: "linux", Capabilities: []steward.Capability{{Name: "pidfd", Available: true}}}
		}})
	c := client.New(apitest.Serve(t, srv.Handler()))
	t.Cleanup(c.Close)
	ctx := context.Background()

	w, err := c.Why(ctx, "api")
	if err != nil || w.Summary != "api is failed: it crashed" || w.State != steward.StateFailed {
		t.Errorf("Why = %+v, %v", w, err)
	}
	var se *steward.Error
	if _, err := c.Why(ctx, "nope"); !errors.As(err, &se) || se.Code != steward.ENOTFOUND {
		t.Errorf("Why of an unknown service: %v, want not_found", err)
	}
	ex, err := c.Exits(ctx, "api", 5)
	if err != nil || len(ex) != 1 || ex[0].Signal != "SIGKILL" {
		t.Errorf("Exits = %+v, %v", ex, err)
	}
	if _, err := c.Exits(ctx, "api", 0); err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 0}; !reflect.DeepEqual(fx.limits, want) {
		t.Errorf("limits asked = %v, want %v", fx.limits, want)
	}
	info, err := c.Info(ctx)
	if err != nil || info.OS != "linux" || len(info.Capabilities) != 1 || info.PID == 0 {
		t.Errorf("Info = %+v, %v; want the platform's fields and the pid", info, err)
	}
}

func TestWhyUnavailable(t *testing.T) {
	srv := api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}})
	c := client.New(apitest.Serve(t, srv.Handler()))
	t.Cleanup(c.Close)
	var se *steward.Error
	if _, err := c.Why(context.Background(), "api"); !errors.As(err, &se) || se.Code != steward.EUNAVAILABLE {
		t.Errorf("Why without forensics: %v, want unavailable", err)
	}
}

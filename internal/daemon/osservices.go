package daemon

import (
	"context"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/osservice"
)

// osServices reaches the OS service manager afresh for each request: the
// manager may come and go (a D-Bus restart), and requests are rare.
type osServices struct{}

var _ api.OSServices = osServices{}

func (osServices) with(ctx context.Context, f func(*osservice.Manager) error) error {
	m, err := osservice.Connect(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return f(m)
}

func (o osServices) List(ctx context.Context) (list []osservice.Service, err error) {
	err = o.with(ctx, func(m *osservice.Manager) error {
		list, err = m.List(ctx)
		return err
	})
	return list, err
}

func (o osServices) Get(ctx context.Context, name string) (svc osservice.Service, err error) {
	err = o.with(ctx, func(m *osservice.Manager) error {
		svc, err = m.Get(ctx, name)
		return err
	})
	return svc, err
}

func (o osServices) Start(ctx context.Context, name string) error {
	return o.with(ctx, func(m *osservice.Manager) error { return m.Start(ctx, name) })
}

func (o osServices) Stop(ctx context.Context, name string) error {
	return o.with(ctx, func(m *osservice.Manager) error { return m.Stop(ctx, name) })
}

func (o osServices) Restart(ctx context.Context, name string) error {
	return o.with(ctx, func(m *osservice.Manager) error { return m.Restart(ctx, name) })
}

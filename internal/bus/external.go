package bus

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/stewardhq/steward/internal/config"
)

// join connects steward to the NATS deployment of bus.url with its
// credentials, and sets up the streams, the DLQ and the transforms there.
// A deployment that is not up yet is waited for (until ctx ends): steward
// may start before it.
func (s *Server) join(ctx context.Context, x config.BusExternal) error {
	opts := []nats.Option{
		nats.Name("steward " + s.node),
		nats.CustomInboxPrefix(InboxPrefix),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ErrorHandler(s.errorHandler),
	}
	switch {
	case x.User != "":
		opts = append(opts, nats.UserInfo(x.User, x.Password))
	case x.Creds != "":
		opts = append(opts, nats.UserCredentials(x.Creds))
	case x.NKey != "":
		o, err := nats.NkeyOptionFromSeed(x.NKey)
		if err != nil {
			return fmt.Errorf("bus.nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if x.CA != "" {
		opts = append(opts, nats.RootCAs(x.CA))
	}
	nc, err := nats.Connect(x.URL, opts...)
	if err != nil {
		return err
	}
	if err := waitConnected(ctx, nc); err != nil {
		nc.Close()
		return err
	}
	return s.use(ctx, nc)
}

// waitConnected waits until nc is connected, or ctx ends, or nc gave up
// (bad credentials are refused for good).
func waitConnected(ctx context.Context, nc *nats.Conn) error {
	changed := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(changed)
	for {
		switch nc.Status() {
		case nats.CONNECTED:
			return nil
		case nats.CLOSED:
			if err := nc.LastError(); err != nil {
				return err
			}
			return nats.ErrConnectionClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if err := nc.LastError(); err != nil {
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		}
	}
}

// redactURLs is a comma-separated list of URLs without their passwords.
func redactURLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// ExternalEnv is the environment a service gets with bus.url: NATS_URL
// and the credentials of bus.service_credentials, else steward's own,
// which the nats CLI reads (NATS_CREDS, NATS_NKEY and NATS_CA name files;
// a user and password go into the URLs).
func ExternalEnv(x config.BusExternal) []string {
	c := config.BusCredentials{User: x.User, Password: x.Password, Creds: x.Creds, NKey: x.NKey}
	if x.Services != nil {
		c = *x.Services
	}
	urls := x.URL
	if c.User != "" {
		parts := strings.Split(x.URL, ",")
		for i, p := range parts {
			u, err := url.Parse(strings.TrimSpace(p))
			if err == nil && u.User == nil {
				u.User = url.UserPassword(c.User, c.Password)
				parts[i] = u.String()
			}
		}
		urls = strings.Join(parts, ",")
	}
	env := []string{"NATS_URL=" + urls}
	for _, kv := range [][2]string{{"NATS_CREDS", c.Creds}, {"NATS_NKEY", c.NKey}, {"NATS_CA", x.CA}} {
		if kv[1] != "" {
			env = append(env, kv[0]+"="+kv[1])
		}
	}
	return env
}

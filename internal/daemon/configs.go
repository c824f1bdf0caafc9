package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/preflight"
	"github.com/stewardhq/steward/internal/store"
)

var _ api.Configs = (*Daemon)(nil)

// Current returns the applied configuration.
func (d *Daemon) Current() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// CurrentVersion returns the number of the applied config version.
func (d *Daemon) CurrentVersion() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Validate parses text as the config file would be parsed.
func (d *Daemon) Validate(_ context.Context, text []byte) error {
	_, err := d.parse(d.Current().File, text)
	return err
}

// parse parses text as file and keeps the settings a reload cannot change.
func (d *Daemon) parse(file string, text []byte) (*config.Config, error) {
	cfg, err := config.Parse(file, text, config.Registry{Kinds: d.opts.Kinds.Schemas(), Notifiers: notify.Types()})
	if err != nil {
		var list config.ErrorList
		if errors.As(err, &list) {
			return nil, err
		}
		return nil, steward.Errorf(steward.EINVALID, "%s", err.Error())
	}
	// Resolve the notifiers' secrets now: one that cannot be is an error
	// at its position, and nothing changes.
	if _, err := notify.Build(cfg); err != nil {
		return nil, err
	}
	if errs := preflight.Check(cfg); errs != nil {
		return nil, errs
	}
	if cfg.DataDir != d.Current().DataDir {
		return nil, steward.Errorf(steward.EINVALID, "data_dir cannot change while steward runs (restart steward to move it)")
	}
	return cfg, nil
}

// Apply validates text, applies it and records it as a new version. The
// change finishes even when ctx ends first (see apply).
func (d *Daemon) Apply(ctx context.Context, text []byte, who string) (api.Applied, error) {
	return d.apply(ctx, d.Current().File, text, who)
}

// apply parses text and makes it the configuration in force. Once begun,
// the change does not depend on ctx: a client that goes away mid-way (a
// dropped connection, a killed `steward reload`) changes nothing about it.
// It has its own deadline, applyTimeout. The version is recorded once the
// services run it; when the supervisor cannot apply it (a stop that outlasts
// the deadline, a log that cannot be opened), nothing is recorded, the
// other settings stay as they were and the error says so.
func (d *Daemon) apply(ctx context.Context, file string, text []byte, who string) (api.Applied, error) {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	if d.closing {
		return api.Applied{}, steward.Errorf(steward.EUNAVAILABLE, "steward is shutting down")
	}
	cfg, err := d.parse(file, text)
	if err != nil {
		return api.Applied{}, err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout(d.sup.Config(), cfg))
	defer cancel()
	cur := d.Current()
	moved := cfg.API != cur.API || cfg.Web != cur.Web
	if moved {
		if err := d.relisten(cur, cfg); err != nil {
			return api.Applied{}, err
		}
	}
	d.bus.apply(actx, cfg) // first: the services it adds get their credentials
	diff, err := d.sup.Apply(actx, cfg)
	if err != nil {
		if moved {
			if back := d.relisten(cfg, cur); back != nil {
				d.opts.Logger.Error("move the API back", "err", back)
			}
		}
		d.recordConfigEvent(actx, fmt.Sprintf("config from %s not applied, services may be partly changed: %v", who, err))
		return api.Applied{Diff: diff}, fmt.Errorf("apply config (nothing recorded; services may be partly changed): %w", err)
	}
	d.local.SetRules(localRules(cfg))
	d.mon.apply(cfg)
	d.notes.apply(cfg)
	d.runs.apply(actx, cfg)
	n, err := d.recordVersion(actx, cfg, who)
	d.mu.Lock()
	d.cfg = cfg
	if err == nil {
		d.version = n
	}
	d.mu.Unlock()
	if err != nil {
		d.recordConfigEvent(actx, fmt.Sprintf("config from %s applied but not recorded in the history: %v", who, err))
		return api.Applied{Diff: diff}, fmt.Errorf("config applied, but not recorded in the history: %w", err)
	}
	reason := fmt.Sprintf("config version %d applied by %s: %d added, %d changed, %d removed",
		n, who, len(diff.Added), len(diff.Changed), len(diff.Removed))
	if len(diff.Sections) > 0 {
		reason += "; changed " + strings.Join(diff.Sections, ", ")
	}
	d.recordConfigEvent(actx, reason)
	return api.Applied{Version: n, Diff: diff}, nil
}

// recordConfigEvent stores a config event; failures are logged.
func (d *Daemon) recordConfigEvent(ctx context.Context, reason string) {
	if _, err := d.events.Record(ctx, steward.Event{Type: steward.EventConfig, Reason: reason}); err != nil {
		d.opts.Logger.Error("record event", "err", err)
	}
}

// recordVersion stores cfg's text as a new version unless it equals the
// latest one, and returns the version number that holds it.
func (d *Daemon) recordVersion(ctx context.Context, cfg *config.Config, who string) (int, error) {
	sum := sha256.Sum256(cfg.Source)
	hash := hex.EncodeToString(sum[:])
	last, ok, err := d.store.LatestConfigVersion(ctx)
	if err != nil {
		return 0, err
	}
	if ok && last.Hash == hash && who == "startup" {
		return last.N, nil
	}
	v := &store.ConfigVersion{Hash: hash, Source: who, File: cfg.File, Text: cfg.Source}
	if err := d.store.AddConfigVersion(ctx, v); err != nil {
		return 0, err
	}
	return v.N, nil
}

// Versions lists the stored config versions, newest first.
func (d *Daemon) Versions(ctx context.Context) ([]store.ConfigVersion, error) {
	return d.store.ConfigVersions(ctx)
}

// Version returns stored config version n.
func (d *Daemon) Version(ctx context.Context, n int) (store.ConfigVersion, error) {
	return d.store.ConfigVersion(ctx, n)
}

// Rollback applies stored version n again, as a new version.
func (d *Daemon) Rollback(ctx context.Context, n int, who string) (api.Applied, error) {
	v, err := d.store.ConfigVersion(ctx, n)
	if err != nil {
		return api.Applied{}, err
	}
	return d.apply(ctx, d.Current().File, v.Text, fmt.Sprintf("%s (rollback to %d)", who, n))
}

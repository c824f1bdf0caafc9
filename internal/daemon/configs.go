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
	if cfg.DataDir != d.Current().DataDir {
		return nil, steward.Errorf(steward.EINVALID, "data_dir cannot change while steward runs (restart steward to move it)")
	}
	return cfg, nil
}

// Apply validates text, records it as a new version and applies it.
func (d *Daemon) Apply(ctx context.Context, text []byte, who string) (api.Applied, error) {
	return d.apply(ctx, d.Current().File, text, who)
}

func (d *Daemon) apply(ctx context.Context, file string, text []byte, who string) (api.Applied, error) {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	cfg, err := d.parse(file, text)
	if err != nil {
		return api.Applied{}, err
	}
	if cur := d.Current(); cfg.API != cur.API || cfg.Web != cur.Web {
		if err := d.relisten(cur, cfg); err != nil {
			return api.Applied{}, err
		}
	}
	n, err := d.recordVersion(ctx, cfg, who)
	if err != nil {
		return api.Applied{}, err
	}
	diff, err := d.sup.Apply(ctx, cfg)
	d.mon.apply(cfg)
	d.notes.apply(cfg)
	d.mu.Lock()
	d.cfg, d.version = cfg, n
	d.mu.Unlock()
	reason := fmt.Sprintf("config version %d applied by %s: %d added, %d changed, %d removed",
		n, who, len(diff.Added), len(diff.Changed), len(diff.Removed))
	if len(diff.Sections) > 0 {
		reason += "; changed " + strings.Join(diff.Sections, ", ")
	}
	if _, rerr := d.events.Record(context.WithoutCancel(ctx), steward.Event{Type: steward.EventConfig, Reason: reason}); rerr != nil {
		d.opts.Logger.Error("record event", "err", rerr)
	}
	return api.Applied{Version: n, Diff: diff}, err
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

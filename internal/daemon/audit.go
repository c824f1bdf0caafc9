package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// auditTimeout bounds the daemon's own writes of the audit log: a record,
// a verification, a checkpoint.
const auditTimeout = 30 * time.Second

// openAudit returns the audit log of the store st, whose checkpoints are
// signed with the key audit.key in dataDir and kept in audit.chk there,
// outside the database.
func openAudit(dataDir string, st *store.Store) (*auth.Log, error) {
	signer, err := auth.LoadOrCreateSigner(filepath.Join(dataDir, "audit.key"))
	if err != nil {
		return nil, err
	}
	return &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dataDir, "audit.chk")}, nil
}

// localRules are the rules of cfg's auth.local.
func localRules(cfg *config.Config) []auth.Rule {
	var rules []auth.Rule
	for _, r := range cfg.Auth.Local {
		rules = append(rules, auth.Rule{Match: r.Match, Role: r.Role, Tenant: r.Tenant})
	}
	return rules
}

// checkAudit verifies the audit log as steward starts and, when it holds,
// signs a checkpoint of it. When it does not hold (a record edited,
// deleted or reordered, the tail cut since the last checkpoint), it says
// so loudly, in the log and as an event, and from then on signs nothing
// (not at stop either), so that the next verification finds the same.
func (d *Daemon) checkAudit(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if holds, _ := d.verifyAudit(ctx); holds {
		d.auditHolds.Store(true)
		d.checkpoint(ctx, "start")
	}
}

// verifyAudit verifies the audit log and reports whether it holds; when it
// does not, it says so in the log and as an event. An error reading it
// (logged) holds nothing either; it is err.
func (d *Daemon) verifyAudit(ctx context.Context) (bool, error) {
	v, err := d.audit.Verify(ctx)
	switch {
	case err != nil:
		d.opts.Logger.Error("verify the audit log", "err", err)
		return false, err
	case !v.OK:
		msg := "the audit log does not verify: " + v.Problem
		if v.FirstBad > 0 {
			msg = fmt.Sprintf("the audit log does not verify: record %d: %s", v.FirstBad, v.Problem)
		}
		d.opts.Logger.Error(msg+"; it may have been tampered with, see steward audit verify; no checkpoint is signed",
			"records", v.Records, "checkpoint", v.Checkpoint, "first_bad", v.FirstBad)
		d.record(ctx, msg)
		return false, nil
	}
	return true, nil
}

// checkpoint signs a checkpoint of the audit log, as steward starts or
// stops (when), unless the log did not verify; a failure is logged.
func (d *Daemon) checkpoint(ctx context.Context, when string) {
	if !d.auditHolds.Load() {
		d.opts.Logger.Warn("audit checkpoint at " + when + " not signed: the audit log did not verify")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := (auditLog{d.audit, d}).Checkpoint(ctx); err != nil {
		d.opts.Logger.Error("audit checkpoint at "+when, "err", err)
	}
}

// auditLog is the audit log as the API and the daemon use it: each
// checkpoint it signs is also queued, in the outbox, for the notifiers of
// audit.checkpoint.notify, so that a copy leaves the machine even when
// they are down for a while.
type auditLog struct {
	*auth.Log
	d *Daemon
}

var _ api.AuditLog = auditLog{}

// Checkpoint signs a checkpoint and queues its copies. A copy that cannot
// be queued is logged: the checkpoint is signed and in the file all the
// same.
func (l auditLog) Checkpoint(ctx context.Context) (steward.AuditCheckpoint, error) {
	c, err := l.Log.Checkpoint(ctx)
	if err != nil {
		return c, err
	}
	cfg := l.d.Current()
	copied := &notify.Checkpoint{Seq: c.Seq, Hash: c.Hash, Time: c.Time, Signature: c.Signature, KeyID: c.KeyID,
		PublicKey: l.Signer.PublicKey()}
	for _, name := range cfg.Audit.CheckpointNotify {
		m := notify.Message{Key: "audit-checkpoint-" + c.Signature[:32] + "-" + name, Node: cfg.Node, Time: c.Time,
			Alerts: []notify.Alert{}, Checkpoint: copied}
		if _, err := l.d.notes.Enqueue(ctx, name, m); err != nil {
			l.d.opts.Logger.Error("queue a copy of the audit checkpoint", "notifier", name, "seq", c.Seq, "err", err)
		}
	}
	return c, nil
}

// signCheckpoints signs a checkpoint every audit.checkpoint.every of the
// config applied now, until ctx ends; a reload that changes the period
// starts it over.
func (d *Daemon) signCheckpoints(ctx context.Context) {
	for {
		var tick <-chan time.Time
		var t *time.Timer
		if every := d.Current().Audit.CheckpointEvery; every > 0 {
			t = time.NewTimer(every)
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-d.auditWake:
		case <-tick:
			d.checkpoint(ctx, "the period's end")
		}
		if t != nil {
			t.Stop()
		}
	}
}

// signal is the principal of a reload by SIGHUP: whoever may signal
// steward, root or its own user.
var sighupPrincipal = steward.Principal{Who: "signal:SIGHUP", Role: steward.RoleAdmin, Via: "signal"}

// ReloadOnSignal reloads the config file, as SIGHUP asks, audited as a
// reload through the API is: the attempt is recorded first, and when it
// cannot be, nothing is reloaded.
func (d *Daemon) ReloadOnSignal(ctx context.Context) (api.Applied, error) {
	rec := steward.AuditRecord{Principal: sighupPrincipal.String(), Action: string(auth.ActionReload), Target: "reload " + d.Current().File}
	if !d.appendAudit(ctx, rec, "attempt") {
		return api.Applied{}, steward.Errorf(steward.EUNAVAILABLE, "the audit log cannot be written, so nothing is reloaded; steward's log says why")
	}
	a, err := d.Reload(ctx, sighupPrincipal.String())
	outcome := "ok"
	if err != nil {
		outcome = "failed: " + steward.ErrorCode(err)
	}
	d.appendAudit(ctx, rec, outcome)
	return a, err
}

// appendAudit appends rec with outcome to the audit log and reports
// whether it was written; a failure is logged.
func (d *Daemon) appendAudit(ctx context.Context, rec steward.AuditRecord, outcome string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	rec.Outcome = outcome
	if _, err := d.audit.Append(ctx, rec); err != nil {
		d.opts.Logger.Error("write audit record", "action", rec.Action, "target", rec.Target, "outcome", outcome, "err", err)
		return false
	}
	return true
}

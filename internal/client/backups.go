package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/stewardhq/steward"
)

// Backups returns the backups of job, or of every backup job for "",
// newest first.
func (c *Client) Backups(ctx context.Context, job string) ([]steward.Backup, error) {
	var out []steward.Backup
	rq := request{method: "GET", path: "/v1/backups"}
	if job != "" {
		rq.query = url.Values{"job": {job}}
	}
	err := c.call(ctx, rq, &out)
	return out, err
}

// Backup returns backup id.
func (c *Client) Backup(ctx context.Context, id string) (steward.Backup, error) {
	var out steward.Backup
	err := c.call(ctx, request{method: "GET", path: "/v1/backups/" + url.PathEscape(id)}, &out)
	return out, err
}

// VerifyBackup reads backup id through and returns what it found; a
// backup with problems is no error.
func (c *Client) VerifyBackup(ctx context.Context, id string, req steward.BackupIdentity) (steward.BackupCheck, error) {
	var out steward.BackupCheck
	rq, err := jsonRequest("POST", "/v1/backups/"+url.PathEscape(id)+"/verify", req)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, rq, &out)
	return out, err
}

// RestoreBackup writes backup id below req.To on the node.
func (c *Client) RestoreBackup(ctx context.Context, id string, req steward.BackupRestoreRequest) (steward.BackupRestore, error) {
	var out steward.BackupRestore
	rq, err := jsonRequest("POST", "/v1/backups/"+url.PathEscape(id)+"/restore", req)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, rq, &out)
	return out, err
}

// ForgetBackups applies job's keep policy, or with dryRun says what it
// would keep and remove, and why.
func (c *Client) ForgetBackups(ctx context.Context, job string, dryRun bool) (steward.BackupForget, error) {
	var out steward.BackupForget
	q := url.Values{"job": {job}, "dry_run": {strconv.FormatBool(dryRun)}}
	err := c.call(ctx, request{method: "POST", path: "/v1/backups/forget", query: q}, &out)
	return out, err
}

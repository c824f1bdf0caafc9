package api

import (
	"context"
	"net/http"

	"github.com/stewardhq/steward"
)

// Backups are the archives of the backup jobs as the API serves them.
type Backups interface {
	// List returns the backups of job, or of every backup job for "",
	// newest first (never nil): ENOTFOUND for an unknown job.
	List(ctx context.Context, job string) ([]steward.Backup, error)
	Get(ctx context.Context, id string) (steward.Backup, error)
	// Verify reads backup id through, decrypting it with identity when it
	// is not "".
	Verify(ctx context.Context, id, identity string) (steward.BackupCheck, error)
	// Restore writes backup id below req.To; nothing when it does not
	// verify.
	Restore(ctx context.Context, id string, req steward.BackupRestoreRequest) (steward.BackupRestore, error)
	// Forget applies job's keep policy, or says what it would do.
	Forget(ctx context.Context, job string, dryRun bool) (steward.BackupForget, error)
}

var errNoBackups = steward.Errorf(steward.EUNAVAILABLE, "backups are not enabled on this steward")

// listBackups serves GET /v1/backups?job=.
func (s *Server) listBackups(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backups == nil {
		return errNoBackups
	}
	list, err := s.opts.Backups.List(r.Context(), r.URL.Query().Get("job"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getBackup(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backups == nil {
		return errNoBackups
	}
	b, err := s.opts.Backups.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// verifyBackup serves POST /v1/backups/{id}/verify with an optional
// BackupIdentity body. A backup with problems is a 200 whose ok is false.
func (s *Server) verifyBackup(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backups == nil {
		return errNoBackups
	}
	var req steward.BackupIdentity
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	c, err := s.opts.Backups.Verify(r.Context(), r.PathValue("id"), req.Identity)
	if err != nil {
		return err
	}
	s.log.Info("api backup verified", "backup", c.ID, "ok", c.OK, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, c)
}

// restoreBackup serves POST /v1/backups/{id}/restore. The restore does not
// depend on the request: a client that goes away does not leave half a
// tree.
func (s *Server) restoreBackup(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backups == nil {
		return errNoBackups
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.BackupRestoreRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	res, err := s.opts.Backups.Restore(context.WithoutCancel(r.Context()), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	s.log.Info("api backup restored", "backup", res.ID, "to", res.To, "files", res.Files, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, res)
}

// forgetBackups serves POST /v1/backups/forget?job=&dry_run=.
func (s *Server) forgetBackups(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Backups == nil {
		return errNoBackups
	}
	q := r.URL.Query()
	dry, err := boolParam("dry_run", q.Get("dry_run"))
	if err != nil {
		return err
	}
	job := q.Get("job")
	if job == "" {
		return steward.Errorf(steward.EINVALID, "job= is missing: retention is a job's")
	}
	f, err := s.opts.Backups.Forget(r.Context(), job, dry)
	if err != nil {
		return err
	}
	if !dry {
		s.log.Info("api backups forgotten", "job", job, "who", s.who(r.Context()))
	}
	return writeJSON(w, http.StatusOK, f)
}

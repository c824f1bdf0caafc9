package api

import (
	"context"
	"net/http"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/auth"
)

// AuditLog is the hash-chained audit log (auth.Log).
type AuditLog interface {
	Append(ctx context.Context, r steward.AuditRecord) (steward.AuditRecord, error)
	Records(ctx context.Context, since time.Time, limit int) ([]steward.AuditRecord, error)
	Verify(ctx context.Context) (steward.AuditVerification, error)
	Checkpoint(ctx context.Context) (steward.AuditCheckpoint, error)
}

var _ AuditLog = (*auth.Log)(nil)

var errNoAudit = steward.Errorf(steward.EUNAVAILABLE, "the audit log is not enabled")

// listAudit serves GET /v1/audit?since=&limit=: the records, newest first.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	q := r.URL.Query()
	since, err := timeParam("since", q.Get("since"), s.now())
	if err != nil {
		return err
	}
	limit, err := intParam("limit", q.Get("limit"), 0, 0)
	if err != nil {
		return err
	}
	list, err := s.opts.Audit.Records(r.Context(), since, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// verifyAudit serves POST /v1/audit/verify: the check of the chain and of
// its tail against the latest checkpoint.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	v, err := s.opts.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// checkpointAudit serves POST /v1/audit/checkpoint: a signed checkpoint of
// the log as it is.
func (s *Server) checkpointAudit(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	c, err := s.opts.Audit.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

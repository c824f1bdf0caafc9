package api

import (
	"context"
	"net/http"

	"github.com/stewardhq/steward"
)

// Workbooks is the workbook kind's sessions as the API drives them; the
// kind (internal/kinds/workbook) implements it, so the API needs no
// spreadsheet library. Each method takes the name of a running workbook
// service (ENOTFOUND otherwise) and a session id of it.
type Workbooks interface {
	Sessions(service string) ([]steward.WorkbookSession, error)
	Create(ctx context.Context, service string, req steward.WorkbookCreateRequest) (steward.WorkbookSession, error)
	Write(ctx context.Context, service, id string, req steward.WorkbookWriteRequest) (steward.WorkbookWritten, error)
	Read(ctx context.Context, service, id, sheet, rng string) (steward.WorkbookRange, error)
	Save(ctx context.Context, service, id string, req steward.WorkbookSaveRequest) (steward.WorkbookSaved, error)
	Close(ctx context.Context, service, id string) error
}

// actor is r's context naming its principal, which the workbook events
// end with.
func (s *Server) actor(r *http.Request) context.Context {
	return steward.WithActor(r.Context(), s.who(r.Context()))
}

var errNoWorkbooks = steward.Errorf(steward.ENOTFOUND, "no workbook service is configured on this steward")

// workbooks returns the Workbooks, or an error when there are none.
func (s *Server) workbooks() (Workbooks, error) {
	if s.opts.Workbooks == nil {
		return nil, errNoWorkbooks
	}
	return s.opts.Workbooks, nil
}

func (s *Server) listWorkbookSessions(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	list, err := wb.Sessions(r.PathValue("service"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// createWorkbookSession serves POST /v1/workbooks/{service}/sessions; no
// body is a blank workbook.
func (s *Server) createWorkbookSession(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	var req steward.WorkbookCreateRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	ss, err := wb.Create(s.actor(r), r.PathValue("service"), req)
	if err != nil {
		return err
	}
	s.log.Info("api workbook session created", "session", ss.ID, "template", req.Template, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusCreated, ss)
}

func (s *Server) writeWorkbook(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.WorkbookWriteRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	out, err := wb.Write(s.actor(r), r.PathValue("service"), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// readWorkbook serves GET /v1/workbooks/{service}/sessions/{id}/read?sheet=&range=.
func (s *Server) readWorkbook(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("sheet") == "" || q.Get("range") == "" {
		return steward.Errorf(steward.EINVALID, "read needs sheet= and range= (like A1:C3)")
	}
	out, err := wb.Read(r.Context(), r.PathValue("service"), r.PathValue("id"), q.Get("sheet"), q.Get("range"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// saveWorkbook serves POST /v1/workbooks/{service}/sessions/{id}/save; no
// body saves to the session's file.
func (s *Server) saveWorkbook(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	var req steward.WorkbookSaveRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	out, err := wb.Save(context.WithoutCancel(s.actor(r)), r.PathValue("service"), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	s.log.Info("api workbook saved", "session", r.PathValue("id"), "file", out.File, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) closeWorkbookSession(w http.ResponseWriter, r *http.Request) error {
	wb, err := s.workbooks()
	if err != nil {
		return err
	}
	if err := wb.Close(s.actor(r), r.PathValue("service"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

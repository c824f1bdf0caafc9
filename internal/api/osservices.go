package api

import (
	"context"
	"net/http"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/osservice"
)

// OSServices is the OS service manager (systemd, the Windows SCM,
// launchd) as the API drives it: services steward does not run itself.
// Anyone who may use the API can already run any command through a config
// change, so these routes give no more than that.
type OSServices interface {
	List(ctx context.Context) ([]osservice.Service, error)
	Get(ctx context.Context, name string) (osservice.Service, error) // ENOTFOUND for an unknown name
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	Restart(ctx context.Context, name string) error
}

var errNoOSServices = steward.Errorf(steward.EUNAVAILABLE, "managing OS services is not enabled on this steward")

// listOSServices serves GET /v1/os-services.
func (s *Server) listOSServices(w http.ResponseWriter, r *http.Request) error {
	if s.opts.OSServices == nil {
		return errNoOSServices
	}
	list, err := s.opts.OSServices.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]steward.OSService, len(list))
	for i, svc := range list {
		out[i] = steward.OSService(svc)
	}
	return writeJSON(w, http.StatusOK, out)
}

// getOSService serves GET /v1/os-services/{name}.
func (s *Server) getOSService(w http.ResponseWriter, r *http.Request) error {
	if s.opts.OSServices == nil {
		return errNoOSServices
	}
	svc, err := s.opts.OSServices.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.OSService(svc))
}

// osServiceAction serves POST /v1/os-services/{name}/VERB: it acts, logs
// who asked, and answers with the service as it is afterwards.
func (s *Server) osServiceAction(verb string, act func(OSServices, context.Context, string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.OSServices == nil {
			return errNoOSServices
		}
		name := r.PathValue("name")
		s.log.Info("api os-service action", "action", verb, "service", name, "who", s.who(r.Context()))
		if err := act(s.opts.OSServices, r.Context(), name); err != nil {
			return err
		}
		return s.getOSService(w, r)
	}
}

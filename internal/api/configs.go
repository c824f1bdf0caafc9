package api

import (
	"fmt"
	"net/http"

	"github.com/aymanbagabas/go-udiff"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

func configVersion(v store.ConfigVersion) steward.ConfigVersion {
	return steward.ConfigVersion{N: v.N, Time: v.Time, Hash: v.Hash, Source: v.Source, File: v.File, Text: string(v.Text)}
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) error {
	a, err := s.opts.Configs.Reload(r.Context(), s.who(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, applied(a))
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	n, err := s.currentVersion(r.Context())
	if err != nil {
		return err
	}
	c := s.opts.Configs.Current()
	if c == nil {
		return steward.Errorf(steward.EUNAVAILABLE, "no configuration is applied yet")
	}
	return writeJSON(w, http.StatusOK, steward.ConfigText{Version: n, File: c.File, Text: string(c.Source)})
}

// configBody returns the configuration text a request carries.
func configBody(r *http.Request) ([]byte, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return decodeConfig(r.Header.Get("Content-Type"), body)
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) error {
	text, err := configBody(r)
	if err != nil {
		return err
	}
	a, err := s.opts.Configs.Apply(r.Context(), text, s.who(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, applied(a))
}

func (s *Server) validateConfig(w http.ResponseWriter, r *http.Request) error {
	text, err := configBody(r)
	if err != nil {
		return err
	}
	if err := s.opts.Configs.Validate(r.Context(), text); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.Validation{Valid: true})
}

func (s *Server) configVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.opts.Configs.Versions(r.Context())
	if err != nil {
		return err
	}
	out := make([]steward.ConfigVersion, len(vs))
	for i, v := range vs {
		out[i] = configVersion(v)
		out[i].Text = ""
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) configVersion(w http.ResponseWriter, r *http.Request) error {
	n, err := intParam("n", r.PathValue("n"), 1, 0)
	if err != nil {
		return err
	}
	v, err := s.opts.Configs.Version(r.Context(), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, configVersion(v))
}

// configDiff serves GET /v1/config/diff?from=&to=: the unified diff, as
// plain text, from version from to version to.
func (s *Server) configDiff(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var texts [2]string
	var nums [2]int
	for i, name := range []string{"from", "to"} {
		v := q.Get(name)
		if v == "" {
			return steward.Errorf(steward.EINVALID, "%s is missing: want a config version number", name)
		}
		n, err := intParam(name, v, 1, 0)
		if err != nil {
			return err
		}
		cv, err := s.opts.Configs.Version(r.Context(), n)
		if err != nil {
			return err
		}
		texts[i], nums[i] = string(cv.Text), n
	}
	diff := udiff.Unified(fmt.Sprintf("version %d", nums[0]), fmt.Sprintf("version %d", nums[1]), texts[0], texts[1])
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := fmt.Fprint(w, diff)
	return err
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	n, err := intParam("n", r.PathValue("n"), 1, 0)
	if err != nil {
		return err
	}
	a, err := s.opts.Configs.Rollback(r.Context(), n, s.who(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, applied(a))
}

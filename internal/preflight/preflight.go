// Package preflight checks a parsed configuration against the machine it
// is to run on: that each service's command (and its ready and health exec
// probes) resolves to an executable program, that its working_dir is a directory, and that its user and
// group exist. config stays pure data and validation; the CLI's validate
// and run and the daemon's reload call Check after Parse. It imports only
// config and the standard library; cmd/steward and internal/daemon use it.
package preflight

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/stewardhq/steward/internal/config"
)

// Check returns every problem it finds with the exec services of c that
// are not disabled, at the positions Parse recorded, sorted by position;
// nil when there is none. Services of other kinds run inside steward and
// have nothing to check here.
func Check(c *config.Config) config.ErrorList {
	var errs config.ErrorList
	for _, name := range c.Order {
		s := c.Services[name]
		if s == nil || s.Kind != config.DefaultKind || s.Disabled || len(s.Command) == 0 {
			continue
		}
		errorf := func(field, format string, args ...any) {
			errs = append(errs, c.ErrorAt(s.At.Find(field), "service %q: %s", name, fmt.Sprintf(format, args...)))
		}
		dir := filepath.Dir(c.File)
		if s.WorkingDir != "" {
			dir = s.WorkingDir
			if err := isDir(s.WorkingDir); err != nil {
				errorf("working_dir", "working_dir: %v", err)
				dir = ""
			}
		}
		commands := []command{{"command", s.Command}, {"ready.exec", s.Ready.Exec}}
		if s.Health != nil {
			commands = append(commands, command{"health.exec", s.Health.Exec})
		}
		for _, cmd := range commands {
			if len(cmd.words) == 0 || (dir == "" && !filepath.IsAbs(cmd.words[0]) && hasSeparator(cmd.words[0])) {
				continue
			}
			if err := resolve(cmd.words[0], dir, childPath(s)); err != nil {
				errorf(cmd.field, "%s: %v", cmd.field, err)
			}
		}
		for _, msg := range checkAccount(s.User, s.Group) {
			errorf(msg.field, "%s", msg.text)
		}
	}
	slices.SortStableFunc(errs, func(a, b *config.Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return errs
}

// command is a command of a service to check, by the field that sets it.
type command struct {
	field string
	words []string
}

// hasSeparator reports whether program is a path rather than a name to
// look up in PATH, as steward's spawn tells them apart.
func hasSeparator(program string) bool { return filepath.Base(program) != program }

// isDir returns why path is not a directory, nil when it is one.
func isDir(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}

// childPath is the PATH the service's process gets: its env's, else
// steward's, which is part of every child's base environment. (A PATH in
// env_file is not read here.)
func childPath(s *config.Service) string {
	if p, ok := s.Env["PATH"]; ok {
		return p
	}
	return os.Getenv("PATH")
}

// resolve returns why program, the first word of a command, does not name
// an executable program: as a path (relative ones from dir) when it has a
// separator, else as a name looked up in path.
func resolve(program, dir, path string) error {
	if hasSeparator(program) {
		p := program
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return executable(p)
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		if executable(filepath.Join(d, program)) == nil {
			return nil
		}
	}
	return fmt.Errorf("%s is not found in PATH (%s)", program, path)
}

// account is a problem with user or group.
type account struct{ field, text string }

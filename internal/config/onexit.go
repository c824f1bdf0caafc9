package config

import (
	"go.yaml.in/yaml/v3"
)

// onExit reads the on_exit or exit_code key of a service into s.
func (p *parser) onExit(key, v *yaml.Node, s *Service) {
	switch key.Value {
	case "on_exit":
		str, ok := p.str(v, "on_exit")
		if !ok {
			return
		}
		switch str {
		case OnExitRestart, OnExitIgnore, OnExitStopAll, OnExitExit:
			s.OnExit = str
		default:
			p.errorf(v, "on_exit %q is not one of restart, ignore, stop-all and exit", str)
		}
	case "exit_code":
		n, ok := p.count(v, "exit_code")
		if !ok {
			return
		}
		if n > 255 {
			p.errorf(v, "exit_code must be 0 to 255")
			return
		}
		s.ExitCode = &n
	}
}

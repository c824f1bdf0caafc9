package importer

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"go.yaml.in/yaml/v3"
)

// fromCompose reads a docker compose file: one service per compose service
// that has a command or an entrypoint, run on this machine (the images are
// reported, not run).
func fromCompose(path string, data []byte) (f *File, err error) {
	defer func() {
		// The YAML library must not crash steward on bad input.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%s: invalid YAML: %v", path, r)
		}
	}()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	services, ok := doc["services"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: no services: mapping", path)
	}
	f = &File{}
	dir := filepath.Dir(path)
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def, ok := services[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: service %q: want a mapping", path, name)
		}
		s, err := composeService(name, def, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: service %q: %w", path, name, err)
		}
		if s == nil {
			image, _ := scalar(def["image"])
			if image == "" {
				image = "its build"
			}
			f.note("service %s runs %s with the image's own command, which this file does not say; add it with a command", name, image)
			continue
		}
		f.Services = append(f.Services, s)
	}
	for _, k := range []string{"networks", "volumes", "configs", "secrets"} {
		if doc[k] != nil {
			f.note("top-level %s: steward runs processes on this machine, without containers", k)
		}
	}
	return f, nil
}

// composeService maps one compose service; nil when it has no command.
func composeService(name string, def map[string]any, dir string) (*Service, error) {
	s := &Service{Name: name, Restart: Restart{Policy: config.RestartNever}}
	entry, err := composeCommand(def["entrypoint"])
	if err != nil {
		return nil, fmt.Errorf("entrypoint: %w", err)
	}
	cmd, err := composeCommand(def["command"])
	if err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	s.Command = append(entry, cmd...)
	if len(s.Command) == 0 || s.Command[0] == "" {
		return nil, nil
	}
	keys := make([]string, 0, len(def))
	for k := range def {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var unmapped []string
	for _, k := range keys {
		v := def[k]
		switch k {
		case "command", "entrypoint", "container_name", "hostname", "labels":
		case "image":
			image, _ := scalar(v)
			s.note("image %s: its command runs on this machine, not in the image", image)
		case "build":
			s.note("build: its command runs on this machine, nothing is built")
		case "environment":
			if err := composeEnv(s, v); err != nil {
				return nil, fmt.Errorf("environment: %w", err)
			}
		case "env_file":
			files, err := composeEnvFiles(v)
			if err != nil {
				return nil, fmt.Errorf("env_file: %w", err)
			}
			for i, e := range files {
				if i == 0 {
					s.EnvFile = absPath(dir, e)
				} else {
					s.note("env_file %s not mapped: steward takes one env_file", e)
				}
			}
		case "working_dir", "user":
			t, _ := scalar(v)
			s.note("%s %s is the container's: not mapped", k, t)
		case "healthcheck":
			if err := composeHealth(s, v); err != nil {
				return nil, fmt.Errorf("healthcheck: %w", err)
			}
		case "depends_on":
			if err := composeDepends(s, v); err != nil {
				return nil, fmt.Errorf("depends_on: %w", err)
			}
		case "restart":
			if err := composeRestart(s, v); err != nil {
				return nil, err
			}
		case "deploy":
			if err := composeDeploy(s, v); err != nil {
				return nil, fmt.Errorf("deploy: %w", err)
			}
		case "stop_signal":
			t, _ := scalar(v)
			if s.Stop.Signal = signal(t); s.Stop.Signal == "" {
				s.note("stop_signal %s: steward stops with TERM, INT, HUP, QUIT, KILL, USR1 or USR2; it sends TERM", t)
			}
		case "stop_grace_period":
			t, _ := scalar(v)
			if s.Stop.Timeout, err = duration(t, time.Second); err != nil {
				return nil, fmt.Errorf("stop_grace_period: %w", err)
			}
		case "mem_limit":
			t, _ := scalar(v)
			if s.Memory, err = size(t); err != nil {
				return nil, fmt.Errorf("mem_limit: %w", err)
			}
			s.note("mem_limit %s: limits.memory restarts the service when its process tree uses more", t)
		default:
			unmapped = append(unmapped, k)
		}
	}
	if len(unmapped) > 0 {
		s.note("not mapped: %s", strings.Join(unmapped, ", "))
	}
	for _, e := range s.Env {
		if strings.Contains(e.Value, "${") {
			s.note("env %s uses compose's ${...} interpolation: left as written", e.Name)
		}
	}
	return s, nil
}

// scalar returns the text of a YAML scalar decoded as any.
func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case int:
		return strconv.Itoa(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	case nil:
		return "", true
	}
	return "", false
}

// strs returns the items of a list of scalars.
func strs(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list")
	}
	out := make([]string, 0, len(l))
	for _, item := range l {
		s, ok := scalar(item)
		if !ok {
			return nil, fmt.Errorf("want a list of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// composeCommand reads a command or entrypoint: a string split as a
// shell would (without one), or a list.
func composeCommand(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return command(s), nil
	}
	return strs(v)
}

// composeEnv reads environment: a mapping or a list of NAME=value; a
// name without a value is passed from steward's environment.
func composeEnv(s *Service, v any) error {
	if m, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val, ok := scalar(m[k])
			if !ok || !validEnvName(k) {
				return fmt.Errorf("%q: want a name and a string", k)
			}
			if m[k] == nil {
				s.InheritEnv = append(s.InheritEnv, k)
				continue
			}
			s.setEnv(k, val)
		}
		return nil
	}
	items, err := strs(v)
	if err != nil {
		return err
	}
	for _, item := range items {
		k, val, ok := strings.Cut(item, "=")
		switch {
		case !validEnvName(k):
			return fmt.Errorf("%q: want NAME=value", clip(item))
		case !ok:
			if !slices.Contains(s.InheritEnv, k) {
				s.InheritEnv = append(s.InheritEnv, k)
			}
		default:
			s.setEnv(k, val)
		}
	}
	return nil
}

// composeEnvFiles reads env_file: a path, a list of paths, or a list of
// {path, required}.
func composeEnvFiles(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a path or a list")
	}
	var out []string
	for _, item := range l {
		if m, ok := item.(map[string]any); ok {
			item = m["path"]
		}
		p, ok := item.(string)
		if !ok || p == "" {
			return nil, fmt.Errorf("want a list of paths")
		}
		out = append(out, p)
	}
	return out, nil
}

// composeHealth reads healthcheck: into s.Health.
func composeHealth(s *Service, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a mapping")
	}
	if d, _ := m["disable"].(bool); d {
		return nil
	}
	var test []string
	switch t := m["test"].(type) {
	case nil:
		return nil
	case string:
		test = shell(t)
	default:
		words, err := strs(t)
		if err != nil {
			return fmt.Errorf("test: %w", err)
		}
		switch {
		case len(words) == 0 || words[0] == "NONE":
			return nil
		case words[0] == "CMD" && len(words) > 1:
			test = words[1:]
		case words[0] == "CMD-SHELL" && len(words) > 1:
			test = shell(strings.Join(words[1:], " "))
		default:
			return fmt.Errorf("test: want [CMD, ...], [CMD-SHELL, ...] or [NONE]")
		}
	}
	if len(test) == 0 || test[0] == "" {
		return fmt.Errorf("test: empty")
	}
	h := &Health{Exec: test}
	for _, d := range []struct {
		key string
		to  *time.Duration
	}{{"interval", &h.Interval}, {"timeout", &h.Timeout}, {"start_period", &h.StartPeriod}} {
		if t, ok := scalar(m[d.key]); ok && t != "" {
			var err error
			if *d.to, err = duration(t, time.Second); err != nil {
				return fmt.Errorf("%s: %w", d.key, err)
			}
		}
	}
	if r, ok := m["retries"].(int); ok && r > 0 {
		h.Retries = min(r, 1000)
	}
	s.Health = h
	s.note("healthcheck: runs on this machine, not in the container")
	return nil
}

// composeConditions maps compose's depends_on conditions.
var composeConditions = map[string]config.Condition{
	"service_started":                config.ConditionStarted,
	"service_healthy":                config.ConditionHealthy,
	"service_completed_successfully": config.ConditionCompleted,
}

// composeDepends reads depends_on: a list (started) or a mapping of
// conditions.
func composeDepends(s *Service, v any) error {
	if m, ok := v.(map[string]any); ok {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			d := Dep{Name: name, Condition: config.ConditionStarted}
			if spec, ok := m[name].(map[string]any); ok {
				if c, ok := spec["condition"].(string); ok {
					if d.Condition, ok = composeConditions[c]; !ok {
						return fmt.Errorf("%s: unknown condition %q", name, c)
					}
				}
				d.Restart, _ = spec["restart"].(bool)
			}
			s.DependsOn = append(s.DependsOn, d)
		}
		return nil
	}
	names, err := strs(v)
	if err != nil {
		return err
	}
	for _, n := range names {
		s.DependsOn = append(s.DependsOn, Dep{Name: n, Condition: config.ConditionStarted})
	}
	return nil
}

// composeRestart reads restart: no, always, unless-stopped, on-failure[:N].
func composeRestart(s *Service, v any) error {
	t, _ := scalar(v)
	policy, n, hasN := strings.Cut(t, ":")
	switch policy {
	case "no", "false":
		s.Restart.Policy = config.RestartNever
	case "always", "unless-stopped":
		s.Restart.Policy = config.RestartAlways
	case "on-failure":
		s.Restart.Policy = config.RestartOnFailure
		if hasN {
			i, err := strconv.Atoi(n)
			if err != nil || i < 0 {
				return fmt.Errorf("restart: %q: want on-failure:N", t)
			}
			s.Restart.MaxRestarts = intPtr(i)
		}
	default:
		return fmt.Errorf("restart: %q is not no, always, unless-stopped or on-failure", t)
	}
	return nil
}

// composeDeploy reads what deploy: says of restarts, replicas and memory.
func composeDeploy(s *Service, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a mapping")
	}
	if r, ok := m["replicas"].(int); ok && r != 1 {
		s.note("deploy.replicas %d: steward runs one", r)
	}
	if rp, ok := m["restart_policy"].(map[string]any); ok {
		switch c, _ := rp["condition"].(string); c {
		case "none":
			s.Restart.Policy = config.RestartNever
		case "on-failure":
			s.Restart.Policy = config.RestartOnFailure
		case "any", "":
			s.Restart.Policy = config.RestartAlways
		default:
			return fmt.Errorf("restart_policy.condition %q is not none, on-failure or any", c)
		}
		if n, ok := rp["max_attempts"].(int); ok && n >= 0 {
			s.Restart.MaxRestarts = intPtr(n)
		}
		if t, ok := scalar(rp["delay"]); ok && t != "" {
			d, err := duration(t, time.Second)
			if err != nil {
				return fmt.Errorf("restart_policy.delay: %w", err)
			}
			s.Restart.Backoff = d
		}
		if t, ok := scalar(rp["window"]); ok && t != "" {
			d, err := duration(t, time.Second)
			if err != nil {
				return fmt.Errorf("restart_policy.window: %w", err)
			}
			s.Restart.Stable = d
		}
	}
	if res, ok := m["resources"].(map[string]any); ok {
		if lim, ok := res["limits"].(map[string]any); ok {
			if t, ok := scalar(lim["memory"]); ok && t != "" {
				n, err := size(t)
				if err != nil {
					return fmt.Errorf("resources.limits.memory: %w", err)
				}
				s.Memory = n
				s.note("deploy.resources.limits.memory %s: limits.memory restarts the service when its process tree uses more", t)
			}
		}
	}
	return nil
}

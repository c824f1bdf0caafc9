package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/config"
)

// nodeScript prints the export of the ecosystem file named by its first
// argument as JSON: a CommonJS or an ES module, an object, or a function
// or promise that returns one.
const nodeScript = `import(require("url").pathToFileURL(process.argv[1]).href)
  .then(m => (m.default !== undefined ? m.default : m))
  .then(c => (typeof c === "function" ? c() : c))
  .then(c => process.stdout.write(JSON.stringify(c)))
  .catch(e => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exit(1); });`

// nodeTimeout bounds the evaluation of an ecosystem file.
const nodeTimeout = 30 * time.Second

// NodeEval evaluates the PM2 ecosystem file at path with node, when node
// is installed, and returns its export as JSON. It runs the file's code,
// as PM2 itself would.
func NodeEval(path string) ([]byte, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%s is JavaScript, and node is not installed to evaluate it: write it as JSON (pm2 ecosystem.json) or install node", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", nodeScript, path)
	cmd.Dir = filepath.Dir(path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("evaluate %s with node: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// pm2Interpreters are the interpreters PM2 picks by a script's extension.
var pm2Interpreters = map[string]string{
	".js": "node", ".cjs": "node", ".mjs": "node",
	".py": "python3", ".sh": "bash", ".rb": "ruby", ".php": "php", ".pl": "perl",
	".coffee": "coffee", ".ts": "ts-node",
}

// fromPM2 reads a PM2 ecosystem file: JSON, or JavaScript evaluated by
// opt.EvalJS.
func fromPM2(path string, data []byte, opt Options) (*File, error) {
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".js" || ext == ".cjs" || ext == ".mjs" {
		eval := opt.EvalJS
		if eval == nil {
			eval = NodeEval
		}
		var err error
		if data, err = eval(path); err != nil {
			return nil, err
		}
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var apps []any
	switch d := doc.(type) {
	case []any:
		apps = d
	case map[string]any:
		if a, ok := d["apps"]; ok {
			if apps, ok = a.([]any); !ok {
				apps = []any{a}
			}
		} else {
			apps = []any{d}
		}
	default:
		return nil, fmt.Errorf("%s: want an object with apps, or a list of apps", path)
	}
	f := &File{}
	dir := filepath.Dir(path)
	for i, a := range apps {
		app, ok := a.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: app %d: want an object", path, i+1)
		}
		svcs, jobs, err := pm2App(app, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: app %d: %w", path, i+1, err)
		}
		f.Services = append(f.Services, svcs...)
		f.Jobs = append(f.Jobs, jobs...)
	}
	return f, nil
}

// pm2App maps one app: instances services, and a job for cron_restart.
func pm2App(app map[string]any, dir string) ([]*Service, []*Job, error) {
	script, _ := app["script"].(string)
	if script == "" {
		return nil, nil, errors.New("no script")
	}
	name, _ := app["name"].(string)
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	}
	s := &Service{Name: name}
	cwd := dir
	if c, ok := app["cwd"].(string); ok && c != "" {
		cwd = absPath(dir, c)
		s.WorkingDir = cwd
	}
	interp, _ := app["interpreter"].(string)
	if interp == "" {
		interp, _ = app["exec_interpreter"].(string)
	}
	ext := strings.ToLower(filepath.Ext(script))
	if interp == "" {
		interp = pm2Interpreters[ext]
	}
	if interp != "" && interp != "none" || strings.ContainsRune(script, '/') {
		script = absPath(cwd, script)
	}
	if interp != "" && interp != "none" {
		s.Command = append(s.Command, interp)
		for _, k := range []string{"interpreter_args", "node_args"} {
			args, err := pm2Args(app[k])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", k, err)
			}
			s.Command = append(s.Command, args...)
		}
	}
	s.Command = append(s.Command, script)
	args, err := pm2Args(app["args"])
	if err != nil {
		return nil, nil, fmt.Errorf("args: %w", err)
	}
	s.Command = append(s.Command, args...)
	instances := 1
	keys := make([]string, 0, len(app))
	for k := range app {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var jobs []*Job
	var unmapped []string
	for _, k := range keys {
		v := app[k]
		switch k {
		case "name", "script", "cwd", "interpreter", "exec_interpreter", "interpreter_args", "node_args", "args":
		case "env":
			env, ok := v.(map[string]any)
			if !ok {
				return nil, nil, errors.New("env: want an object")
			}
			names := make([]string, 0, len(env))
			for n := range env {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				val, ok := scalar(env[n])
				if !ok || !validEnvName(n) {
					return nil, nil, fmt.Errorf("env %q: want a name and a string", n)
				}
				s.setEnv(n, val)
			}
		case "instances":
			switch n := v.(type) {
			case float64:
				if n >= 1 && n <= 1000 && n == float64(int(n)) {
					instances = int(n)
				} else {
					s.note("instances %v: one instance imported (a number of CPUs is PM2's)", v)
				}
			default:
				s.note("instances %v: one instance imported (a number of CPUs is PM2's)", v)
			}
		case "exec_mode":
			if m, _ := v.(string); m == "cluster" || m == "cluster_mode" {
				s.note("exec_mode cluster: steward runs separate processes, which do not share a port as PM2's cluster does")
			}
		case "autorestart":
			if b, ok := v.(bool); ok && !b {
				s.Restart.Policy = config.RestartNever
			} else if ok {
				s.Restart.Policy = config.RestartAlways
			}
		case "autostart":
			if b, ok := v.(bool); ok && !b {
				s.Disabled = true
			}
		case "max_restarts":
			if n, ok := v.(float64); ok && n >= 0 && n <= 1e9 {
				s.Restart.MaxRestarts = intPtr(int(n))
			}
		case "min_uptime":
			if s.Restart.Stable, err = pm2Duration(v); err != nil {
				return nil, nil, fmt.Errorf("min_uptime: %w", err)
			}
		case "restart_delay", "exp_backoff_restart_delay":
			if s.Restart.Backoff, err = pm2Duration(v); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", k, err)
			}
			if k == "exp_backoff_restart_delay" {
				s.Restart.MaxBackoff = 15 * time.Second // PM2's ceiling
			}
		case "kill_timeout":
			if s.Stop.Timeout, err = pm2Duration(v); err != nil {
				return nil, nil, fmt.Errorf("kill_timeout: %w", err)
			}
		case "listen_timeout":
			s.note("listen_timeout %v not mapped: a ready: check of steward has its own timeout", v)
		case "wait_ready":
			if b, _ := v.(bool); b {
				s.note("wait_ready: PM2's process.send('ready') has no steward equivalent; use ready: {log: ...} or the notify protocol")
			}
		case "max_memory_restart":
			t, _ := scalar(v)
			if s.Memory, err = size(t); err != nil {
				return nil, nil, fmt.Errorf("max_memory_restart: %w", err)
			}
		case "cron_restart":
			if c, ok := v.(string); ok && c != "" {
				if _, err := config.ParseSchedule(c, ""); err != nil {
					s.note("cron_restart %q not mapped: %v", c, err)
				} else {
					jobs = append(jobs, &Job{Name: name + "-restart", Schedule: c, Restart: name})
				}
			}
		case "out_file", "error_file", "log_file", "output", "error", "log":
			s.note("%s %v: steward writes the output under its data_dir (steward logs %s)", k, v, name)
		case "watch":
			if b, ok := v.(bool); !ok || b {
				s.note("watch: steward does not restart on file changes")
			}
		case "user", "uid":
			s.User, _ = scalar(v)
		case "gid":
			s.Group, _ = scalar(v)
		case "merge_logs", "combine_logs", "log_date_format", "time", "pid_file", "vizion", "treekill", "namespace", "ignore_watch", "source_map_support":
		default:
			if strings.HasPrefix(k, "env_") {
				s.note("%s: PM2's --env %s; only env is imported", k, strings.TrimPrefix(k, "env_"))
				continue
			}
			unmapped = append(unmapped, k)
		}
	}
	if len(unmapped) > 0 {
		s.note("not mapped: %s", strings.Join(unmapped, ", "))
	}
	if instances == 1 {
		return []*Service{s}, jobs, nil
	}
	var out []*Service
	var instJobs []*Job
	for i := range instances {
		c := *s
		c.Name = fmt.Sprintf("%s-%d", s.Name, i)
		c.Env = append([]EnvVar(nil), s.Env...)
		c.setEnv("NODE_APP_INSTANCE", strconv.Itoa(i))
		out = append(out, &c)
		for _, j := range jobs {
			instJobs = append(instJobs, &Job{Name: c.Name + "-restart", Schedule: j.Schedule, Restart: c.Name})
		}
	}
	return out, instJobs, nil
}

// pm2Args reads args: a string split as a shell would, or a list.
func pm2Args(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		words, err := config.SplitCommand(t)
		if err != nil {
			return nil, err
		}
		return words, nil
	}
	return strs(v)
}

// pm2Duration reads a PM2 time: milliseconds, or a string such as "10s".
func pm2Duration(v any) (time.Duration, error) {
	switch t := v.(type) {
	case float64:
		if t < 0 || t > 1e12 {
			return 0, fmt.Errorf("%v is out of range", t)
		}
		return time.Duration(t) * time.Millisecond, nil
	case string:
		return duration(t, time.Millisecond)
	}
	return 0, fmt.Errorf("want milliseconds or a duration, got %v", v)
}

package supervise

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/stewardhq/steward/internal/config"
)

// buildEnv is a service's environment: the base part of steward's own
// (isBaseVar), what inherit_env passes of the rest, the user's HOME, USER,
// LOGNAME and SHELL when user: is set, then what extra (Options.Env, when
// set) gives the service, then env_file's entries, then env's, then
// STEWARD_SERVICE; later entries win. secrets names the variables the
// configuration references as secrets: inherit_env: true leaves them out,
// only inherit_env's list passes them.
func buildEnv(cfg *config.Service, secrets []string, extra func(service string) []string) ([]string, error) {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		wanted := isBaseVar(k) || cfg.InheritEnv.All
		if slices.Contains(cfg.InheritEnv.Names, k) || (wanted && !slices.Contains(secrets, k)) {
			env = append(env, kv)
		}
	}
	if cfg.User != "" {
		env = append(env, userEnv(cfg.User)...)
	}
	if extra != nil {
		env = append(env, extra(cfg.Name)...)
	}
	if cfg.EnvFile != "" {
		data, err := os.ReadFile(cfg.EnvFile)
		if err != nil {
			return nil, fmt.Errorf("read env_file: %w", err)
		}
		fileEnv, err := parseEnvFile(data)
		if err != nil {
			return nil, fmt.Errorf("env_file %s: %w", cfg.EnvFile, err)
		}
		env = append(env, fileEnv...)
	}
	for k, v := range cfg.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "STEWARD_SERVICE="+cfg.Name)
	return dedupEnv(env), nil
}

// parseEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile does:
// blank lines and lines starting with # or ; are skipped, an optional
// "export " prefix is allowed, and a value may be wrapped in single quotes
// (taken literally) or double quotes (Go escapes).
func parseEnvFile(data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		} else if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			uq, err := strconv.Unquote(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad quoted value: %w", n, err)
			}
			v = uq
		}
		out = append(out, k+"="+v)
	}
	return out, sc.Err()
}

// dedupEnv keeps the last entry of each key, in first-seen order.
func dedupEnv(env []string) []string {
	idx := make(map[string]int, len(env))
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

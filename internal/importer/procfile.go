package importer

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// procfileLine matches one process type of a Procfile: "web: command".
var procfileLine = regexp.MustCompile(`^([A-Za-z0-9_-]+):\s*(.+)$`)

// procfileBasePort is the PORT of a Procfile's first process type, as
// foreman gives it; each next type gets 100 more.
const procfileBasePort = 5000

// fromProcfile reads a Procfile: one service per process type, each run
// by sh as foreman runs them, with the .env file beside the Procfile as
// env_file when there is one.
func fromProcfile(path string, data []byte, opt Options) (*File, error) {
	f := &File{}
	dir := filepath.Dir(path)
	envFile := filepath.Join(dir, ".env")
	hasEnv := false
	if opt.ReadFile != nil {
		_, err := opt.ReadFile(envFile)
		hasEnv = err == nil
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		m := procfileLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: want NAME: command, got %q", path, n+1, clip(line))
		}
		s := &Service{Name: m[1], WorkingDir: dir}
		if s.Command = shell(m[2]); s.Command == nil {
			return nil, fmt.Errorf("%s:%d: %s has no command", path, n+1, m[1])
		}
		if !needsShell(m[2]) {
			s.Command = command(m[2])
		}
		if hasEnv {
			s.EnvFile = envFile
		}
		if strings.Contains(m[2], "PORT") {
			port := procfileBasePort + 100*len(f.Services)
			s.setEnv("PORT", strconv.Itoa(port))
			s.note("PORT=%d as foreman would give it", port)
		}
		f.Services = append(f.Services, s)
	}
	return f, nil
}

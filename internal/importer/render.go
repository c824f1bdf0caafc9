package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// render writes f as a steward configuration, its notes as comments.
func (f *File) render() ([]byte, error) {
	if len(f.Services) == 0 {
		msg := fmt.Sprintf("%s: no service could be imported", f.Source)
		if len(f.Notes) > 0 {
			msg += ":\n  " + strings.Join(f.Notes, "\n  ")
		}
		return nil, fmt.Errorf("%s", msg)
	}
	root := mapping()
	head := []string{fmt.Sprintf("Imported by `steward import` from %s.", f.Source),
		"Check it with `steward validate -c FILE`; comments mark what could not be mapped."}
	for _, n := range f.Notes {
		head = append(head, "not imported: "+n)
	}
	services := mapping()
	for _, s := range f.Services {
		key := str(s.Name)
		key.HeadComment = comment(s.Notes)
		services.Content = append(services.Content, key, s.node())
	}
	root.Content = append(root.Content, str("services"), services)
	root.Content[0].HeadComment = comment(head)
	if len(f.Jobs) > 0 {
		jobs := mapping()
		for _, j := range f.Jobs {
			job := mapping()
			add(job, "schedule", str(j.Schedule))
			svc := mapping()
			add(svc, "restart", str(j.Restart))
			add(job, "service", svc)
			jobs.Content = append(jobs.Content, str(j.Name), job)
		}
		root.Content = append(root.Content, str("jobs"), jobs)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return buf.Bytes(), nil
}

// node returns the mapping of s.
func (s *Service) node() *yaml.Node {
	m := mapping()
	add(m, "command", list(s.Command))
	if s.WorkingDir != "" {
		add(m, "working_dir", str(s.WorkingDir))
	}
	if s.User != "" {
		add(m, "user", str(s.User))
	}
	if s.Group != "" {
		add(m, "group", str(s.Group))
	}
	if s.EnvFile != "" {
		add(m, "env_file", str(s.EnvFile))
	}
	if len(s.InheritEnv) > 0 {
		add(m, "inherit_env", list(s.InheritEnv))
	}
	if len(s.Env) > 0 {
		env := mapping()
		for _, e := range s.Env {
			add(env, e.Name, str(e.Value))
		}
		add(m, "env", env)
	}
	if s.Disabled {
		add(m, "disabled", boolean(true))
	}
	if len(s.DependsOn) > 0 {
		deps := mapping()
		for _, d := range s.DependsOn {
			cond := string(d.Condition)
			if cond == "" {
				cond = "ready"
			}
			if d.Restart {
				v := mapping()
				add(v, "condition", str(cond))
				add(v, "restart", boolean(true))
				add(deps, d.Name, v)
			} else {
				add(deps, d.Name, str(cond))
			}
		}
		add(m, "depends_on", deps)
	}
	if r := s.Ready; r != (Ready{}) {
		ready := flow()
		switch {
		case r.Notify:
			add(ready, "notify", boolean(true))
			if r.Watchdog > 0 {
				add(ready, "watchdog", dur(r.Watchdog))
			}
		case r.After > 0:
			add(ready, "after", dur(r.After))
		}
		if r.Timeout > 0 {
			add(ready, "timeout", dur(r.Timeout))
		}
		if len(ready.Content) > 0 {
			add(m, "ready", ready)
		}
	}
	if s.Health != nil {
		h := flow()
		add(h, "exec", list(s.Health.Exec))
		if s.Health.Interval > 0 {
			add(h, "interval", dur(s.Health.Interval))
		}
		if s.Health.Timeout > 0 {
			add(h, "timeout", dur(s.Health.Timeout))
		}
		if s.Health.Retries > 0 {
			add(h, "retries", integer(s.Health.Retries))
		}
		if s.Health.StartPeriod > 0 {
			add(h, "start_period", dur(s.Health.StartPeriod))
		}
		add(m, "health", h)
	}
	if st := s.Stop; st != (Stop{}) {
		stop := flow()
		if st.Signal != "" {
			add(stop, "signal", str(st.Signal))
		}
		if st.Timeout > 0 {
			add(stop, "timeout", dur(st.Timeout))
		}
		add(m, "stop", stop)
	}
	r := s.Restart
	restart := flow()
	if r.Policy != "" {
		add(restart, "policy", str(r.Policy))
	}
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"backoff", r.Backoff}, {"max_backoff", r.MaxBackoff}} {
		if d.d > 0 {
			add(restart, d.key, dur(d.d))
		}
	}
	if r.MaxRestarts != nil {
		add(restart, "max_restarts", integer(*r.MaxRestarts))
	}
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"window", r.Window}, {"stable", r.Stable}} {
		if d.d > 0 {
			add(restart, d.key, dur(d.d))
		}
	}
	if len(restart.Content) > 0 {
		add(m, "restart", restart)
	}
	if s.Logs.MaxSize > 0 || s.Logs.Keep != nil {
		logs := flow()
		if s.Logs.MaxSize > 0 {
			add(logs, "max_size", str(sizeText(s.Logs.MaxSize)))
		}
		if s.Logs.Keep != nil {
			add(logs, "keep", integer(*s.Logs.Keep))
		}
		add(m, "logs", logs)
	}
	if s.Memory > 0 {
		limits := flow()
		add(limits, "memory", str(sizeText(s.Memory)))
		add(m, "limits", limits)
	}
	return m
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func flow() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }

func add(m *yaml.Node, key string, v *yaml.Node) { m.Content = append(m.Content, str(key), v) }

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.ToValidUTF8(s, "\uFFFD")}
}

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func dur(d time.Duration) *yaml.Node { return str(d.String()) }

func list(words []string) *yaml.Node {
	l := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, w := range words {
		l.Content = append(l.Content, str(w))
	}
	return l
}

// sizeText writes n bytes in the largest binary unit that divides it.
func sizeText(n int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// comment returns lines as the text of a YAML comment; a line's newlines
// become spaces, so that each stays one comment line.
func comment(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("# ")
		b.WriteString(strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r < ' ' && r != '\t' {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(l, "\uFFFD")))
	}
	return b.String()
}

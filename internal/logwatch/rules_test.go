package logwatch

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// events collects Events for a test.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) handle(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

func (e *events) take() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	evs := e.evs
	e.evs = nil
	return evs
}

func (e *events) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.evs)
}

func TestMatcher(t *testing.T) {
	var got events
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := NewMatcher("applog", []RuleConfig{
		{Match: `ERROR (?P<what>\w+)`, Exclude: `ERROR ignored`, Severity: "critical", Message: "error in ${what}: $0"},
		{Name: "slow", Match: `took (?P<ms>\d+)ms`},
	}, got.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Scan("/var/log/app.log", []byte("ok\r\nERROR db failed\r\nERROR ignored now\nrequest took 350ms\nERROR cache took 12ms"), t0)
	evs := got.take()
	if len(evs) != 4 {
		t.Fatalf("events = %+v, want 4", evs)
	}
	want := []Event{
		{Watch: "applog", Rule: "rule-1", Severity: "critical", Source: "/var/log/app.log", Line: "ERROR db failed",
			Message: "error in db: ERROR db", Groups: map[string]string{"what": "db"}, Time: t0, Count: 1},
		{Watch: "applog", Rule: "slow", Severity: "warning", Source: "/var/log/app.log", Line: "request took 350ms",
			Message: "request took 350ms", Groups: map[string]string{"ms": "350"}, Time: t0, Count: 1},
		{Watch: "applog", Rule: "rule-1", Severity: "critical", Source: "/var/log/app.log", Line: "ERROR cache took 12ms",
			Message: "error in cache: ERROR cache", Groups: map[string]string{"what": "cache"}, Time: t0, Count: 1},
		{Watch: "applog", Rule: "slow", Severity: "warning", Source: "/var/log/app.log", Line: "ERROR cache took 12ms",
			Message: "ERROR cache took 12ms", Groups: map[string]string{"ms": "12"}, Time: t0, Count: 1},
	}
	for i := range want {
		if fmt.Sprint(evs[i]) != fmt.Sprint(want[i]) {
			t.Errorf("event %d = %+v\nwant %+v", i, evs[i], want[i])
		}
	}
	st := m.Stats()
	if st[0].Matches != 2 || st[0].Excluded != 1 || st[0].Events != 2 || st[1].Matches != 2 || st[0].Rule != "rule-1" || st[1].Severity != "warning" {
		t.Errorf("stats = %+v", st)
	}
	// Invalid UTF-8 is made valid.
	m.Scan("s", []byte("ERROR \xff\xfe took 1ms"), t0)
	for _, ev := range got.take() {
		if !strings.Contains(ev.Line, "\uFFFD") {
			t.Errorf("line %q kept invalid UTF-8", ev.Line)
		}
	}
	if _, err := NewMatcher("x", []RuleConfig{{Match: "("}}, nil, nil); err == nil {
		t.Error("NewMatcher with a bad regexp succeeded")
	}
}

func TestMatcherCondition(t *testing.T) {
	var got events
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := NewMatcher("w", []RuleConfig{{Name: "burst", Match: `fail`, When: "3 in 1m"}}, got.handle, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return clock.Add(d) }
	m.Scan("f", []byte("fail 1\n"), at(0))
	m.Scan("f", []byte("fail 2\n"), at(20*time.Second))
	if n := got.len(); n != 0 {
		t.Fatalf("%d events after 2 of 3 matches", n)
	}
	m.Tick(at(30 * time.Second))
	m.Scan("f", []byte("fail 3\nfail 4\n"), at(59*time.Second))
	evs := got.take()
	if len(evs) != 1 || evs[0].Resolved || evs[0].Count != 3 || evs[0].Line != "fail 3" {
		t.Fatalf("at the third match: %+v, want one event for fail 3", evs)
	}
	if !m.Stats()[0].Active {
		t.Error("not active")
	}
	// Still three within the last minute at 1m19s (20s, 59s, 59s): nothing.
	m.Tick(at(79 * time.Second))
	if n := got.len(); n != 0 {
		t.Fatalf("%d events while the condition holds", n)
	}
	// At 1m20s the match at 20s leaves the window: resolved.
	m.Tick(at(80 * time.Second))
	evs = got.take()
	if len(evs) != 1 || !evs[0].Resolved || evs[0].Line != "fail 3" || !evs[0].Time.Equal(at(80*time.Second)) {
		t.Fatalf("resolution = %+v", evs)
	}
	m.Tick(at(time.Hour))
	// Three spread over more than a minute never fire.
	for i := range 5 {
		m.Scan("f", []byte("fail\n"), at(time.Hour+time.Duration(i)*40*time.Second))
	}
	if n := got.len(); n != 0 {
		t.Errorf("%d events for spread-out matches", n)
	}
	if st := m.Stats()[0]; st.Events != 2 || st.Matches != 9 || st.Active {
		t.Errorf("stats = %+v", st)
	}
}

func TestRequiredLiterals(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`ERROR (?P<what>\w+)`, []string{"ERROR "}},
		{`timeout after (\d+)ms`, []string{"timeout after "}},
		{`^panic: `, []string{"panic: "}},
		{`connection (refused|reset)`, []string{"connection "}},
		{`refused|reset by peer`, []string{"fused", "set by peer"}}, // "re" is factored out
		{`(?:ab)+c`, []string{"ab"}},
		{`x{2,}`, []string{"x"}},
		{`a.*b`, []string{"a"}},
		{`status=5\d\d`, []string{"status=5"}},
		{`(?i)oom`, []string{"oom", "ooM", "oOm", "oOM", "Oom", "OoM", "OOm", "OOM"}},
		{`(?i)out of memory`, []string{"out ", "ouT ", "oUt ", "oUT ", "Out ", "OuT ", "OUt ", "OUT "}},
		{`(?i)k`, []string{"k", "K", "\u212a"}},
		{`.*`, nil},
		{`\d+`, nil},
		{`a?`, nil},
		{`a|\d`, nil},
		{`(`, nil},
		{`a|b|c|d|e|f|g|h|i`, nil},
		{`line\nbreak`, nil},
	} {
		var got []string
		for _, l := range requiredLiterals(tt.expr) {
			got = append(got, string(l))
		}
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// FuzzScan checks that the literal prefilter never changes which lines
// match: Scan agrees with matching every line with the regexp.
func FuzzScan(f *testing.F) {
	for _, seed := range []struct{ expr, text string }{
		{`ERROR (\w+)`, "ok\nERROR db\nERROR\nxERROR y\n"},           // literal prefix
		{`refused|reset`, "conn reset\nrefused\nboth refused reset"}, // alternation
		{`(?i)oom`, "OOM killer\nzoom\nOoM"},                         // case folding
		{`^a$`, "a\nba\na\r\n"},                                      // anchors, CRLF
		{`é+`, "café\nee\néé"},                                       // non-ASCII
	} {
		f.Add(seed.expr, seed.text)
	}
	f.Fuzz(func(t *testing.T, expr, text string) {
		re, err := regexp.Compile(expr)
		if err != nil || len(text) > 8192 {
			return
		}
		var got events
		m, err := NewMatcher("w", []RuleConfig{{Match: expr}, {Match: `zz`}}, got.handle, nil)
		if err != nil {
			return
		}
		m.Scan("s", []byte(text), time.Time{})
		var want []string
		lines := strings.Split(text, "\n")
		if lines[len(lines)-1] == "" { // a newline ends a line, it starts none
			lines = lines[:len(lines)-1]
		}
		for _, line := range lines {
			line = strings.TrimSuffix(line, "\r")
			if re.MatchString(line) {
				want = append(want, line)
			}
		}
		var matched []string
		for _, ev := range got.all() {
			if ev.Rule == "rule-1" {
				matched = append(matched, ev.Line)
			}
		}
		for i := range want {
			want[i] = string(bytes.ToValidUTF8([]byte(want[i]), []byte("\uFFFD")))
		}
		if !slices.Equal(matched, want) {
			t.Fatalf("Scan(%q, %q) matched %q, want %q", expr, text, matched, want)
		}
	})
}

func TestValidate(t *testing.T) {
	ok := Config{Name: "applog", Files: []string{"/var/log/app/*.log"}, Rules: []RuleConfig{{Match: "ERROR"}}}
	with := func(f func(*Config)) Config { c := ok; c.Rules = slices.Clone(ok.Rules); f(&c); return c }
	for _, tt := range []struct {
		c    Config
		errs []string
	}{
		{ok, nil},
		{with(func(c *Config) {
			c.Files = nil
			c.Services = []string{"api"}
			c.StartAt = StartBeginning
			c.Poll = time.Second
			c.Rules = []RuleConfig{{Name: "a", Match: `ERROR (?P<what>\w+) (\d+)`, Exclude: "x", Severity: "critical", When: "5 in 1m", Message: "$what ${what} $2 $$ $0"}}
		}), nil},
		{Config{}, []string{"name: is required", "files: a log watch needs files or services", "rules: a log watch needs at least one rule"}},
		{with(func(c *Config) {
			c.Files = []string{"", "rel/*.log", "/a/[", "/var/*/x.log"}
			c.Services = []string{""}
		}),
			[]string{"files[0]: empty path", "files[1]: path \"rel/*.log\" is not absolute", "files[2]: invalid glob", "files[3]: a glob may not have wildcards in its directory", "services[0]: empty service name"}},
		{with(func(c *Config) { c.StartAt = "middle"; c.Poll = -1 }), []string{"start_at: unknown value", "poll: must not be negative"}},
		{with(func(c *Config) { c.Poll = time.Millisecond }), []string{"poll: must be at least 10ms"}},
		{with(func(c *Config) {
			c.Rules = []RuleConfig{
				{},
				{Match: "(", Exclude: "[", Severity: "page", When: "often"},
				{Name: "dup", Match: `(?P<a>x)`, Message: "$b"},
				{Name: "dup", Match: `x`, Message: "$1"},
				{Match: `x`, Message: "${a"},
				{Match: `(x)`, Message: "$1x $"},
			}
		}), []string{
			"rules[0].match: is required",
			"rules[1].match: invalid regular expression: missing closing ): `(`",
			"rules[1].exclude: invalid regular expression",
			"rules[1].severity: unknown severity \"page\"",
			"rules[1].when: invalid condition \"often\"",
			"rules[2].message: the match has no group named \"b\"",
			"rules[3].message: the match has no group 1",
			"rules[3].name: rule \"dup\" is already defined",
			"rules[4].message: invalid reference at offset 0",
			"rules[5].message: the match has no group named \"1x\"",
		}},
	} {
		var got []string
		if err := tt.c.Validate(); err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				got = append(got, e.Error())
			}
		}
		if len(got) != len(tt.errs) {
			t.Errorf("Validate(%+v) = %q, want %q", tt.c, got, tt.errs)
			continue
		}
		for _, w := range tt.errs {
			if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
				t.Errorf("Validate(%+v) = %q, want one with %q", tt.c, got, w)
			}
		}
	}
	if err := (RuleConfig{Match: "x", Message: "$"}).Validate(); err == nil {
		t.Error("a lone $ passed")
	}
}

// BenchmarkScan measures Scan on 1 MiB of log lines, 3% of them matching,
// with the bench/logwatch rule set, and with it and a rule whose only
// literal ("ms") is on every line, so that its regexp runs on every line.
func BenchmarkScan(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; buf.Len() < 1<<20; i++ {
		switch i % 33 {
		case 0:
			fmt.Fprintf(&buf, "2026-03-01T00:00:00.%06dZ ERROR db query failed: deadline exceeded\n", i)
		default:
			fmt.Fprintf(&buf, "2026-03-01T00:00:00.%06dZ INFO  http request method=GET path=/api/v1/users status=200 duration=%dms\n", i, i%900)
		}
	}
	p := buf.Bytes()
	typical := []RuleConfig{
		{Match: `ERROR (?P<what>\w+)`}, {Match: `timeout after (?P<ms>\d+)ms`}, {Match: `panic: (?P<msg>.*)`},
		{Match: `connection (?:refused|reset)`}, {Match: `status=5\d\d`},
	}
	for _, bc := range []struct {
		name  string
		rules []RuleConfig
	}{
		{"typical", typical},
		{"typical+literal-on-every-line", append(slices.Clone(typical), RuleConfig{Match: `\d{4,}ms$`})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewMatcher("b", bc.rules, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(p)))
			for range b.N {
				m.Scan("f", p, time.Time{})
			}
		})
	}
}

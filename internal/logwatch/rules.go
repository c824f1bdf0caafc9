package logwatch

import (
	"bytes"
	"cmp"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event is a rule's hit. A rule without a condition has one per matching
// line. A rule with one ("5 in 1m") has one when the condition starts to
// hold — the start of an incident — and one with Resolved set when it no
// longer holds: fewer than its count of matches in the last window.
type Event struct {
	Watch    string            // the log watch's name
	Rule     string            // the rule's name
	Severity string            // the rule's severity
	Source   string            // the file's path, or "service:NAME"
	Line     string            // the (last) matching line
	Message  string            // the rule's message for that line
	Groups   map[string]string // the named groups of the match
	Time     time.Time
	// Count is how many matches the condition counted (its count), or 1.
	Count    int
	Resolved bool
}

// Handler receives Events. It is called from the goroutine that reads the
// lines, one Event at a time, in the order of the lines: it should hand the
// event on and return quickly, and must not call Scan, Tick or Follow.
type Handler func(Event)

// RuleStats are one rule's counters since the Matcher was made.
type RuleStats struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Matches  uint64 `json:"matches"`  // lines that matched and were not excluded
	Excluded uint64 `json:"excluded"` // lines that matched but were excluded
	Events   uint64 `json:"events"`   // Events raised, resolutions included
	Active   bool   `json:"active"`   // the condition holds now
}

// rule is a compiled RuleConfig and its state.
type rule struct {
	name, severity string
	re, exclude    *regexp.Regexp
	// lits, when set, are literals of which every match contains one: a
	// line with none of them cannot match, and is not given to re.
	lits []literal
	tmpl string
	when When

	// Guarded by Matcher.mu.
	times []time.Time // the last when.Count match times, a ring
	next  int         // where the next time goes in times
	last  Event       // the event that made the condition hold

	// Written under Matcher.mu, read by Stats without it.
	active                    atomic.Bool
	matches, excluded, events atomic.Uint64
}

// Matcher checks lines against a log watch's rules. It is safe for
// concurrent use: a Watcher's files and the services it follows share one.
type Matcher struct {
	watch   string
	rules   []*rule
	handler Handler
	now     func() time.Time

	mu      sync.Mutex
	cands   []cand // scratch of scan
	learned bool   // the literals' anchors are chosen from the data
}

// literal is a string that a rule's matches contain, searched for by its
// rarest byte: most of the time is spent in IndexByte, which skips
// through text at memory speed, and little in checking what it finds (as
// ripgrep does, with frequencies learned from the first text seen).
type literal struct {
	s []byte
	k int // the index in s of the byte searched for
}

// index returns the index of the first occurrence of l in p at or after
// off, or -1.
func (l *literal) index(p []byte, off int) int {
	c := l.s[l.k]
	for from := off + l.k; from < len(p); {
		i := bytes.IndexByte(p[from:], c)
		if i < 0 {
			return -1
		}
		start := from + i - l.k
		if start+len(l.s) <= len(p) && bytes.Equal(p[start:start+len(l.s)], l.s) {
			return start
		}
		from += i + 1
	}
	return -1
}

// learn chooses each literal's anchor: its byte that is rarest in p.
func (m *Matcher) learn(p []byte) {
	var freq [256]int
	for _, c := range p[:min(len(p), scanPiece)] {
		freq[c]++
	}
	for _, r := range m.rules {
		for i := range r.lits {
			l := &r.lits[i]
			for j := range l.s {
				if freq[l.s[j]] < freq[l.s[l.k]] {
					l.k = j
				}
			}
		}
	}
	m.learned = len(p) >= 4096
}

// NewMatcher compiles rules for the watch named watch. Events go to h; now
// is the clock (nil means time.Now).
func NewMatcher(watch string, rules []RuleConfig, h Handler, now func() time.Time) (*Matcher, error) {
	if now == nil {
		now = time.Now
	}
	if h == nil {
		h = func(Event) {}
	}
	m := &Matcher{watch: watch, handler: h, now: now}
	for i, rc := range rules {
		if err := rc.Validate(); err != nil {
			return nil, err
		}
		r := &rule{
			name:     rc.name(i),
			severity: cmp.Or(rc.Severity, DefaultSeverity),
			re:       regexp.MustCompile(rc.Match),
			tmpl:     rc.Message,
		}
		if rc.Exclude != "" {
			r.exclude = regexp.MustCompile(rc.Exclude)
		}
		r.when, _ = ParseWhen(rc.When)
		if r.when.Count > 0 {
			r.times = make([]time.Time, r.when.Count)
		}
		for _, l := range requiredLiterals(rc.Match) {
			r.lits = append(r.lits, literal{s: l})
		}
		m.rules = append(m.rules, r)
	}
	return m, nil
}

// cand is a line that may match a rule.
type cand struct {
	start, end int // the line, without its newline
	rule       int
}

// Scan checks every line of p, which holds whole lines separated by '\n'
// (the last one may lack it), as read from source at time t.
func (m *Matcher) Scan(source string, p []byte, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Each rule's literals are searched for in turn: in pieces that stay
	// in the CPU's cache across the searches.
	for len(p) > scanPiece {
		end := bytes.LastIndexByte(p[:scanPiece], '\n') + 1
		if end == 0 {
			end = bytes.IndexByte(p, '\n') + 1
			if end == 0 {
				break
			}
		}
		m.scan(source, p[:end], t)
		p = p[end:]
	}
	m.scan(source, p, t)
}

// scanPiece is the size of the pieces Scan checks at a time.
const scanPiece = 64 << 10

func (m *Matcher) scan(source string, p []byte, t time.Time) {
	c := m.cands[:0]
	var slow []int // rules without literals: every line is a candidate
	for ri, r := range m.rules {
		if r.lits == nil {
			slow = append(slow, ri)
			continue
		}
		for li := range r.lits {
			lit := &r.lits[li]
			if !m.learned {
				m.learn(p)
			}
			for off := 0; off < len(p); {
				pos := lit.index(p, off)
				if pos < 0 {
					break
				}
				start := bytes.LastIndexByte(p[:pos], '\n') + 1
				end := bytes.IndexByte(p[pos:], '\n')
				if end < 0 {
					end = len(p)
				} else {
					end += pos
				}
				c = append(c, cand{start, end, ri})
				off = end + 1
			}
		}
	}
	if len(slow) > 0 {
		for start := 0; start < len(p); {
			end := bytes.IndexByte(p[start:], '\n')
			if end < 0 {
				end = len(p)
			} else {
				end += start
			}
			for _, ri := range slow {
				c = append(c, cand{start, end, ri})
			}
			start = end + 1
		}
	}
	if len(m.rules) > 1 || len(m.rules[0].lits) > 1 {
		slices.SortFunc(c, func(a, b cand) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.rule, b.rule)) })
		c = slices.Compact(c)
	}
	for _, k := range c {
		line := p[k.start:k.end]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		m.check(m.rules[k.rule], source, line, t)
	}
	m.cands = c[:0]
}

// check runs r on line and raises what it must.
func (m *Matcher) check(r *rule, source string, line []byte, t time.Time) {
	loc := r.re.FindSubmatchIndex(line)
	if loc == nil {
		return
	}
	if r.exclude != nil && r.exclude.Match(line) {
		r.excluded.Add(1)
		return
	}
	r.matches.Add(1)
	if !r.when.IsZero() {
		r.times[r.next] = t
		r.next = (r.next + 1) % len(r.times)
		// r.times[r.next] is now the oldest of the last Count matches.
		oldest := r.times[r.next]
		if r.active.Load() || oldest.IsZero() || !t.Add(-r.when.Window).Before(oldest) {
			return
		}
	}
	ev := Event{
		Watch:    m.watch,
		Rule:     r.name,
		Severity: r.severity,
		Source:   source,
		Line:     validUTF8(line),
		Time:     t,
		Count:    max(r.when.Count, 1),
	}
	names := r.re.SubexpNames()
	for i := 1; i < len(names); i++ {
		if names[i] != "" && loc[2*i] >= 0 {
			if ev.Groups == nil {
				ev.Groups = make(map[string]string)
			}
			ev.Groups[names[i]] = validUTF8(line[loc[2*i]:loc[2*i+1]])
		}
	}
	if r.tmpl == "" {
		ev.Message = ev.Line
	} else {
		ev.Message = validUTF8(r.re.Expand(nil, []byte(r.tmpl), line, loc))
	}
	if !r.when.IsZero() {
		r.active.Store(true)
		r.last = ev
	}
	r.events.Add(1)
	m.handler(ev)
}

// Tick resolves the conditions that no longer hold at now; a Watcher and
// Follow call it every poll interval.
func (m *Matcher) Tick(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rules {
		if !r.active.Load() {
			continue
		}
		// The condition holds while the Count-th latest match is within
		// the window.
		oldest := r.times[r.next]
		if now.Add(-r.when.Window).Before(oldest) {
			continue
		}
		r.active.Store(false)
		ev := r.last
		ev.Resolved, ev.Time = true, now
		r.events.Add(1)
		m.handler(ev)
	}
}

// Stats returns the counters of every rule, in rule order. It does not
// wait for Scan, so a Handler may call it.
func (m *Matcher) Stats() []RuleStats {
	out := make([]RuleStats, len(m.rules))
	for i, r := range m.rules {
		out[i] = RuleStats{Rule: r.name, Severity: r.severity, Matches: r.matches.Load(),
			Excluded: r.excluded.Load(), Events: r.events.Load(), Active: r.active.Load()}
	}
	return out
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// maxLiterals is the most literals a rule's prefilter looks for.
const maxLiterals = 8

// requiredLiterals returns literals of which every match of expr contains
// at least one, or nil when it finds none worth searching for.
func requiredLiterals(expr string) [][]byte {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	set := literalSet(re.Simplify())
	if len(set) == 0 || len(set) > maxLiterals {
		return nil
	}
	var out [][]byte
	for _, s := range set {
		if s == "" || bytes.IndexByte([]byte(s), '\n') >= 0 {
			return nil
		}
		out = append(out, []byte(s))
	}
	return out
}

// literalSet returns strings of which every match of re contains one, or
// nil for none.
func literalSet(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return foldLiteral(re)
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return literalSet(re.Sub[0])
	case syntax.OpPlus:
		return literalSet(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalSet(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			s := literalSet(sub)
			if s == nil {
				return nil
			}
			all = append(all, s...)
		}
		if len(all) > maxLiterals {
			return nil
		}
		return all
	case syntax.OpConcat:
		// Runs of literal children make one literal; the best candidate
		// is the set whose shortest member is longest.
		var best []string
		consider := func(s []string) {
			if s != nil && (best == nil || score(s) > score(best)) {
				best = s
			}
		}
		var run []rune
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
				run = append(run, sub.Rune...)
				continue
			}
			if len(run) > 0 {
				consider([]string{string(run)})
				run = nil
			}
			consider(literalSet(sub))
		}
		if len(run) > 0 {
			consider([]string{string(run)})
		}
		return best
	}
	return nil
}

// foldLiteral returns the spellings of a case-folded literal when they are
// few (a short word); a line must contain one of them.
func foldLiteral(re *syntax.Regexp) []string {
	out := []string{""}
	for _, r := range re.Rune {
		var variants []rune
		for f := r; ; {
			variants = append(variants, f)
			if f = unicode.SimpleFold(f); f == r {
				break
			}
		}
		if len(out)*len(variants) > maxLiterals {
			// Too many spellings of the whole: keep a prefix of it, which
			// every match also contains.
			if len([]rune(out[0])) >= 3 {
				return out
			}
			return nil
		}
		var next []string
		for _, s := range out {
			for _, v := range variants {
				next = append(next, s+string(v))
			}
		}
		out = next
	}
	return out
}

// score rates a literal set: longer shortest member, then fewer members.
func score(s []string) int {
	shortest := len(s[0])
	for _, x := range s[1:] {
		shortest = min(shortest, len(x))
	}
	return shortest*16 - len(s)
}

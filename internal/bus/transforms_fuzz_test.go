package bus

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/stewardhq/steward/internal/config"
)

// FuzzMapping: a bus.transforms entry of any from, to and template either
// is a config error at a position, or is one NATS takes: without a
// template, nats-server's own subject transform accepts the mapping and
// maps a subject from matches to a subject without wildcards; with one,
// the template runs over any payload without panicking.
func FuzzMapping(f *testing.F) {
	f.Add("orders.*", "shop.orders.$1", "", "")
	f.Add("orders.*.*", "x.{{wildcard(2)}}.{{ wildcard(1) }}", "", "")
	f.Add("in.>", "out.>", "", "")
	f.Add("a.*", "b.$2", "", "")                 // a wildcard from lacks
	f.Add("a.>", "b", "", "")                    // a > to drop
	f.Add("a.*", "b.{{partition(3,1)}}", "", "") // a function steward does not take
	f.Add("steward.x", "y", "", "")              // steward's subjects
	f.Add("a..b", "c", "", "")                   // an empty token
	f.Add("in.*", "out.$1", `{"n": {{json .n}}}`, `{"n": 1}`)
	f.Add("in.*", "out.$1", "{{.missing}}", `{"n": 1}`)
	f.Add("in.*", "out.$1", "{{range .}}{{.}}{{end}}", `[1, "a", null, {"x": true}]`)
	f.Add("in.*", "out.$1", "{{", "x")
	f.Fuzz(func(t *testing.T, from, to, tmpl, payload string) {
		q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		src := "bus:\n  streams: {s: {subjects: [\"zz.>\"]}}\n  transforms:\n    - {from: " + q(from) + ", to: " + q(to)
		if tmpl != "" {
			src += ", template: " + q(tmpl)
		}
		src += "}\n"
		c, err := config.Parse("steward.yaml", []byte(src), config.Registry{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "steward.yaml:") {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if len(c.Bus.Transforms) != 1 {
			t.Fatalf("%d transforms, want 1", len(c.Bus.Transforms))
		}
		tr := c.Bus.Transforms[0]
		if tr.Template != "" {
			tp, err := config.ParseTransformTemplate(tr.Template)
			if err != nil {
				t.Fatalf("Parse took template %q that does not parse: %v", tr.Template, err)
			}
			Transform(tp, []byte(payload))
			return
		}
		st, err := server.NewSubjectTransform(tr.From, tr.To)
		if err != nil {
			t.Fatalf("steward took mapping %q → %q, nats-server refuses it: %v", tr.From, tr.To, err)
		}
		// A subject that from matches: each * a token, > two.
		toks := strings.Split(tr.From, ".")
		for i, tok := range toks {
			switch tok {
			case "*":
				toks[i] = "w" + string(rune('a'+i%26))
			case ">":
				toks[i] = "r.s"
			}
		}
		subject := strings.Join(toks, ".")
		out, err := st.Match(subject)
		if err != nil {
			t.Fatalf("mapping %q → %q of %q: %v", tr.From, tr.To, subject, err)
		}
		if CheckSubject(out, false) != nil {
			t.Fatalf("mapping %q → %q made %q of %q: not a subject to publish on", tr.From, tr.To, out, subject)
		}
	})
}

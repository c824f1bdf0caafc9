package web

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
)

// steps builds workflow steps from "name:need,need" items.
func steps(items ...string) []steward.WorkflowStep {
	var out []steward.WorkflowStep
	for _, it := range items {
		name, needs, _ := strings.Cut(it, ":")
		s := steward.WorkflowStep{Name: name, Action: "command"}
		if needs != "" {
			s.Needs = strings.Split(needs, ",")
		}
		out = append(out, s)
	}
	return out
}

// placement returns "name@layer.row" for each node, in step order.
func placement(d dag) []string {
	var out []string
	for _, n := range d.Nodes {
		out = append(out, fmt.Sprintf("%s@%d.%d", n.Name, n.Layer, n.Row))
	}
	return out
}

func edges(d dag) []string {
	var out []string
	for _, e := range d.Edges {
		out = append(out, e.From+">"+e.To)
	}
	return out
}

func TestLayoutLayers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []steward.WorkflowStep
		place []string
		edges []string
	}{
		{"one step", steps("a"), []string{"a@0.0"}, nil},
		{"chain", steps("a", "b:a", "c:b"), []string{"a@0.0", "b@1.0", "c@2.0"}, []string{"a>b", "b>c"}},
		// The longest path decides: d needs a directly and through b, c.
		{"longest path", steps("a", "b:a", "c:b", "d:a,c"), []string{"a@0.0", "b@1.0", "c@2.0", "d@3.0"},
			[]string{"a>b", "b>c", "a>d", "c>d"}},
		{"diamond", steps("top", "left:top", "right:top", "bottom:left,right"),
			[]string{"top@0.0", "left@1.0", "right@1.1", "bottom@2.0"},
			[]string{"top>left", "top>right", "left>bottom", "right>bottom"}},
		// Declared out of order: layers follow needs, not the file.
		{"needs before", steps("load:parse", "parse"), []string{"load@1.0", "parse@0.0"}, []string{"parse>load"}},
		// Rows follow the rows of the needs: x's child above y's although
		// declared after it.
		{"rows follow needs", steps("x", "y", "y1:y", "x1:x"), []string{"x@0.0", "y@0.1", "y1@1.1", "x1@1.0"},
			[]string{"y>y1", "x>x1"}},
		{"two roots", steps("a", "b", "c:a,b"), []string{"a@0.0", "b@0.1", "c@1.0"}, []string{"a>c", "b>c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := layoutDAG(tc.steps, nil)
			if got := placement(d); !slices.Equal(got, tc.place) {
				t.Errorf("placement = %v, want %v", got, tc.place)
			}
			got, want := edges(d), slices.Clone(tc.edges)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("edges = %v, want %v", got, want)
			}
			for _, e := range d.Edges {
				if !strings.HasPrefix(e.Path, "M") || !strings.Contains(e.Path, " C") {
					t.Errorf("edge %s>%s path %q is not a curve", e.From, e.To, e.Path)
				}
			}
		})
	}
}

// TestLayoutGeometry: every edge goes from the right side of its need to
// the left side of its step, nodes do not overlap, and all fit the size.
func TestLayoutGeometry(t *testing.T) {
	d := layoutDAG(steps("top", "left:top", "right:top", "bottom:left,right"), nil)
	if d.W != 2*dagPad+3*dagNodeW+2*dagGapX || d.H != 2*dagPad+2*dagNodeH+dagGapY {
		t.Errorf("size %dx%d", d.W, d.H)
	}
	at := map[string]dagNode{}
	for _, n := range d.Nodes {
		at[n.Name] = n
		if n.X < 0 || n.Y < 0 || n.X+n.W > d.W || n.Y+n.H > d.H {
			t.Errorf("%s at %d,%d %dx%d is outside %dx%d", n.Name, n.X, n.Y, n.W, n.H, d.W, d.H)
		}
	}
	// A column with one node is centred on the column of two.
	if at["top"].Y != (at["left"].Y+at["right"].Y)/2 {
		t.Errorf("top at y %d, want halfway between %d and %d", at["top"].Y, at["left"].Y, at["right"].Y)
	}
	if at["left"].Y+dagNodeH+dagGapY != at["right"].Y {
		t.Errorf("left at y %d, right at %d: want one row apart", at["left"].Y, at["right"].Y)
	}
	for _, e := range d.Edges {
		from, to := at[e.From], at[e.To]
		want := fmt.Sprintf("M%d,%d ", from.X+dagNodeW, from.Y+dagNodeH/2)
		end := fmt.Sprintf(" %d,%d", to.X-2, to.Y+dagNodeH/2)
		if !strings.HasPrefix(e.Path, want) || !strings.HasSuffix(e.Path, end) {
			t.Errorf("edge %s>%s = %q, want from %q to %q", e.From, e.To, e.Path, want, end)
		}
	}
}

func TestLayoutWideFanOut(t *testing.T) {
	items, names := []string{"src"}, []string{}
	for i := range 40 {
		names = append(names, fmt.Sprintf("s%02d", i))
		items = append(items, names[i]+":src")
	}
	items = append(items, "sink:"+strings.Join(names, ","))
	d := layoutDAG(steps(items...), nil)
	if len(d.Nodes) != 42 || len(d.Edges) != 80 {
		t.Fatalf("%d nodes, %d edges; want 42, 80", len(d.Nodes), len(d.Edges))
	}
	rows := map[int]bool{}
	for _, n := range d.Nodes[1:41] {
		if n.Layer != 1 {
			t.Errorf("%s in layer %d, want 1", n.Name, n.Layer)
		}
		rows[n.Row] = true
	}
	if len(rows) != 40 {
		t.Errorf("the fan-out takes %d rows, want 40", len(rows))
	}
	if src, sink := d.Nodes[0], d.Nodes[41]; src.Layer != 0 || sink.Layer != 2 || src.Y != sink.Y {
		t.Errorf("src %+v, sink %+v: want layers 0 and 2, centred alike", src, sink)
	}
	if want := 2*dagPad + 40*dagNodeH + 39*dagGapY; d.H != want {
		t.Errorf("height %d, want %d", d.H, want)
	}
}

// TestLayoutBadInput: config refuses cycles, unknown needs and duplicate
// names, but the drawing must still end and show every step.
func TestLayoutBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []steward.WorkflowStep
		place []string
		edges int
	}{
		{"cycle", steps("a:c", "b:a", "c:b"), []string{"a@0.0", "b@0.1", "c@0.2"}, 3},
		{"cycle after a root", steps("r", "a:r,b", "b:a"), []string{"r@0.0", "a@1.0", "b@1.1"}, 3},
		{"self need", steps("a:a", "b:a"), []string{"a@0.0", "b@1.0"}, 1},
		{"unknown need", steps("a:nope", "b:a,a"), []string{"a@0.0", "b@1.0"}, 1},
		{"duplicate name", steps("a", "a:a", "b:a"), []string{"a@0.0", "a@0.1", "b@1.0"}, 1},
		{"empty", nil, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := layoutDAG(tc.steps, nil)
			if got := placement(d); !slices.Equal(got, tc.place) {
				t.Errorf("placement = %v, want %v", got, tc.place)
			}
			if len(d.Edges) != tc.edges {
				t.Errorf("edges = %v, want %d", edges(d), tc.edges)
			}
		})
	}
	// A cycle's edges go back over the top of the nodes.
	d := layoutDAG(steps("a:b", "b:a"), nil)
	for _, e := range d.Edges {
		if !strings.Contains(e.Path, ",-") && !strings.Contains(e.Path, ","+fmt.Sprint(dagPad-dagGapY)) {
			t.Errorf("cycle edge %s>%s = %q: want it over the top", e.From, e.To, e.Path)
		}
	}
}

func TestLayoutStates(t *testing.T) {
	st := steps("a", "b:a", "c:b")
	st[2].If = `steps.b.status == "failed"`
	d := layoutDAG(st, map[string]steward.StepRun{
		"a": {Name: "a", Status: steward.RunSucceeded, Attempt: 1},
		"b": {Name: "b", Status: steward.RunRunning, Attempt: 2},
		"c": {Name: "c", Status: steward.RunFailed, Error: "exit status 3"},
	})
	for i, want := range []struct{ state, detail, title string }{
		{"succeeded", "succeeded", "a: command: succeeded"},
		{"running", "running · attempt 2", "b: command: running"},
		{"failed", "failed", `c: command, if steps.b.status == "failed": failed: exit status 3`},
	} {
		n := d.Nodes[i]
		if n.State() != want.state || n.Detail != want.detail || n.Title != want.title {
			t.Errorf("node %s: state %q detail %q title %q, want %q %q %q", n.Name, n.State(), n.Detail, n.Title, want.state, want.detail, want.title)
		}
	}
	if d.Edges[0].Status != "succeeded" || d.Edges[1].Status != "running" {
		t.Errorf("edges %+v: want the states of their needs", d.Edges)
	}
	if idle := layoutDAG(steps("a"), nil).Nodes[0]; idle.State() != "idle" || idle.Detail != "command" {
		t.Errorf("without a run: state %q detail %q, want idle, command", idle.State(), idle.Detail)
	}
}

func TestClip(t *testing.T) {
	for in, want := range map[string]string{
		"short":                     "short",
		"exactly-twenty-chars":      "exactly-twenty-chars",
		"a-name-longer-than-twenty": "a-name-longer-than-…",
		"ünïcödé-ünïcödé-ünïcödé":   "ünïcödé-ünïcödé-ünï…",
	} {
		if got := clip(in, dagNameMax); got != want {
			t.Errorf("clip(%q) = %q, want %q", in, got, want)
		}
	}
}

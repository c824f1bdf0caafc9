package web

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/stewardhq/steward"
)

// The geometry of a drawn workflow, in SVG user units.
const (
	dagNodeW = 168
	dagNodeH = 46
	dagGapX  = 56
	dagGapY  = 18
	dagPad   = 8
	// dagNameMax is the most characters of a step's name a node shows; its
	// title has the whole name.
	dagNameMax = 20
)

// dag is a workflow's steps drawn as a graph: one node per step, an edge
// per need, laid out in layers from left to right.
type dag struct {
	Nodes []dagNode
	Edges []dagEdge
	W, H  int // the size of the drawing
}

// dagNode is a step in its layer (column) and row. Status is the step's
// in a run, "" when the graph shows a definition; Detail is its second
// line: the status, or the step's action.
type dagNode struct {
	Name, Label string
	Status      steward.RunStatus
	Detail      string
	Title       string
	Layer, Row  int
	X, Y, W, H  int
}

// State is the node's state class: its status, or "idle" without a run.
func (n dagNode) State() string {
	if n.Status == "" {
		return "idle"
	}
	return string(n.Status)
}

// TextX and TextY place the node's text.
func (n dagNode) TextX() int   { return n.X + 24 }
func (n dagNode) TextY() int   { return n.Y + 19 }
func (n dagNode) DetailY() int { return n.Y + 35 }

// DotX and DotY place its state dot.
func (n dagNode) DotX() int { return n.X + 13 }
func (n dagNode) DotY() int { return n.Y + 15 }

// dagEdge is a need: From must end before To runs. Path is its SVG path;
// Status is From's, so an edge a run has gone along looks it.
type dagEdge struct {
	From, To string
	Status   string
	Path     string
}

// layoutDAG lays steps out: a step's layer is the longest path of needs
// from a step that needs nothing, so every edge points right; in a layer,
// steps are ordered by the mean row of the steps they need (file order
// breaks ties), which keeps most edges from crossing. runs, when not nil,
// holds each step's state in a run. Needs of unknown steps are dropped,
// and steps on a cycle (which config refuses) go in the layer after their
// other needs, so bad input still gives a drawing.
func layoutDAG(steps []steward.WorkflowStep, runs map[string]steward.StepRun) dag {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i
		}
	}
	needs := make([][]int, len(steps))
	for i, s := range steps {
		for _, n := range s.Needs {
			if j, ok := index[n]; ok && j != i && index[s.Name] == i && !slices.Contains(needs[i], j) {
				needs[i] = append(needs[i], j)
			}
		}
	}
	layer := layers(needs)

	// Rows: layer by layer, by the mean row of the needs.
	cols := 0
	for _, l := range layer {
		cols = max(cols, l+1)
	}
	byLayer := make([][]int, cols)
	for i, l := range layer {
		byLayer[l] = append(byLayer[l], i)
	}
	row := make([]int, len(steps))
	rank := make([]float64, len(steps))
	rows := 0
	for _, col := range byLayer {
		for _, i := range col {
			rank[i] = float64(i) / float64(len(steps)+1) // file order, below any row's weight
			if len(needs[i]) > 0 {
				sum := 0
				for _, j := range needs[i] {
					sum += row[j]
				}
				rank[i] += float64(sum) / float64(len(needs[i]))
			}
		}
		slices.SortStableFunc(col, func(a, b int) int { return cmp.Compare(rank[a], rank[b]) })
		for r, i := range col {
			row[i] = r
		}
		rows = max(rows, len(col))
	}

	d := dag{W: 2*dagPad + cols*dagNodeW + max(cols-1, 0)*dagGapX, H: 2*dagPad + rows*dagNodeH + max(rows-1, 0)*dagGapY}
	nodes := make([]dagNode, len(steps))
	for l, col := range byLayer {
		// Each column is centred on the tallest one.
		off := (rows - len(col)) * (dagNodeH + dagGapY) / 2
		for r, i := range col {
			s := steps[i]
			n := dagNode{Name: s.Name, Label: clip(s.Name, dagNameMax), Detail: s.Action, Layer: l, Row: r,
				X: dagPad + l*(dagNodeW+dagGapX), Y: dagPad + off + r*(dagNodeH+dagGapY), W: dagNodeW, H: dagNodeH}
			n.Title = s.Name + ": " + s.Action
			if s.If != "" {
				n.Title += ", if " + s.If
			}
			if st, ok := runs[s.Name]; ok {
				n.Status, n.Detail = st.Status, string(st.Status)
				if st.Attempt > 1 {
					n.Detail += " · attempt " + strconv.Itoa(st.Attempt)
				}
				n.Title += ": " + string(st.Status)
				if st.Error != "" {
					n.Title += ": " + st.Error
				}
			}
			nodes[i] = n
		}
	}
	d.Nodes = nodes
	for i := range steps {
		for _, j := range needs[i] {
			from, to := nodes[j], nodes[i]
			d.Edges = append(d.Edges, dagEdge{From: from.Name, To: to.Name, Status: from.State(), Path: edgePath(from, to)})
		}
	}
	return d
}

// layers returns each node's layer: the longest path of needs from a node
// without any. Kahn's order visits each node once; the nodes it never
// reaches are on a cycle, and go one layer after the needs it placed.
func layers(needs [][]int) []int {
	layer := make([]int, len(needs))
	waiting := make([]int, len(needs)) // needs not placed yet
	next := make([][]int, len(needs))  // who needs each node
	var ready []int
	for i, ns := range needs {
		waiting[i] = len(ns)
		for _, j := range ns {
			next[j] = append(next[j], i)
		}
		if len(ns) == 0 {
			ready = append(ready, i)
		}
	}
	placed := make([]bool, len(needs))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		placed[i] = true
		for _, k := range next[i] {
			layer[k] = max(layer[k], layer[i]+1)
			if waiting[k]--; waiting[k] == 0 {
				ready = append(ready, k)
			}
		}
	}
	top := -1
	for i, p := range placed {
		if p {
			top = max(top, layer[i])
		}
	}
	for i, p := range placed {
		if !p {
			layer[i] = top + 1
		}
	}
	return layer
}

// edgePath is a curve from the right side of from to the left side of to;
// an edge that goes back (a cycle) leaves and enters from the top.
func edgePath(from, to dagNode) string {
	x1, y1 := from.X+dagNodeW, from.Y+dagNodeH/2
	x2, y2 := to.X, to.Y+dagNodeH/2
	if to.Layer <= from.Layer {
		x1, y1 = from.X+dagNodeW/2, from.Y
		x2, y2 = to.X+dagNodeW/2, to.Y
		top := min(y1, y2) - dagGapY
		return "M" + pt(x1, y1) + " C" + pt(x1, top) + " " + pt(x2, top) + " " + pt(x2, y2)
	}
	mid := (x1 + x2) / 2
	return "M" + pt(x1, y1) + " C" + pt(mid, y1) + " " + pt(mid, y2) + " " + pt(x2-2, y2)
}

func pt(x, y int) string { return strconv.Itoa(x) + "," + strconv.Itoa(y) }

// clip shortens s to at most n characters, with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

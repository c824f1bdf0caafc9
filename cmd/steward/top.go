package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/metrics"
)

const (
	topEvery    = 2 * time.Second  // default refresh of the services
	topStep     = 10 * time.Second // one bar of a memory sparkline
	topSamples  = 30               // bars of a memory sparkline
	topLogLines = 500              // lines the log pane keeps
	topBatch    = 256              // stream items handed to the model at once
	// topFPS caps the redraws per second. bubbletea's renderer wakes up
	// this often even when nothing changed: at its default of 60 that is
	// most of what an idle steward top costs (bench/README.md).
	topFPS = 10
)

// topAPI is what steward top uses of the API; *client.Client is one.
type topAPI interface {
	Services(ctx context.Context) ([]steward.ServiceStatus, error)
	Start(ctx context.Context, names ...string) ([]steward.ServiceStatus, error)
	Stop(ctx context.Context, names ...string) ([]steward.ServiceStatus, error)
	Restart(ctx context.Context, names ...string) ([]steward.ServiceStatus, error)
	QueryMetrics(ctx context.Context, q steward.MetricQuery) ([]steward.MetricSeries, error)
	FollowEvents(ctx context.Context, q steward.EventQuery, fn func(steward.Event) error) error
	FollowLogs(ctx context.Context, name string, n int, follow bool, fn func(steward.LogLine) error) error
}

var _ topAPI = (*client.Client)(nil)

func newTopCmd(g *globals) *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "top [--every D]",
		Short: "Watch the services live: state, CPU, memory, restarts and output; start, stop and restart them",
		Long: "A live view of the services, sorted by name: state, pid, uptime, CPU, memory (RSS) with a\n" +
			"sparkline of the last 5 minutes from the metrics history (a bar per 10s), restarts. It\n" +
			"refreshes when an event arrives and every --every, and costs next to nothing meanwhile.\n" +
			"Keys: up/down or j/k select; l or enter shows the selected service's output; s start,\n" +
			"x stop, r restart it; / filters by name (enter keeps the filter, esc clears it); ? help;\n" +
			"q or ctrl-c quits.",
		Args: noArgs,
		RunE: runClient(g, func(ctx context.Context, cc *clientCmd, _ []string) error {
			switch {
			case cc.json:
				return usageError{errors.New("top: -o json is not supported; use ps -o json")}
			case every < 100*time.Millisecond:
				return usageError{fmt.Errorf("--every %v: want at least 100ms", every)}
			case !terminal(cc.stdout):
				return errors.New("top needs a terminal; steward ps prints the services once")
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			m := newTopModel(ctx, cc.c, cc.c.Address(), every, time.Now)
			// SIGINT and SIGTERM end ctx (runClient), which quits the
			// program as q does. Not bubbletea's own handler of them (it
			// raced that cancel and could hang its shutdown), nor
			// tea.WithContext (its shutdown when killed closes the input
			// while the read loop still uses it).
			p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithoutSignalHandler(),
				tea.WithInput(cc.stdin), tea.WithOutput(cc.stdout), tea.WithFPS(topFPS))
			go func() {
				<-ctx.Done()
				p.Quit() // returns at once when the program has ended
			}()
			_, err := p.Run()
			return err
		}),
	}
	cmd.Flags().DurationVar(&every, "every", topEvery, "how often to refresh CPU and memory")
	return cmd
}

// topModel is the state of steward top: the bubbletea model. Its methods
// run on bubbletea's goroutine only; the API calls run in commands.
type topModel struct {
	ctx   context.Context // ends every stream and call
	api   topAPI
	addr  string
	every time.Duration
	now   func() time.Time

	width, height int
	list          []steward.ServiceStatus // sorted by name
	history       map[string][]uint64     // RSS of each service, a value per topStep, oldest first; 0 for none
	listErr       error                   // of the last refresh
	historyErr    error                   // of the last read of the history
	selected      string                  // the selected service's name
	filter        string
	filtering     bool // typing the filter
	help          bool
	status        string // the last action's outcome, or a stream's error

	fetching bool // a refresh is under way
	again    bool // refresh again when it ends

	eventsGen int
	eventsUp  bool

	logOn   bool // the pane is open
	logName string
	logGen  int
	logUp   bool
	logStop context.CancelFunc
	logs    []steward.LogLine
}

func newTopModel(ctx context.Context, api topAPI, addr string, every time.Duration, now func() time.Time) *topModel {
	return &topModel{ctx: ctx, api: api, addr: addr, every: every, now: now, history: map[string][]uint64{}}
}

// The messages of the commands topModel starts.
type (
	topTick        struct{}
	topHistoryTick struct{}
	topServices    struct {
		list []steward.ServiceStatus
		err  error
	}
	topHistory struct {
		history map[string][]uint64
		err     error
	}
	topAction struct {
		verb, name string
		list       []steward.ServiceStatus
		err        error
	}
	// topStream is a batch of a stream's items, or its end (done, with the
	// error it ended with, nil when steward ended it); gen tells one stream
	// from the one that replaced it.
	topStream[T any] struct {
		gen   int
		items []T
		done  bool
		err   error
		next  tea.Cmd
	}
)

func (m *topModel) Init() tea.Cmd {
	m.fetching = true
	return tea.Batch(m.fetch(), m.tick(), m.fetchHistory(), m.historyTick(), m.follow())
}

func (m *topModel) tick() tea.Cmd {
	return tea.Tick(m.every, func(time.Time) tea.Msg { return topTick{} })
}

func (m *topModel) historyTick() tea.Cmd {
	return tea.Tick(topStep, func(time.Time) tea.Msg { return topHistoryTick{} })
}

// fetch reads the services.
func (m *topModel) fetch() tea.Cmd {
	return func() tea.Msg {
		list, err := m.api.Services(m.ctx)
		return topServices{list: list, err: err}
	}
}

// refresh fetches the services, or once more after the fetch under way.
func (m *topModel) refresh() tea.Cmd {
	if m.fetching {
		m.again = true
		return nil
	}
	m.fetching, m.again = true, false
	return m.fetch()
}

// fetchHistory reads the memory of every service over the last topSamples
// steps from the metrics history.
func (m *topModel) fetchHistory() tea.Cmd {
	to := m.now().Truncate(topStep).Add(topStep)
	from := to.Add(-topSamples * topStep)
	return func() tea.Msg {
		series, err := m.api.QueryMetrics(m.ctx, steward.MetricQuery{Name: metrics.ServiceRSS, From: from, To: to, Step: topStep})
		if err != nil {
			return topHistory{err: err}
		}
		h := map[string][]uint64{}
		for _, se := range series {
			name := se.Labels["service"]
			if name == "" {
				continue
			}
			values := make([]uint64, topSamples)
			for _, p := range se.Points {
				if i := (int64(p[0]) - from.UnixMilli()) / topStep.Milliseconds(); i >= 0 && i < topSamples {
					values[i] = uint64(p[1])
				}
			}
			h[name] = values
		}
		return topHistory{history: h}
	}
}

// follow starts following the events recorded from now on: each batch of
// them refreshes the services.
func (m *topModel) follow() tea.Cmd {
	m.eventsGen++
	m.eventsUp = true
	since := m.now()
	return stream(m.ctx, m.eventsGen, func(ctx context.Context, fn func(steward.Event) error) error {
		return m.api.FollowEvents(ctx, steward.EventQuery{Since: since}, fn)
	})
}

// followLogs shows the output of the selected service in the log pane,
// from its last lines (from new ones only when again is set).
func (m *topModel) followLogs(again bool) tea.Cmd {
	m.stopLogs()
	if !again || m.logName != m.selected {
		m.logs = nil
	}
	m.logName = m.selected
	if m.logName == "" {
		return nil
	}
	n := topLogLines
	if again {
		n = 0
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.logUp, m.logStop = true, cancel
	name := m.logName
	return stream(ctx, m.logGen, func(ctx context.Context, fn func(steward.LogLine) error) error {
		return m.api.FollowLogs(ctx, name, n, true, fn)
	})
}

// stopLogs ends the log stream; what it still sends is dropped.
func (m *topModel) stopLogs() {
	if m.logStop != nil {
		m.logStop()
		m.logStop = nil
	}
	m.logGen++
	m.logUp = false
}

// stream runs follow in a goroutine until ctx ends, and returns the command
// that hands its items to the model in batches.
func stream[T any](ctx context.Context, gen int, follow func(context.Context, func(T) error) error) tea.Cmd {
	items := make(chan T, topBatch)
	end := make(chan error, 1)
	go func() {
		end <- follow(ctx, func(v T) error {
			select {
			case items <- v:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return readStream(gen, items, end)
}

func readStream[T any](gen int, items <-chan T, end <-chan error) tea.Cmd {
	return func() tea.Msg {
		msg := topStream[T]{gen: gen}
		select {
		case v := <-items:
			msg.items = append(msg.items, v)
		case msg.err = <-end:
			msg.done = true // follow has returned: every item is in the channel
		}
	drain:
		for len(msg.items) < topBatch {
			select {
			case v := <-items:
				msg.items = append(msg.items, v)
			default:
				break drain
			}
		}
		if !msg.done {
			msg.next = readStream(gen, items, end)
		}
		return msg
	}
}

func (m *topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyMsg:
		return m, m.key(msg)
	case topTick:
		cmds := []tea.Cmd{m.tick(), m.refresh()}
		if !m.eventsUp {
			cmds = append(cmds, m.follow())
		}
		if m.logOn && !m.logUp {
			cmds = append(cmds, m.followLogs(true))
		}
		return m, tea.Batch(cmds...)
	case topHistoryTick:
		return m, tea.Batch(m.historyTick(), m.fetchHistory())
	case topHistory:
		m.historyErr = msg.err
		if msg.err == nil {
			m.history = msg.history
		}
	case topServices:
		m.fetching = false
		m.services(msg)
		if m.again {
			return m, m.refresh()
		}
	case topAction:
		m.status = actionText(msg)
		return m, m.refresh()
	case topStream[steward.Event]:
		if msg.gen != m.eventsGen {
			return m, nil
		}
		if msg.done {
			m.eventsUp = false
			m.status = streamText("events", msg.err)
		}
		return m, tea.Batch(msg.next, m.refresh())
	case topStream[steward.LogLine]:
		if msg.gen != m.logGen {
			return m, nil
		}
		m.logs = append(m.logs, msg.items...)
		m.logs = m.logs[max(0, len(m.logs)-topLogLines):]
		if msg.done {
			m.logUp = false
			m.status = streamText("output of "+m.logName, msg.err)
		}
		return m, msg.next
	}
	return m, nil
}

// services takes a refreshed list.
func (m *topModel) services(msg topServices) {
	m.listErr = msg.err
	if msg.err != nil {
		return
	}
	m.list = slices.SortedFunc(slices.Values(msg.list), func(a, b steward.ServiceStatus) int { return cmp.Compare(a.Name, b.Name) })
	m.keepSelection()
}

// visible returns the services the filter shows.
func (m *topModel) visible() []steward.ServiceStatus {
	if m.filter == "" {
		return m.list
	}
	var out []steward.ServiceStatus
	for _, s := range m.list {
		if strings.Contains(s.Name, m.filter) {
			out = append(out, s)
		}
	}
	return out
}

// keepSelection selects the first visible service when the selected one is
// not visible, and returns the index of the selection.
func (m *topModel) keepSelection() int {
	vis := m.visible()
	i := slices.IndexFunc(vis, func(s steward.ServiceStatus) bool { return s.Name == m.selected })
	if i < 0 {
		m.selected = ""
		if len(vis) > 0 {
			i, m.selected = 0, vis[0].Name
		}
	}
	return i
}

// key acts on a key press.
func (m *topModel) key(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
		// Keys typed faster than they are read come as one message.
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	if k.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	if m.filtering {
		switch k.Type {
		case tea.KeyEnter:
			m.filtering = false
		case tea.KeyEsc:
			m.filtering, m.filter = false, ""
		case tea.KeyBackspace:
			r := []rune(m.filter)
			m.filter = string(r[:max(0, len(r)-1)])
		case tea.KeyRunes:
			m.filter += string(k.Runes)
		case tea.KeySpace:
			m.filter += " "
		case tea.KeyUp, tea.KeyDown:
			return m.move(k.Type == tea.KeyDown)
		}
		return m.selectionMoved(m.keepSelection)
	}
	switch k.String() {
	case "q":
		return tea.Quit
	case "?":
		m.help = !m.help
	case "esc":
		m.help, m.filter = false, ""
		return m.selectionMoved(m.keepSelection)
	case "/":
		m.filtering = true
	case "up", "k":
		return m.move(false)
	case "down", "j":
		return m.move(true)
	case "l", "enter":
		m.logOn = !m.logOn
		if !m.logOn {
			m.stopLogs()
			return nil
		}
		return m.followLogs(false)
	case "s":
		return m.action("start", m.api.Start)
	case "x":
		return m.action("stop", m.api.Stop)
	case "r":
		return m.action("restart", m.api.Restart)
	}
	return nil
}

// move selects the next (or previous) visible service.
func (m *topModel) move(down bool) tea.Cmd {
	return m.selectionMoved(func() int {
		vis := m.visible()
		i := m.keepSelection()
		if i < 0 {
			return i
		}
		if down {
			i = min(i+1, len(vis)-1)
		} else {
			i = max(i-1, 0)
		}
		m.selected = vis[i].Name
		return i
	})
}

// selectionMoved calls change and, when the selection is another service
// with the log pane open, follows that one's output.
func (m *topModel) selectionMoved(change func() int) tea.Cmd {
	before := m.selected
	change()
	if m.logOn && m.selected != before {
		return m.followLogs(false)
	}
	return nil
}

// action calls do on the selected service.
func (m *topModel) action(verb string, do func(context.Context, ...string) ([]steward.ServiceStatus, error)) tea.Cmd {
	name := m.selected
	if name == "" {
		m.status = verb + ": no service selected"
		return nil
	}
	m.status = verb + " " + name + "…"
	return func() tea.Msg {
		list, err := do(m.ctx, name)
		return topAction{verb: verb, name: name, list: list, err: err}
	}
}

// actionText is the status line after an action.
func actionText(a topAction) string {
	if a.err != nil {
		if e := steward.Coded(a.err); e != nil && e.Code == steward.EFORBIDDEN {
			return fmt.Sprintf("%s %s: refused (403 forbidden): %s", a.verb, a.name, e.Message)
		}
		return fmt.Sprintf("%s %s: %v", a.verb, a.name, a.err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: done", a.verb, a.name)
	for _, s := range a.list {
		fmt.Fprintf(&b, "; %s %s", s.Name, s.State)
		if s.PID > 0 {
			fmt.Fprintf(&b, " (pid %d)", s.PID)
		}
	}
	return b.String()
}

// streamText is the status line after a stream ended.
func streamText(what string, err error) string {
	if err == nil {
		return what + ": steward ended the stream; following again soon"
	}
	return fmt.Sprintf("%s: %v; following again soon", what, err)
}

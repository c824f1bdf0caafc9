package config

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the history of runs.
const (
	DefaultRunKeep   = 1000
	DefaultRunMaxAge = 90 * 24 * time.Hour
)

// Runs is the runs: section: how much history of runs is kept. Of each
// job and workflow, the newest Keep runs that ended are kept, and of those
// the ones that ended within MaxAge, but always its newest run.
type Runs struct {
	Keep   int           `json:"keep"`
	MaxAge time.Duration `json:"max_age"`
}

func defaultRuns() Runs { return Runs{Keep: DefaultRunKeep, MaxAge: DefaultRunMaxAge} }

func (p *parser) runs(n *yaml.Node, r *Runs) {
	for _, f := range p.fields(n, "runs", "keep", "max_age") {
		switch f.key.Value {
		case "keep":
			if k, ok := p.count(f.val, "runs.keep"); ok {
				if k < 1 {
					p.errorf(f.val, "runs.keep must be at least 1: each job's newest run is kept")
				} else {
					r.Keep = k
				}
			}
		case "max_age":
			if d, ok := p.positive(f.val, "runs.max_age"); ok {
				r.MaxAge = d
			}
		}
	}
}

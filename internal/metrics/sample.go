// Package metrics provides steward's measurements: sampling of the machine
// (CPU, memory, swap, load, filesystems, disk and network I/O, through
// gopsutil) and of each service's whole process tree, the metrics history
// in the store with retention and downsampling, custom metrics pushed over
// the API or printed by collector commands, and the Prometheus exposition
// of it all. The daemon wiring, the sysmon kind and the api package's
// handlers import it.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward"
)

// Names of the series steward records itself.
const (
	SystemCPU         = "system_cpu_percent"
	SystemMemUsed     = "system_memory_used_bytes"
	SystemMemPercent  = "system_memory_used_percent"
	SystemSwapUsed    = "system_swap_used_bytes"
	SystemSwapPercent = "system_swap_used_percent"
	SystemLoad1       = "system_load1"
	SystemLoad5       = "system_load5"
	SystemLoad15      = "system_load15"
	SystemDiskUsed    = "system_filesystem_used_bytes"   // label mount
	SystemDiskPercent = "system_filesystem_used_percent" // label mount
	SystemDiskRead    = "system_disk_read_bytes_per_second"
	SystemDiskWrite   = "system_disk_write_bytes_per_second"
	SystemNetRecv     = "system_network_receive_bytes_per_second"
	SystemNetSent     = "system_network_transmit_bytes_per_second"

	ServiceCPU = "service_cpu_percent" // label service; 100 is one core
	ServiceRSS = "service_rss_bytes"
)

// Sample is one measured value of a metric at a time.
type Sample struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Time   time.Time         `json:"time,omitzero"` // zero: when it is recorded
}

// maxLabels bounds the labels of one sample, and maxName the length of a
// name, a label key or a label value.
const (
	maxLabels = 16
	maxName   = 200
)

// Validate checks that s can be stored: a name and label keys like
// Prometheus's ([a-zA-Z_:][a-zA-Z0-9_:]*, keys without ':'), a finite value.
func (s Sample) Validate() error {
	if err := checkName(s.Name, true); err != nil {
		return steward.Errorf(steward.EINVALID, "metric name %q: %v", s.Name, err)
	}
	if len(s.Labels) > maxLabels {
		return steward.Errorf(steward.EINVALID, "metric %s: more than %d labels", s.Name, maxLabels)
	}
	for k, v := range s.Labels {
		if err := checkName(k, false); err != nil {
			return steward.Errorf(steward.EINVALID, "metric %s: label %q: %v", s.Name, k, err)
		}
		if len(v) > maxName || strings.ContainsRune(v, 0) {
			return steward.Errorf(steward.EINVALID, "metric %s: label %s: value too long or holds a NUL byte", s.Name, k)
		}
	}
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return steward.Errorf(steward.EINVALID, "metric %s: value must be a finite number", s.Name)
	}
	return nil
}

func checkName(s string, colon bool) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > maxName {
		return fmt.Errorf("longer than %d bytes", maxName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || (i > 0 && '0' <= c && c <= '9') || (colon && c == ':')
		if !ok {
			return fmt.Errorf("character %q at %d: want letters, digits (not first) and '_'", c, i)
		}
	}
	return nil
}

// ParseLine parses one line a collector command prints:
//
//	name value [key=value ...]
//
// separated by blanks; a blank line or one starting with '#' yields ok
// false and no error. The labels of the result are added to extra.
func ParseLine(line string, extra map[string]string) (s Sample, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
		return Sample{}, false, nil
	}
	if len(fields) < 2 {
		return Sample{}, false, fmt.Errorf("want \"name value [key=value ...]\", got %q", line)
	}
	v, err := strconv.ParseFloat(fields[1], 64)
	if err != nil {
		return Sample{}, false, fmt.Errorf("metric %s: value %q is not a number", fields[0], fields[1])
	}
	s = Sample{Name: fields[0], Value: v}
	for _, kv := range fields[2:] {
		k, val, found := strings.Cut(kv, "=")
		if !found {
			return Sample{}, false, fmt.Errorf("metric %s: label %q is not key=value", s.Name, kv)
		}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		if _, dup := s.Labels[k]; dup {
			return Sample{}, false, fmt.Errorf("metric %s: label %s given twice", s.Name, k)
		}
		s.Labels[k] = val
	}
	for k, v := range extra {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		if _, set := s.Labels[k]; !set {
			s.Labels[k] = v
		}
	}
	if err := s.Validate(); err != nil {
		return Sample{}, false, err
	}
	return s, true, nil
}

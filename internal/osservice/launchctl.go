package osservice

import (
	"fmt"
	"strconv"
	"strings"
)

// parseLaunchctlList parses the output of `launchctl list`: a header, then
// one job a line, "PID<TAB>STATUS<TAB>LABEL", with "-" for a job that does
// not run. STATUS is the last exit status, negative for a signal.
func parseLaunchctlList(out string) ([]Service, error) {
	var list []Service
	for i, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" || (i == 0 && strings.HasPrefix(line, "PID")) {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("launchctl list: line %d: %q is not PID, status and label", i+1, line)
		}
		s := Service{Name: f[2], State: StateStopped}
		if f[0] != "-" {
			pid, err := strconv.Atoi(f[0])
			if err != nil {
				return nil, fmt.Errorf("launchctl list: line %d: pid %q: %w", i+1, f[0], err)
			}
			s.PID, s.State = pid, StateRunning
		}
		if f[1] != "-" && f[1] != "0" {
			status, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("launchctl list: line %d: status %q: %w", i+1, f[1], err)
			}
			if status < 0 {
				s.Detail = fmt.Sprintf("last exit: signal %d", -status)
			} else {
				s.Detail = fmt.Sprintf("last exit status %d", status)
			}
			if s.State == StateStopped {
				s.State = StateFailed
			}
		}
		list = append(list, s)
	}
	return list, nil
}

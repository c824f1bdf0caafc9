//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
)

// endMark starts the last line the generator (peerhelper gen) writes,
// followed by its start stamp.
const endMark = "END-OF-LOAD"

// lineLen is the length of the generator's lines, newline included.
const lineLen = 100

// readStamps parses a stamps file into its kinds and times, in file order.
func readStamps(file string) (kinds []string, times []int64, err error) {
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // a line cut by a kill mid-write
		}
		kinds = append(kinds, k)
		times = append(times, ns)
	}
	return kinds, times, nil
}

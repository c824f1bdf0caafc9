package bus

import (
	"maps"
	"slices"
)

// WorkbookSubjects is the prefix of the command subjects of the workbook
// service named service on node: steward.NODE.workbook.SERVICE, followed
// by a command's name.
func WorkbookSubjects(node, service string) string {
	return "steward." + Token(node) + ".workbook." + Token(service)
}

// callerDeny is what replaces steward.> in the publish denials of a service
// that the workbooks (each workbook service of node with its callers) let
// call some of them. NATS denials override its allowances, so steward.>
// cannot stay with an exception: every steward subject of another length
// than a command's (5 tokens) is denied, and of those of 5 tokens the events
// and the commands of the workbook services that do not list the service.
// The config refuses callers with bus.cluster, whose other nodes' workbook
// services no node knows.
func callerDeny(node, service string, workbooks map[string][]string) []string {
	deny := []string{"steward.*", "steward.*.*", "steward.*.*.*", "steward.*.*.*.*.>", "steward.*.event.>"}
	for _, wb := range slices.Sorted(maps.Keys(workbooks)) {
		if !slices.Contains(workbooks[wb], service) {
			deny = append(deny, WorkbookSubjects(node, wb)+".*")
		}
	}
	return deny
}

// calls reports whether service is a caller of one of the workbooks.
func calls(service string, workbooks map[string][]string) bool {
	for _, callers := range workbooks {
		if slices.Contains(callers, service) {
			return true
		}
	}
	return false
}

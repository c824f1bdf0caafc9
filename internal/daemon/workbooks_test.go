package daemon

import (
	"testing"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/kinds"
	"github.com/stewardhq/steward/internal/kinds/workbook"
)

var _ api.Workbooks = (*workbook.Kind)(nil)

// TestWorkbooksReachTheAPI: the runtime the workbook kind makes is the one
// the daemon hands to the API as its Workbooks, and to the bus.
func TestWorkbooksReachTheAPI(t *testing.T) {
	rt, err := workbook.Definition().New(kinds.Host{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rt.(api.Workbooks); !ok {
		t.Fatalf("the workbook runtime %T is no api.Workbooks", rt)
	}
	if _, ok := rt.(busServer); !ok {
		t.Fatalf("the workbook runtime %T takes no commands over the bus", rt)
	}
}

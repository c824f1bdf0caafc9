package steward

import "time"

// WorkbookSession is an open session of a workbook service: one workbook
// being edited in memory.
type WorkbookSession struct {
	ID       string    `json:"id"` // SERVICE.HEX: names its service
	Service  string    `json:"service"`
	Template string    `json:"template,omitempty"` // the file under dir it was created from
	File     string    `json:"file,omitempty"`     // the file a save writes, under dir
	Sheets   []string  `json:"sheets"`
	Cells    int       `json:"cells"` // cells written, against the session's limit
	Created  time.Time `json:"created"`
	Used     time.Time `json:"used"`
	Expires  time.Time `json:"expires"` // when it closes unless used
}

// WorkbookCreateRequest is the body of POST /v1/workbooks/{service}/sessions:
// a blank workbook, or one read from a template file under the service's
// dir.
type WorkbookCreateRequest struct {
	Template string `json:"template,omitempty"`
}

// WorkbookWriteRequest is the body of a write: Data, rows of equal length,
// written at Cell (default A1) of Sheet (created when missing).
// Numbers, booleans and null are typed as such; a string starting with
// "=" is a formula, one starting with "'" the text after it, an RFC 3339
// date or date-time a date, any other string text.
type WorkbookWriteRequest struct {
	Sheet string  `json:"sheet"`
	Cell  string  `json:"cell,omitempty"`
	Data  [][]any `json:"data"`
}

// WorkbookWritten says what a write did.
type WorkbookWritten struct {
	Sheet    string `json:"sheet"`
	Range    string `json:"range"` // the cells written, like A1:C3
	Rows     int    `json:"rows"`
	Cells    int    `json:"cells"`    // the session's cells, this write included
	Streamed bool   `json:"streamed"` // through the stream writer (a large write to a new sheet)
}

// WorkbookRange is the answer of a read: the values of Range of Sheet,
// a row per array, typed as a write takes them (dates as RFC 3339
// strings, formulas as "=…", empty cells null).
type WorkbookRange struct {
	Sheet string  `json:"sheet"`
	Range string  `json:"range"`
	Data  [][]any `json:"data"`
}

// WorkbookSaveRequest is the body of a save: As names the file to write
// under the service's dir; empty saves to the session's file.
type WorkbookSaveRequest struct {
	As string `json:"as,omitempty"`
}

// WorkbookSaved says where a save wrote.
type WorkbookSaved struct {
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
}

// The bodies of the workbook commands over the bus that act on a session
// (see docs/workbooks.md): the session, and the fields of the HTTP
// request of the same step. create_workbook takes a WorkbookCreateRequest
// and list_sessions no body.
type (
	// WorkbookSessionCommand is the body of close_workbook.
	WorkbookSessionCommand struct {
		Session string `json:"session"`
	}
	// WorkbookWriteCommand is the body of process_data.
	WorkbookWriteCommand struct {
		Session string `json:"session"`
		WorkbookWriteRequest
	}
	// WorkbookSaveCommand is the body of save_workbook.
	WorkbookSaveCommand struct {
		Session string `json:"session"`
		WorkbookSaveRequest
	}
	// WorkbookReadCommand is the body of read_range: the sheet and range
	// that GET …/read takes as sheet= and range=.
	WorkbookReadCommand struct {
		Session string `json:"session"`
		Sheet   string `json:"sheet"`
		Range   string `json:"range"`
	}
)

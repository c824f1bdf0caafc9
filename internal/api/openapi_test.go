package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
)

// schema is the part of an OpenAPI schema object that the wire types are
// checked against.
type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Items                *schema            `json:"items"`
	Properties           map[string]*schema `json:"properties"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Required             []string           `json:"required"`
}

// media is a request or response body: a schema per content type, or a
// reference to a shared one.
type media struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema *schema `json:"schema"`
	} `json:"content"`
}

// openAPIDoc is the part of the OpenAPI document the checks read.
type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas       map[string]*schema `json:"schemas"`
		Responses     map[string]*media  `json:"responses"`
		RequestBodies map[string]*media  `json:"requestBodies"`
	} `json:"components"`
}

func readOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// TestOpenAPIParity fails when a route is missing from the OpenAPI
// document or the document lists an operation no route serves.
func TestOpenAPIParity(t *testing.T) {
	f := newFixture(t)
	status, _, body := f.do(t, "GET", "/v1/openapi.json", nil)
	if status != 200 {
		t.Fatalf("GET /v1/openapi.json: %d", status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "parameters", "summary", "description", "servers":
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	routes := api.Routes(f.server)
	slices.Sort(documented)
	slices.Sort(routes)
	for _, r := range routes {
		if _, ok := slices.BinarySearch(documented, r); !ok {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if _, ok := slices.BinarySearch(routes, d); !ok {
			t.Errorf("openapi.json documents %s, which no route serves", d)
		}
	}
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// schemaTypes maps every schema of the document's components to the wire
// type it describes.
var schemaTypes = map[string]reflect.Type{
	"Node":                 typeOf[steward.Node](),
	"FleetAnswer":          typeOf[steward.FleetAnswer](),
	"Instance":             typeOf[steward.Instance](),
	"Registration":         typeOf[steward.Registration](),
	"Heartbeat":            typeOf[steward.Heartbeat](),
	"Error":                typeOf[steward.ErrorResponse](),
	"Problem":              typeOf[steward.Problem](),
	"Health":               typeOf[steward.HealthResponse](),
	"OSService":            typeOf[steward.OSService](),
	"ServiceStatus":        typeOf[steward.ServiceStatus](),
	"Services":             typeOf[[]steward.ServiceStatus](),
	"Event":                typeOf[steward.Event](),
	"Info":                 typeOf[steward.Info](),
	"Capability":           typeOf[steward.Capability](),
	"Exit":                 typeOf[steward.Exit](),
	"Exits":                typeOf[[]steward.Exit](),
	"Why":                  typeOf[steward.Why](),
	"LogLine":              typeOf[steward.LogLine](),
	"ConfigText":           typeOf[steward.ConfigText](),
	"ConfigVersion":        typeOf[steward.ConfigVersion](),
	"Validation":           typeOf[steward.Validation](),
	"Diff":                 typeOf[steward.ConfigDiff](),
	"Applied":              typeOf[steward.Applied](),
	"ActionRequest":        typeOf[steward.ActionRequest](),
	"ConfigRequest":        typeOf[steward.ConfigRequest](),
	"Alert":                typeOf[steward.Alert](),
	"AlertTransition":      typeOf[steward.AlertTransition](),
	"AckRequest":           typeOf[steward.AckRequest](),
	"Silence":              typeOf[steward.Silence](),
	"SilenceRequest":       typeOf[steward.SilenceRequest](),
	"Notification":         typeOf[steward.Notification](),
	"NotificationMessage":  typeOf[steward.NotificationMessage](),
	"NotificationAlert":    typeOf[steward.NotificationAlert](),
	"NotificationReport":   typeOf[steward.NotificationReport](),
	"Run":                  typeOf[steward.Run](),
	"RunRef":               typeOf[steward.RunRef](),
	"StepRun":              typeOf[steward.StepRun](),
	"AnyValue":             typeOf[any](),
	"Job":                  typeOf[steward.Job](),
	"JobNext":              typeOf[steward.JobNext](),
	"RunLog":               typeOf[steward.RunLog](),
	"Workflow":             typeOf[steward.Workflow](),
	"WorkflowStep":         typeOf[steward.WorkflowStep](),
	"WorkflowRunRequest":   typeOf[steward.WorkflowRunRequest](),
	"CheckState":           typeOf[steward.CheckState](),
	"CheckConfig":          typeOf[steward.CheckConfig](),
	"CheckResult":          typeOf[steward.CheckResult](),
	"Sample":               typeOf[steward.MetricSample](),
	"PushRequest":          typeOf[steward.PushRequest](),
	"PushResult":           typeOf[steward.PushResult](),
	"Series":               typeOf[steward.MetricSeries](),
	"QueryResult":          typeOf[steward.QueryResult](),
	"BusPublishRequest":    typeOf[steward.BusPublishRequest](),
	"BusPublished":         typeOf[steward.BusPublished](),
	"BusRequest":           typeOf[steward.BusRequest](),
	"BusMessage":           typeOf[steward.BusMessage](),
	"BusStream":            typeOf[steward.BusStream](),
	"BusDeadLetter":        typeOf[steward.BusDeadLetter](),
	"BusDLQCount":          typeOf[steward.BusDLQCount](),
	"BusService":           typeOf[steward.BusService](),
	"BusEndpoint":          typeOf[steward.BusEndpoint](),
	"Backup":               typeOf[steward.Backup](),
	"BackupSkip":           typeOf[steward.BackupSkip](),
	"BackupIdentity":       typeOf[steward.BackupIdentity](),
	"BackupCheck":          typeOf[steward.BackupCheck](),
	"BackupRestoreRequest": typeOf[steward.BackupRestoreRequest](),
	"BackupRestore":        typeOf[steward.BackupRestore](),
	"BackupDecision":       typeOf[steward.BackupDecision](),
	"BackupForget":         typeOf[steward.BackupForget](),
	"Report":               typeOf[steward.Report](),
	"ServiceReport":        typeOf[steward.ServiceReport](),
	"ReportBucket":         typeOf[steward.Availability](),
	"Distribution":         typeOf[steward.Distribution](),
	"Incident":             typeOf[steward.Incident](),
	"JobReport":            typeOf[steward.JobReport](),
	"RunFailure":           typeOf[steward.RunFailure](),
	"MachineReport":        typeOf[steward.MachineReport](),
	"DiskReport":           typeOf[steward.DiskReport](),
	"LogRotation":          typeOf[steward.LogRotation](),
	"LogRotations":         typeOf[[]steward.LogRotation](),
	"Token":                typeOf[steward.Token](),
	"NewToken":             typeOf[steward.NewToken](),
	"TokenRequest":         typeOf[steward.TokenRequest](),
	"AuditRecord":          typeOf[steward.AuditRecord](),
	"AuditVerification":    typeOf[steward.AuditVerification](),
	"AuditCheckpoint":      typeOf[steward.AuditCheckpoint](),

	"WorkbookSession":       typeOf[steward.WorkbookSession](),
	"WorkbookCreateRequest": typeOf[steward.WorkbookCreateRequest](),
	"WorkbookWriteRequest":  typeOf[steward.WorkbookWriteRequest](),
	"WorkbookWritten":       typeOf[steward.WorkbookWritten](),
	"WorkbookRange":         typeOf[steward.WorkbookRange](),
	"WorkbookSaveRequest":   typeOf[steward.WorkbookSaveRequest](),
	"WorkbookSaved":         typeOf[steward.WorkbookSaved](),
}

// bodyTypes maps the JSON bodies of the operations, "METHOD PATH STATUS"
// for a successful answer and "METHOD PATH request" for a request, to the
// wire type they carry; nil for one that is no wire type (the document
// itself). An NDJSON body's type is that of one line.
var bodyTypes = map[string]reflect.Type{
	"GET /v1/nodes 200":                              typeOf[[]steward.Node](),
	"GET /v1/fleet/{path} 200":                       typeOf[[]steward.FleetAnswer](),
	"GET /v1/registry 200":                           typeOf[[]steward.Instance](),
	"GET /v1/registry/{name} 200":                    typeOf[[]steward.Instance](),
	"POST /v1/registry 201":                          typeOf[steward.Instance](),
	"POST /v1/registry request":                      typeOf[steward.Registration](),
	"GET /v1/registry/{name}/pick 200":               typeOf[steward.Instance](),
	"PUT /v1/registry/{name}/{id}/heartbeat 200":     typeOf[steward.Instance](),
	"PUT /v1/registry/{name}/{id}/heartbeat request": typeOf[steward.Heartbeat](),
	"GET /healthz 200":                               typeOf[steward.HealthResponse](),
	"GET /v1/openapi.json 200":                       nil,
	"GET /v1/info 200":                               typeOf[steward.Info](),
	"GET /v1/services 200":                           typeOf[[]steward.ServiceStatus](),
	"GET /v1/services/{name} 200":                    typeOf[steward.ServiceStatus](),
	"POST /v1/services/{name}/start 200":             typeOf[[]steward.ServiceStatus](),
	"POST /v1/services/{name}/stop 200":              typeOf[[]steward.ServiceStatus](),
	"POST /v1/services/{name}/restart 200":           typeOf[[]steward.ServiceStatus](),
	"POST /v1/services/{name}/start request":         typeOf[steward.ActionRequest](),
	"POST /v1/services/{name}/stop request":          typeOf[steward.ActionRequest](),
	"POST /v1/services/{name}/restart request":       typeOf[steward.ActionRequest](),
	"GET /v1/services/{name}/logs 200":               typeOf[steward.LogLine](),
	"POST /v1/services/{name}/logs/rotate 200":       typeOf[steward.LogRotation](),
	"POST /v1/logs/rotate 200":                       typeOf[[]steward.LogRotation](),
	"GET /v1/services/{name}/why 200":                typeOf[steward.Why](),
	"GET /v1/services/{name}/exits 200":              typeOf[[]steward.Exit](),
	"GET /v1/events 200":                             typeOf[[]steward.Event](),
	"POST /v1/reload 200":                            typeOf[steward.Applied](),
	"GET /v1/config 200":                             typeOf[steward.ConfigText](),
	"PUT /v1/config 200":                             typeOf[steward.Applied](),
	"PUT /v1/config request":                         typeOf[steward.ConfigRequest](),
	"POST /v1/config/validate 200":                   typeOf[steward.Validation](),
	"POST /v1/config/validate request":               typeOf[steward.ConfigRequest](),
	"GET /v1/config/versions 200":                    typeOf[[]steward.ConfigVersion](),
	"GET /v1/config/versions/{n} 200":                typeOf[steward.ConfigVersion](),
	"POST /v1/config/rollback/{n} 200":               typeOf[steward.Applied](),
	"GET /v1/alerts 200":                             typeOf[[]steward.Alert](),
	"GET /v1/alerts/{id} 200":                        typeOf[steward.Alert](),
	"POST /v1/alerts/{id}/ack 200":                   typeOf[steward.Alert](),
	"POST /v1/alerts/{id}/ack request":               typeOf[steward.AckRequest](),
	"GET /v1/silences 200":                           typeOf[[]steward.Silence](),
	"POST /v1/silences 201":                          typeOf[steward.Silence](),
	"POST /v1/silences request":                      typeOf[steward.SilenceRequest](),
	"GET /v1/notifications 200":                      typeOf[[]steward.Notification](),
	"GET /v1/notifications/{id} 200":                 typeOf[steward.Notification](),
	"POST /v1/notifications/{id}/retry 200":          typeOf[steward.Notification](),
	"GET /v1/jobs 200":                               typeOf[[]steward.Job](),
	"POST /v1/jobs/{name}/run 200":                   typeOf[steward.Run](),
	"GET /v1/jobs/{name}/next 200":                   typeOf[steward.JobNext](),
	"GET /v1/runs 200":                               typeOf[[]steward.Run](),
	"GET /v1/runs/{id} 200":                          typeOf[steward.Run](),
	"GET /v1/runs/{id}/logs 200":                     typeOf[steward.RunLog](),
	"POST /v1/runs/{id}/cancel 200":                  typeOf[steward.Run](),
	"GET /v1/workflows 200":                          typeOf[[]steward.Workflow](),
	"POST /v1/workflows/{name}/run 200":              typeOf[steward.Run](),
	"POST /v1/workflows/{name}/run request":          typeOf[steward.WorkflowRunRequest](),
	"GET /v1/backups 200":                            typeOf[[]steward.Backup](),
	"POST /v1/backups/forget 200":                    typeOf[steward.BackupForget](),
	"GET /v1/backups/{id} 200":                       typeOf[steward.Backup](),
	"POST /v1/backups/{id}/verify 200":               typeOf[steward.BackupCheck](),
	"POST /v1/backups/{id}/verify request":           typeOf[steward.BackupIdentity](),
	"POST /v1/backups/{id}/restore 200":              typeOf[steward.BackupRestore](),
	"POST /v1/backups/{id}/restore request":          typeOf[steward.BackupRestoreRequest](),
	"GET /v1/os-services 200":                        typeOf[[]steward.OSService](),
	"GET /v1/os-services/{name} 200":                 typeOf[steward.OSService](),
	"POST /v1/os-services/{name}/start 200":          typeOf[steward.OSService](),
	"POST /v1/os-services/{name}/stop 200":           typeOf[steward.OSService](),
	"POST /v1/os-services/{name}/restart 200":        typeOf[steward.OSService](),
	"GET /v1/checks 200":                             typeOf[[]steward.CheckState](),
	"GET /v1/metrics/query 200":                      typeOf[steward.QueryResult](),
	"GET /v1/report 200":                             typeOf[steward.Report](),
	"POST /v1/metrics 200":                           typeOf[steward.PushResult](),
	"POST /v1/metrics request":                       typeOf[steward.PushRequest](),
	"POST /v1/bus/publish 200":                       typeOf[steward.BusPublished](),
	"POST /v1/bus/publish request":                   typeOf[steward.BusPublishRequest](),
	"POST /v1/bus/request 200":                       typeOf[steward.BusMessage](),
	"POST /v1/bus/request request":                   typeOf[steward.BusRequest](),
	"GET /v1/bus/streams 200":                        typeOf[[]steward.BusStream](),
	"GET /v1/bus/dlq 200":                            typeOf[[]steward.BusDeadLetter](),
	"DELETE /v1/bus/dlq 200":                         typeOf[steward.BusDLQCount](),
	"POST /v1/bus/dlq/replay 200":                    typeOf[steward.BusDLQCount](),
	"GET /v1/bus/dlq/{id} 200":                       typeOf[steward.BusDeadLetter](),
	"POST /v1/bus/dlq/{id}/replay 200":               typeOf[steward.BusPublished](),
	"GET /v1/bus/services 200":                       typeOf[[]steward.BusService](),
	"GET /v1/tokens 200":                             typeOf[[]steward.Token](),
	"POST /v1/tokens 201":                            typeOf[steward.NewToken](),
	"POST /v1/tokens request":                        typeOf[steward.TokenRequest](),
	"DELETE /v1/tokens/{accessor} 200":               typeOf[steward.Token](),
	"GET /v1/audit 200":                              typeOf[[]steward.AuditRecord](),
	"POST /v1/audit/verify 200":                      typeOf[steward.AuditVerification](),
	"POST /v1/audit/checkpoint 200":                  typeOf[steward.AuditCheckpoint](),

	"GET /v1/workbooks/{service}/sessions 200":                 typeOf[[]steward.WorkbookSession](),
	"POST /v1/workbooks/{service}/sessions 201":                typeOf[steward.WorkbookSession](),
	"POST /v1/workbooks/{service}/sessions request":            typeOf[steward.WorkbookCreateRequest](),
	"POST /v1/workbooks/{service}/sessions/{id}/write 200":     typeOf[steward.WorkbookWritten](),
	"POST /v1/workbooks/{service}/sessions/{id}/write request": typeOf[steward.WorkbookWriteRequest](),
	"GET /v1/workbooks/{service}/sessions/{id}/read 200":       typeOf[steward.WorkbookRange](),
	"POST /v1/workbooks/{service}/sessions/{id}/save 200":      typeOf[steward.WorkbookSaved](),
	"POST /v1/workbooks/{service}/sessions/{id}/save request":  typeOf[steward.WorkbookSaveRequest](),
}

// TestOpenAPISchemas checks the document's schemas against the wire types
// by reflection, both ways: each property is a JSON field of the type,
// each JSON field a property, of the same JSON type; a required property
// is never left out of the JSON.
func TestOpenAPISchemas(t *testing.T) {
	doc := readOpenAPI(t)
	for name, s := range doc.Components.Schemas {
		typ, ok := schemaTypes[name]
		if !ok {
			t.Errorf("schema %s names no wire type: add it to schemaTypes", name)
			continue
		}
		for _, p := range doc.compare(s, typ, name) {
			t.Error(p)
		}
	}
	for name := range schemaTypes {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("schemaTypes names %s, which openapi.json lacks", name)
		}
	}
}

// TestOpenAPIBodies checks every JSON body of every operation against the
// wire type the handler sends or takes, and that every error answer is
// the Error schema.
func TestOpenAPIBodies(t *testing.T) {
	doc := readOpenAPI(t)
	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				RequestBody *media            `json:"requestBody"`
				Responses   map[string]*media `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			prefix := strings.ToUpper(method) + " " + path + " "
			bodies := map[string]*media{}
			if op.RequestBody != nil {
				bodies["request"] = op.RequestBody
			}
			for status, m := range op.Responses {
				bodies[status] = m
			}
			for what, m := range bodies {
				key := prefix + what
				if !strings.HasPrefix(what, "2") && what != "request" {
					if m.Ref != "#/components/responses/Error" {
						t.Errorf("%s: an error answer is %q, want the Error response", key, m.Ref)
					}
					continue
				}
				m = doc.media(m)
				for ct, c := range m.Content {
					if ct != "application/json" && ct != "application/x-ndjson" {
						continue
					}
					typ, ok := bodyTypes[key]
					if !ok {
						t.Errorf("%s: a JSON body bodyTypes does not name", key)
						continue
					}
					seen[key] = true
					if typ == nil {
						continue
					}
					for _, p := range doc.compare(c.Schema, typ, key) {
						t.Error(p)
					}
				}
			}
		}
	}
	for key := range bodyTypes {
		if !seen[key] {
			t.Errorf("bodyTypes names %s, which openapi.json does not document as JSON", key)
		}
	}
}

// TestOpenAPICompareFails proves the checks can fail: copies of a wire type
// with a field renamed, of another type, encoded as a string, left out, or
// optional where the schema requires it each disagree with the schema.
func TestOpenAPICompareFails(t *testing.T) {
	doc := readOpenAPI(t)
	type renamed struct {
		Version       string    `json:"version"`
		Node          string    `json:"node_name"`
		PID           int       `json:"pid"`
		Started       time.Time `json:"started"`
		ConfigVersion int       `json:"config_version"`
	}
	type retyped struct {
		Version       string    `json:"version"`
		Node          string    `json:"node"`
		PID           string    `json:"pid"`
		Started       time.Time `json:"started"`
		ConfigVersion int       `json:"config_version"`
	}
	type missing struct {
		Version string    `json:"version"`
		Node    string    `json:"node"`
		PID     int       `json:"pid"`
		Started time.Time `json:"started"`
	}
	type quoted struct {
		Version       string    `json:"version"`
		Node          string    `json:"node"`
		PID           int       `json:"pid,string"`
		Started       time.Time `json:"started"`
		ConfigVersion int       `json:"config_version"`
	}
	type optional struct {
		Version       string    `json:"version,omitempty"`
		Node          string    `json:"node"`
		PID           int       `json:"pid"`
		Started       time.Time `json:"started"`
		ConfigVersion int       `json:"config_version"`
	}
	info := doc.Components.Schemas["Info"]
	if p := doc.compare(info, typeOf[steward.Info](), "Info"); len(p) != 0 {
		t.Fatalf("Info disagrees with its schema: %q", p)
	}
	for _, tt := range []struct {
		typ  reflect.Type
		want string
	}{
		{typeOf[renamed](), "node_name"},
		{typeOf[retyped](), "pid"},
		{typeOf[missing](), "config_version"},
		{typeOf[quoted](), "pid"},
		{typeOf[optional](), "version"},
		{typeOf[[]steward.Info](), "array"},
	} {
		p := doc.compare(info, tt.typ, "Info")
		if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), tt.want) {
			t.Errorf("%v against Info: %q, want a problem about %s", tt.typ, p, tt.want)
		}
	}
}

// TestOpenAPIQueries checks that the query parameters of the wire query
// types, all set, are the ones the document gives their routes, besides
// those the types leave to other calls (follow).
func TestOpenAPIQueries(t *testing.T) {
	doc := readOpenAPI(t)
	now := time.Now()
	for _, tt := range []struct {
		path   string
		values url.Values
		extra  []string
	}{
		{"/v1/events", steward.EventQuery{Since: now, After: 1, Service: "web", Limit: 1}.Values(), []string{"follow"}},
		{"/v1/alerts", steward.AlertQuery{All: true, Limit: 1}.Values(), nil},
		{"/v1/notifications", steward.NotificationQuery{States: []string{"failed"}, Notifier: "hook", Limit: 1}.Values(), nil},
		{"/v1/bus/subscribe", steward.BusSubscribeQuery{Subject: "a.>", Since: now}.Values(), nil},
		{"/v1/bus/dlq", steward.BusDLQQuery{Stream: "orders", After: 1, Limit: 1}.Values(), nil},
		{"/v1/runs", steward.RunQuery{Name: "nightly", Limit: 1}.Values(), nil},
		{"/v1/report", steward.ReportQuery{Since: "7d", Until: "1d", Services: []string{"web"}, Format: "csv", Section: "jobs"}.Values(), nil},
		{"/v1/metrics/query", steward.MetricQuery{Name: "cpu", Labels: map[string]string{"service": "web"}, From: now, To: now, Step: time.Minute}.Values(), nil},
	} {
		var op struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(doc.Paths[tt.path]["get"], &op); err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		var documented []string
		for _, p := range op.Parameters {
			if p.In == "query" {
				documented = append(documented, p.Name)
			}
		}
		sent := append(slices.Collect(maps.Keys(tt.values)), tt.extra...)
		slices.Sort(documented)
		slices.Sort(sent)
		if !slices.Equal(sent, documented) {
			t.Errorf("GET %s: the query type sends %q, the document has %q", tt.path, sent, documented)
		}
	}
}

// media resolves a reference to a shared request body or response.
func (d *openAPIDoc) media(m *media) *media {
	if name, ok := strings.CutPrefix(m.Ref, "#/components/responses/"); ok {
		return d.Components.Responses[name]
	}
	if name, ok := strings.CutPrefix(m.Ref, "#/components/requestBodies/"); ok {
		return d.Components.RequestBodies[name]
	}
	return m
}

// compare returns how schema s and the JSON encoding of typ disagree; at
// names the place for the messages.
func (d *openAPIDoc) compare(s *schema, typ reflect.Type, at string) []string {
	if s == nil {
		return []string{at + ": no schema"}
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		ref := d.Components.Schemas[name]
		if ref == nil {
			return []string{at + ": $ref to a missing schema " + name}
		}
		return d.compare(ref, typ, at)
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := jsonType(typ)
	if s.Type != want {
		return []string{fmt.Sprintf("%s: schema type %q, Go type %v is %q in JSON", at, s.Type, typ, want)}
	}
	if typ == reflect.TypeFor[time.Time]() && s.Format != "date-time" {
		return []string{fmt.Sprintf("%s: a time has format %q, want date-time", at, s.Format)}
	}
	switch want {
	case "array":
		if s.Items == nil {
			return []string{at + ": an array without items"}
		}
		return d.compare(s.Items, typ.Elem(), at+"[]")
	case "object":
		if typ.Kind() == reflect.Map {
			var add schema
			if err := json.Unmarshal(s.AdditionalProperties, &add); err != nil || add.Type == "" && add.Ref == "" {
				return []string{at + ": a map without an additionalProperties schema"}
			}
			return d.compare(&add, typ.Elem(), at+"{}")
		}
		return d.compareStruct(s, typ, at)
	}
	return nil
}

// compareStruct compares the properties of s with the JSON fields of the
// struct type typ.
func (d *openAPIDoc) compareStruct(s *schema, typ reflect.Type, at string) []string {
	var problems []string
	fields := map[string]bool{}
	for _, f := range jsonFields(typ) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = true
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		p, ok := s.Properties[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: field %s (%s) is not in the schema", at, f.Name, name))
			continue
		case omit && slices.Contains(s.Required, name):
			problems = append(problems, fmt.Sprintf("%s.%s: required, but the JSON leaves it out when empty", at, name))
		}
		if slices.Contains(strings.Split(opts, ","), "string") && jsonType(f.Type) != "object" && jsonType(f.Type) != "array" {
			if p.Type != "string" {
				problems = append(problems, fmt.Sprintf("%s.%s: schema type %q, the field is a JSON string", at, name, p.Type))
			}
			continue
		}
		problems = append(problems, d.compare(p, f.Type, at+"."+name)...)
	}
	for name := range s.Properties {
		if !fields[name] {
			problems = append(problems, fmt.Sprintf("%s: property %s is no JSON field of %v", at, name, typ))
		}
	}
	for _, name := range s.Required {
		if !fields[name] {
			problems = append(problems, fmt.Sprintf("%s: required property %s is no JSON field of %v", at, name, typ))
		}
	}
	return problems
}

// jsonFields returns the fields of the struct type typ, with those of an
// embedded struct without a JSON name in its place, as encoding/json does.
func jsonFields(typ reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

// jsonType is the JSON type encoding/json writes a value of typ as.
func jsonType(typ reflect.Type) string {
	if typ == reflect.TypeFor[json.RawMessage]() {
		return "" // any JSON value
	}
	if typ == reflect.TypeFor[time.Time]() {
		return "string"
	}
	switch typ.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Interface:
		return "" // any JSON value: a schema without a type
	}
	return typ.Kind().String()
}

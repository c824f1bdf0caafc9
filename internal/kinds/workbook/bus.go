package workbook

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/bus"
)

// The commands of a workbook service over the bus, each the last token of
// its subject (bus.WorkbookSubjects).
const (
	cmdCreate  = "create_workbook"
	cmdProcess = "process_data"
	cmdSave    = "save_workbook"
	cmdClose   = "close_workbook"
	cmdList    = "list_sessions"
	cmdRead    = "read_range"
)

// commands lists the commands in the order the micro service announces
// them.
var commands = []string{cmdCreate, cmdProcess, cmdSave, cmdClose, cmdList, cmdRead}

// microName is the name of the NATS micro service of every workbook
// service, and its queue group: instances of one service on one subject
// share its requests.
const microName = "steward-workbook"

// microVersion is the version of the commands' protocol.
const microVersion = "1.0.0"

// ErrorStatus turns an error into the HTTP-style status and body the
// API would answer with (api.ErrorStatus): one mapping for both.
type ErrorStatus func(error) (int, steward.ErrorBody)

// busConn is the connection the running services are announced on.
type busConn struct {
	nc     *nats.Conn
	node   string
	status ErrorStatus
}

// ServeBus announces each running workbook service, now and as it starts,
// as a NATS micro service on nc, steward's connection to the bus of node:
// microName with the metadata node and service, an endpoint per command on
// steward.NODE.workbook.SERVICE.COMMAND. Requests and replies carry the
// envelope; an error is a micro error reply with status's code. The
// returned func stops every announcement, as the bus stops; a service's
// stops with it.
func (k *Kind) ServeBus(nc *nats.Conn, node string, status ErrorStatus) (stop func()) {
	b := &busConn{nc: nc, node: node, status: status}
	k.mu.Lock()
	k.bus = b
	for _, s := range k.services {
		k.announceLocked(s)
	}
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.bus != b {
			return
		}
		k.bus = nil
		for _, s := range k.services {
			s.unannounceLocked()
		}
	}
}

// announceLocked adds the micro service of s on the bus, if one is served;
// the caller holds k.mu.
func (k *Kind) announceLocked(s *service) {
	if k.bus == nil {
		return
	}
	s.unannounceLocked()
	svc, err := micro.AddService(k.bus.nc, micro.Config{
		Name: microName, Version: microVersion, QueueGroup: microName,
		Description: "the commands of steward's workbook service " + s.name,
		Metadata:    map[string]string{"node": k.bus.node, "service": s.name},
	})
	if err == nil {
		g := svc.AddGroup(bus.WorkbookSubjects(k.bus.node, s.name))
		for _, cmd := range commands {
			if err = g.AddEndpoint(cmd, k.handler(k.bus, s.name, cmd)); err != nil {
				break
			}
		}
		if err != nil {
			_ = svc.Stop()
		}
	}
	if err != nil {
		k.o.Logger.Warn("workbook: not announced on the bus", "service", s.name, "err", err)
		return
	}
	s.micro = svc
}

// unannounceLocked stops the micro service of s; the caller holds k.mu.
func (s *service) unannounceLocked() {
	if s.micro != nil {
		_ = s.micro.Stop()
		s.micro = nil
	}
}

// handler serves the command cmd of service.
func (k *Kind) handler(b *busConn, service, cmd string) micro.HandlerFunc {
	source := "steward." + bus.Token(b.node)
	return func(r micro.Request) {
		req, err := bus.Parse(&nats.Msg{Subject: r.Subject(), Reply: r.Reply(), Header: nats.Header(r.Headers()), Data: r.Data()})
		var out any
		if err != nil {
			err = steward.Wrap(steward.EINVALID, err, "%s", cmd)
		} else if req.Type != "" && req.Type != bus.TypeCommand && req.Type != bus.TypeQuery {
			err = steward.Errorf(steward.EINVALID, "%s: a message of type %s, want a command", cmd, req.Type)
		} else {
			out, err = k.command(steward.WithActor(context.Background(), principal(req)), service, cmd, req.Data)
		}
		if req.CorrelationID == "" {
			req.CorrelationID = req.ID
		}
		var data []byte
		if err == nil {
			data, err = json.Marshal(out)
		}
		if err != nil {
			code, body := b.status(err)
			data, _ = json.Marshal(steward.ErrorResponse{Error: body})
			resp := bus.Respond(req, data, source)
			_ = r.Error(strconv.Itoa(code), body.Message, data, micro.WithHeaders(micro.Headers(resp.Headers())))
			return
		}
		resp := bus.Respond(req, data, source)
		_ = r.Respond(data, micro.WithHeaders(micro.Headers(resp.Headers())))
	}
}

// principal is who a command over the bus is recorded as acting for:
// bus:SOURCE, the source the envelope names, or bus without one. The NATS
// server lets only the workbook service's callers (and steward) publish
// a command; the source is what the sender says it is.
func principal(m bus.Message) string {
	if m.Source == "" {
		return "bus"
	}
	return "bus:" + m.Source
}

// command runs cmd of service with the JSON body, the fields of the HTTP
// request of the same step, decoded as the API decodes them.
func (k *Kind) command(ctx context.Context, service, cmd string, body []byte) (any, error) {
	decode := func(v any) error {
		if len(body) == 0 {
			return nil
		}
		return steward.DecodeJSON(body, v)
	}
	// withSession decodes v, whose session field is id, and wants one.
	withSession := func(v any, id *string) error {
		if err := decode(v); err != nil {
			return err
		}
		if *id == "" {
			return steward.Errorf(steward.EINVALID, "%s needs session: the id create_workbook answered", cmd)
		}
		return nil
	}
	switch cmd {
	case cmdCreate:
		var req steward.WorkbookCreateRequest
		if err := decode(&req); err != nil {
			return nil, err
		}
		return k.Create(ctx, service, req)
	case cmdProcess:
		var req steward.WorkbookWriteCommand
		if err := withSession(&req, &req.Session); err != nil {
			return nil, err
		}
		return k.Write(ctx, service, req.Session, req.WorkbookWriteRequest)
	case cmdSave:
		var req steward.WorkbookSaveCommand
		if err := withSession(&req, &req.Session); err != nil {
			return nil, err
		}
		return k.Save(ctx, service, req.Session, req.WorkbookSaveRequest)
	case cmdClose:
		var req steward.WorkbookSessionCommand
		if err := withSession(&req, &req.Session); err != nil {
			return nil, err
		}
		if err := k.Close(ctx, service, req.Session); err != nil {
			return nil, err
		}
		return steward.WorkbookSessionCommand{Session: req.Session}, nil
	case cmdList:
		var req struct{}
		if err := decode(&req); err != nil {
			return nil, err
		}
		return k.Sessions(service)
	default: // cmdRead
		var req steward.WorkbookReadCommand
		if err := withSession(&req, &req.Session); err != nil {
			return nil, err
		}
		if req.Sheet == "" || req.Range == "" {
			return nil, steward.Errorf(steward.EINVALID, "read_range needs sheet and range (like A1:C3)")
		}
		return k.Read(ctx, service, req.Session, req.Sheet, req.Range)
	}
}

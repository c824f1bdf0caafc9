package steward

import (
	"net/url"
	"strconv"
	"time"
)

// EncodingBase64 is the Encoding of a bus message's data that is not
// UTF-8 text: Data holds it in standard base64.
const EncodingBase64 = "base64"

// BusPublishRequest is the body of POST /v1/bus/publish.
type BusPublishRequest struct {
	Subject string `json:"subject"`
	Data    string `json:"data"`
	// Encoding is "" for text, EncodingBase64 for base64 data.
	Encoding string `json:"encoding,omitempty"`
	// Headers are the application's own headers; the envelope's are set
	// from Type and by steward.
	Headers map[string]string `json:"headers,omitempty"`
	// Type is the envelope's type: event (the default), command, query or
	// response.
	Type string `json:"type,omitempty"`
}

// BusPublished is the answer of POST /v1/bus/publish: the message's id
// and, when a stream holds the subject, where it is stored.
type BusPublished struct {
	Subject   string `json:"subject"`
	ID        string `json:"id"`
	Stream    string `json:"stream,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// BusRequest is the body of POST /v1/bus/request.
type BusRequest struct {
	Subject  string            `json:"subject"`
	Data     string            `json:"data"`
	Encoding string            `json:"encoding,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	// Timeout is a duration like 2s; "" means 5s, and at most 60s.
	Timeout string `json:"timeout,omitempty"`
}

// BusMessage is one message of the bus with steward's envelope: the
// answer of POST /v1/bus/request, and each event of GET /v1/bus/subscribe.
type BusMessage struct {
	Subject       string            `json:"subject"`
	Type          string            `json:"type,omitempty"`
	ID            string            `json:"id,omitempty"`
	Source        string            `json:"source,omitempty"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	ReplyTo       string            `json:"reply_to,omitempty"`
	Time          time.Time         `json:"time,omitzero"`
	Headers       map[string]string `json:"headers,omitempty"`
	Data          string            `json:"data"`
	Encoding      string            `json:"encoding,omitempty"`
	// Stream and Seq locate a message replayed from a stream.
	Stream string `json:"stream,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
}

// BusStream describes one JetStream stream: GET /v1/bus/streams.
type BusStream struct {
	Name      string    `json:"name"`
	Subjects  []string  `json:"subjects"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstSeq  uint64    `json:"first_seq"`
	LastSeq   uint64    `json:"last_seq"`
	FirstTime time.Time `json:"first_time,omitzero"`
	LastTime  time.Time `json:"last_time,omitzero"`
	Consumers int       `json:"consumers"`
	// MaxAge is in nanoseconds on the wire; 0 means no limit.
	MaxAge   time.Duration `json:"max_age"`
	MaxBytes int64         `json:"max_bytes"`
	Storage  string        `json:"storage"`
	Created  time.Time     `json:"created"`
	// Replicas is how many servers keep it; Leader, in a cluster, the
	// server (node) that leads it now.
	Replicas int    `json:"replicas"`
	Leader   string `json:"leader,omitempty"`
}

// BusSubscribeQuery is the query of GET /v1/bus/subscribe.
type BusSubscribeQuery struct {
	Subject string
	// Since, when set, replays what the stream that holds the subject
	// stored since then.
	Since time.Time
}

// Values returns q as URL query parameters.
func (q BusSubscribeQuery) Values() url.Values {
	v := url.Values{"subject": {q.Subject}}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// BusDeadLetter is one entry of the bus's dead-letter queue: a message a
// consumer of a stream with dead_letter gave up on. GET /v1/bus/dlq lists
// them without Message; GET /v1/bus/dlq/{id} has it.
type BusDeadLetter struct {
	// ID is the entry's sequence in STEWARD_DLQ.
	ID uint64 `json:"id"`
	// Stream, Subject and Seq are where the message was.
	Stream   string `json:"stream"`
	Subject  string `json:"subject"`
	Seq      uint64 `json:"seq"`
	Consumer string `json:"consumer"`
	// Reason is max_deliveries, or terminated (with the consumer's reason
	// after a colon when it gave one).
	Reason     string    `json:"reason"`
	Deliveries uint64    `json:"deliveries"`
	Time       time.Time `json:"time,omitzero"`
	// Missing is set when the message was gone from its stream before
	// steward could read it: there is nothing to replay.
	Missing bool        `json:"missing,omitempty"`
	Message *BusMessage `json:"message,omitempty"`
}

// BusDLQQuery is the query of GET /v1/bus/dlq (all three) and of POST
// /v1/bus/dlq/replay and DELETE /v1/bus/dlq (Stream only).
type BusDLQQuery struct {
	// Stream limits it to the dead letters of one stream; "" is all.
	Stream string
	// After lists the entries after this id; Limit bounds how many
	// (0: the server's, 1000).
	After uint64
	Limit int
}

// Values returns q as URL query parameters.
func (q BusDLQQuery) Values() url.Values {
	v := url.Values{}
	if q.Stream != "" {
		v.Set("stream", q.Stream)
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatUint(q.After, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// BusDLQCount is the answer of POST /v1/bus/dlq/replay (how many entries
// were replayed) and of DELETE /v1/bus/dlq (how many were removed).
type BusDLQCount struct {
	Count uint64 `json:"count"`
}

// BusService is one instance of a NATS micro service on the bus (a
// plugin): GET /v1/bus/services.
type BusService struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Started     time.Time         `json:"started,omitzero"`
	Endpoints   []BusEndpoint     `json:"endpoints"`
}

// BusEndpoint is one endpoint of a BusService, with its figures.
type BusEndpoint struct {
	Name       string            `json:"name"`
	Subject    string            `json:"subject"`
	QueueGroup string            `json:"queue_group,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Requests   int               `json:"requests"`
	Errors     int               `json:"errors"`
	LastError  string            `json:"last_error,omitempty"`
	// ProcessingTime is the total time its requests took, and
	// AverageProcessingTime the time per request, in nanoseconds.
	ProcessingTime        time.Duration `json:"processing_time"`
	AverageProcessingTime time.Duration `json:"average_processing_time"`
}

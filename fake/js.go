package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The JetStream API level and version the fake reports, as nats-server v2.15.2 does.
const jsAPILevel = 5

// jetStream is the fake's JetStream: streams and their consumers, served to clients through
// internal subscriptions on the server's subject index ($JS.API.>, $JS.ACK.>, and each stream's
// subjects). One mutex guards all of it. Deliveries to clients are written to their outbound
// queues while it is held (they never block); anything that must be routed through the subject
// index again (advisories) waits in the outbox until the mutex is released.
type jetStream struct {
	s *Server

	mu       sync.Mutex
	streams  map[string]*stream
	outbox   []*message
	closed   bool
	api      struct{ total, errors uint64 }
	kick     chan struct{} // interest changed: push consumers may deliver
	watching bool
	done     chan struct{}
	wg       sync.WaitGroup
	apiSubs  []*subscription
}

func newJetStream(s *Server) *jetStream {
	j := &jetStream{
		s:       s,
		streams: make(map[string]*stream),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for subj, h := range map[string]func(*message) bool{
		"$JS.API.>": j.handleAPI,
		"$JS.ACK.>": j.handleAck,
		"$JS.FC.>":  j.handleFlowControl,
	} {
		j.apiSubs = append(j.apiSubs, s.subscribeInternal(subj, h))
	}
	return j
}

// watchPushInterest starts, once, the goroutine that lets push consumers deliver when a
// subscription for them appears. j.mu is held.
func (j *jetStream) watchPushInterest() {
	if j.watching || j.closed {
		return
	}
	j.watching = true
	j.wg.Add(1)
	go j.watchInterest()
}

// close stops every timer and the interest watcher.
func (j *jetStream) close() {
	j.mu.Lock()
	j.closed = true
	for _, st := range j.streams {
		st.stopTimers()
	}
	j.mu.Unlock()
	close(j.done)
	j.wg.Wait()
}

// lock and unlock guard the JetStream state; unlock routes what was queued meanwhile.
func (j *jetStream) lock() { j.mu.Lock() }

func (j *jetStream) unlock() {
	out := j.outbox
	j.outbox = nil
	j.mu.Unlock()
	for _, m := range out {
		j.s.route(m)
	}
}

// watchInterest lets push consumers deliver once a subscription for them appears.
func (j *jetStream) watchInterest() {
	defer j.wg.Done()
	for {
		select {
		case <-j.done:
			return
		case <-j.kick:
		}
		j.lock()
		if !j.closed {
			for _, st := range j.streams {
				for _, c := range st.consumers {
					if c.isPush() {
						c.deliverPush()
					}
				}
			}
		}
		j.unlock()
	}
}

func (j *jetStream) interestChanged() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// subscribeInternal adds a subscription of the server's own to its subject index.
func (s *Server) subscribeInternal(subj string, h func(*message) bool) *subscription {
	sub := &subscription{subject: subj, internal: h}
	s.mu.Lock()
	s.subs.insert(sub)
	s.mu.Unlock()
	return sub
}

func (s *Server) unsubscribeInternal(sub *subscription) {
	s.mu.Lock()
	if !sub.gone.Swap(true) {
		s.subs.remove(sub)
	}
	s.mu.Unlock()
}

// sendTo delivers m to the client subscriptions matching target (one member per queue group),
// whatever m's own subject: JetStream deliveries keep the stored subject and go to an inbox or a
// deliver subject. It reports whether any client got it.
func (s *Server) sendTo(target string, m *message) bool {
	s.mu.Lock()
	r := s.subs.match(target)
	var picks [4]*subscription
	queued := picks[:0]
	for i := range r.groups {
		if sub := s.pickLocked(&r.groups[i], nil); sub != nil {
			queued = append(queued, sub)
		}
	}
	s.mu.Unlock()
	ok := false
	for _, sub := range r.plain {
		if sub.internal == nil {
			ok = s.deliver(sub, m) || ok
		}
	}
	for _, sub := range queued {
		ok = s.deliver(sub, m) || ok
	}
	return ok
}

// hasInterest reports whether a client subscription would receive target.
func (s *Server) hasInterest(target string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.subs.match(target)
	for _, sub := range r.plain {
		if sub.internal == nil {
			return true
		}
	}
	return len(r.groups) > 0
}

// ---- API envelope ----

type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description,omitempty"`
}

func (e *apiError) Error() string { return e.Description }

func jsErr(code, errCode int, desc string) *apiError {
	return &apiError{Code: code, ErrCode: errCode, Description: desc}
}

var (
	errStreamNotFound      = jsErr(404, 10059, "stream not found")
	errStreamNameExist     = jsErr(400, 10058, "stream name already in use with a different configuration")
	errSubjectOverlap      = jsErr(400, 10065, "subjects overlap with an existing stream")
	errConsumerNotFound    = jsErr(404, 10014, "consumer not found")
	errConsumerExists      = jsErr(400, 10148, "consumer already exists")
	errConsumerNotExist    = jsErr(400, 10149, "consumer does not exist")
	errNoMessageFound      = jsErr(404, 10037, "no message found")
	errBadRequest          = jsErr(400, 10003, "bad request")
	errStreamMismatch      = jsErr(400, 10056, "stream name in subject does not match request")
	errConsumerCfgMissing  = jsErr(400, 10078, "consumer config required")
	errStreamNotMatch      = jsErr(400, 10060, "expected stream does not match")
	errMsgTooBig           = jsErr(400, 10054, "message size exceeds maximum allowed")
	errWQMultiUnfiltered   = jsErr(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream")
	errWQNotUnique         = jsErr(400, 10100, "filtered consumer not unique on workqueue stream")
	errWQExplicitAck       = jsErr(400, 10098, "workqueue stream requires explicit ack")
	errMaxDeliverBackoff   = jsErr(400, 10116, "max deliver is required to be > length of backoff values")
	errDurableNameMismatch = jsErr(400, 10132, "Consumer Durable and Name have to be equal if both are provided")
	errDuplicateFilters    = jsErr(400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified")
	errOverlappingFilters  = jsErr(400, 10138, "consumer subject filters cannot overlap")
	errEmptyFilter         = jsErr(400, 10139, "consumer filter in FilterSubjects cannot be empty")
	errMultipleFiltersAPI  = jsErr(400, 10137, "consumer with multiple subject filters cannot use subject based API")
	errSmallHeartbeat      = jsErr(400, 10083, "consumer idle heartbeat needs to be >= 100ms")
	errHBRequiresPush      = jsErr(400, 10088, "consumer idle heartbeat requires a push based consumer")
	errFCRequiresPush      = jsErr(400, 10089, "consumer flow control requires a push based consumer")
	errDeliverWildcards    = jsErr(400, 10079, "consumer deliver subject has wildcards")
	errPushMaxWaiting      = jsErr(400, 10080, "consumer in push mode can not set max waiting")
	errMaxPendingAckNone   = jsErr(400, 10082, "consumer requires ack policy for max ack pending")
	errTTLDisabled         = jsErr(400, 10166, "per-message TTL is disabled")
	errTTLInvalid          = jsErr(400, 10165, "invalid per-message TTL")
)

func errInvalidJSON(err error) *apiError {
	return jsErr(400, 10025, "invalid JSON: "+err.Error())
}

func errWrongLastSeq(seq uint64) *apiError {
	return jsErr(400, 10071, "wrong last sequence: "+strconv.FormatUint(seq, 10))
}

func errStoreFailed(desc string) *apiError { return jsErr(503, 10077, desc) }

func errInvalidConfig(desc string) *apiError { return jsErr(500, 10052, desc) }

const typePrefix = "io.nats.jetstream.api.v1."

type apiHead struct {
	Type  string    `json:"type"`
	Error *apiError `json:"error,omitempty"`
}

// reply answers an API request with v as JSON.
func (j *jetStream) reply(to string, v any) {
	if to == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(apiHead{Error: jsErr(500, 10051, err.Error())})
	}
	j.s.sendTo(to, &message{subject: to, data: b})
}

func (j *jetStream) replyErr(to, typ string, e *apiError) {
	j.api.errors++
	j.reply(to, apiHead{Type: typePrefix + typ, Error: e})
}

// status sends a status-only message (404, 408, 409, 100) to an inbox.
func (j *jetStream) status(to, line string, hdrs ...string) bool {
	var b strings.Builder
	b.WriteString("NATS/1.0 ")
	b.WriteString(line)
	b.WriteString("\r\n")
	for i := 0; i+1 < len(hdrs); i += 2 {
		b.WriteString(hdrs[i])
		b.WriteString(": ")
		b.WriteString(hdrs[i+1])
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return j.s.sendTo(to, &message{subject: to, hdr: []byte(b.String())})
}

// advise queues an advisory to be published once the lock is released.
func (j *jetStream) advise(subj string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	j.outbox = append(j.outbox, &message{subject: subj, data: b})
}

// ---- dispatch ----

// handleAPI serves one request on $JS.API.>. It reports false where nats-server has no responder
// (the client then sees no responders).
func (j *jetStream) handleAPI(m *message) bool {
	subj := strings.TrimPrefix(m.subject, "$JS.API.")
	reply := m.reply
	body := append([]byte(nil), m.data...)
	hdr := m.hdr

	j.lock()
	defer j.unlock()
	if j.closed {
		return false
	}
	j.api.total++
	tok := strings.Split(subj, ".")
	arg := func(i int) string {
		if i < len(tok) {
			return tok[i]
		}
		return ""
	}
	rest := func(i int) string {
		if i < len(tok) {
			return strings.Join(tok[i:], ".")
		}
		return ""
	}
	switch {
	case subj == "INFO":
		j.accountInfo(reply)
	case arg(0) == "STREAM" && len(tok) == 3:
		switch arg(1) {
		case "CREATE":
			j.streamCreate(reply, arg(2), body)
		case "UPDATE":
			j.streamUpdate(reply, arg(2), body)
		case "INFO":
			j.streamInfo(reply, arg(2), body)
		case "DELETE":
			j.streamDelete(reply, arg(2))
		case "PURGE":
			j.streamPurge(reply, arg(2), body)
		default:
			return false
		}
	case subj == "STREAM.NAMES":
		j.streamNames(reply, body, false)
	case subj == "STREAM.LIST":
		j.streamNames(reply, body, true)
	case arg(0) == "STREAM" && arg(1) == "MSG" && len(tok) == 4:
		switch arg(2) {
		case "GET":
			j.msgGet(reply, arg(3), body)
		case "DELETE":
			j.msgDelete(reply, arg(3), body)
		default:
			return false
		}
	case arg(0) == "DIRECT" && arg(1) == "GET" && len(tok) >= 3:
		return j.directGet(reply, arg(2), rest(3), body, hdr)
	case arg(0) == "CONSUMER":
		switch {
		case arg(1) == "CREATE" && len(tok) >= 3:
			j.consumerCreate(reply, arg(2), arg(3), rest(4), body, len(tok) > 4)
		case arg(1) == "DURABLE" && arg(2) == "CREATE" && len(tok) == 5:
			j.consumerCreate(reply, arg(3), arg(4), "", body, false)
		case arg(1) == "INFO" && len(tok) == 4:
			j.consumerInfo(reply, arg(2), arg(3))
		case arg(1) == "DELETE" && len(tok) == 4:
			j.consumerDelete(reply, arg(2), arg(3))
		case arg(1) == "NAMES" && len(tok) == 3:
			j.consumerNames(reply, arg(2), body, false)
		case arg(1) == "LIST" && len(tok) == 3:
			j.consumerNames(reply, arg(2), body, true)
		case arg(1) == "MSG" && arg(2) == "NEXT" && len(tok) == 5:
			return j.pullRequest(reply, arg(3), arg(4), body)
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// ---- account ----

type accountInfoResp struct {
	apiHead
	Memory          uint64        `json:"memory"`
	Storage         uint64        `json:"storage"`
	ReservedMemory  uint64        `json:"reserved_memory"`
	ReservedStorage uint64        `json:"reserved_storage"`
	Streams         int           `json:"streams"`
	Consumers       int           `json:"consumers"`
	Limits          accountLimits `json:"limits"`
	API             apiStats      `json:"api"`
}

type accountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStorage           int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StorageMaxStreamByte int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

type apiStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

func (j *jetStream) accountInfo(reply string) {
	r := accountInfoResp{
		apiHead: apiHead{Type: typePrefix + "account_info_response"},
		Limits: accountLimits{MaxMemory: -1, MaxStorage: -1, MaxStreams: -1, MaxConsumers: -1,
			MaxAckPending: -1, MemoryMaxStreamBytes: -1, StorageMaxStreamByte: -1},
		API: apiStats{Level: jsAPILevel, Total: j.api.total, Errors: j.api.errors},
	}
	for _, st := range j.streams {
		r.Streams++
		r.Consumers += len(st.consumers)
		if st.cfg.Storage == jetstream.MemoryStorage {
			r.Memory += st.bytes
		} else {
			r.Storage += st.bytes
		}
	}
	j.reply(reply, r)
}

// ---- headers ----

// hdrGet is the value of key in a raw header block, matched exactly as nats-server does.
func hdrGet(hdr []byte, key string) (string, bool) {
	if len(hdr) == 0 {
		return "", false
	}
	i := bytes.Index(hdr, []byte("\r\n"))
	if i < 0 {
		return "", false
	}
	for rest := hdr[i+2:]; len(rest) > 0; {
		e := bytes.Index(rest, []byte("\r\n"))
		if e < 0 {
			e = len(rest)
		}
		line := rest[:e]
		if len(line) > len(key) && string(line[:len(key)]) == key && line[len(key)] == ':' {
			return strings.TrimSpace(string(line[len(key)+1:])), true
		}
		if e+2 > len(rest) {
			break
		}
		rest = rest[e+2:]
	}
	return "", false
}

// appendHeaders adds key/value pairs to a stored header block, making one if there is none.
func appendHeaders(hdr []byte, kv ...string) []byte {
	var b []byte
	if len(hdr) >= 4 && bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
		b = append(b, hdr[:len(hdr)-2]...)
	} else {
		b = append(b, "NATS/1.0\r\n"...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, kv[i]...)
		b = append(b, ": "...)
		b = append(b, kv[i+1]...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

func tsString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// pagedRequest is the body of NAMES and LIST requests.
type pagedRequest struct {
	Offset  int    `json:"offset"`
	Subject string `json:"subject,omitempty"`
}

// decodeRequest reads an API request body as nats-server does (a stream of JSON values, with
// the decoder's error messages), so malformed requests get the same invalid JSON error. Fields
// the client's types do not know are ignored where the server would refuse them.
func decodeRequest(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		if err := dec.Decode(v); err != nil {
			if err == io.EOF {
				return nil
			}
			var syntaxErr *json.SyntaxError
			if errors.As(err, &syntaxErr) {
				err = fmt.Errorf("%w at offset %d", err, syntaxErr.Offset)
			}
			return err
		}
	}
}

package fake

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// The rule these tests keep: every $JS.API subject nats-server serves is answered by the fake
// (as the server answers it, with the server's own error for what a single server cannot do,
// or with the fake's "not supported" error), and every field of nats.go's configs and of the
// requests the server reads is either honoured or refused. A new server subject or a new
// client field fails them until it is put in one of the lists below.

// moduleDir is where the go command keeps module mod.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

func parseGo(t *testing.T, path string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// serverAPIConstants are nats-server's exported constants for $JS.API subjects, by name, as
// patterns under "$JS.API." (a template's %s becomes "*").
func serverAPIConstants(t *testing.T) map[string]string {
	t.Helper()
	f := parseGo(t, filepath.Join(moduleDir(t, "github.com/nats-io/nats-server/v2"), "server", "jetstream_api.go"))
	out := make(map[string]string)
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != len(vs.Names) {
			return true
		}
		for i, name := range vs.Names {
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || !ast.IsExported(name.Name) {
				continue
			}
			v, _ := strconv.Unquote(lit.Value)
			if rest, ok := strings.CutPrefix(v, "$JS.API."); ok {
				out[name.Name] = strings.ReplaceAll(rest, "%s", "*")
			}
		}
		return true
	})
	if len(out) < 40 {
		t.Fatalf("found only %d $JS.API constants in nats-server's jetstream_api.go", len(out))
	}
	return out
}

// silentAPI are the server's subjects that its API dispatch takes from a client without
// answering (the system account's): the client's request times out, on the fake too.
var silentAPI = []string{
	"JSApiLeaderStepDown", "JSApiRemoveServer", "JSApiEvacuateServer", "JSApiMetaRescue",
	"JSApiAccountPurge", "JSApiAccountPurgeT", "JSApiServerStreamMove", "JSApiServerStreamMoveT",
	"JSApiServerStreamCancelMove", "JSApiServerStreamCancelMoveT",
}

// concrete is a subject a pattern matches, on stream S and consumer C.
func concrete(pattern string) string {
	tok := strings.Split(pattern, ".")
	names := []string{"S", "C", "x"}
	k := 0
	for i, s := range tok {
		switch s {
		case "*":
			tok[i] = names[min(k, 2)]
			k++
		case ">":
			tok[i] = "x"
		}
	}
	return strings.Join(tok, ".")
}

func endpointFor(subj string) int {
	for i := range apiEndpoints {
		if subject.Matches(apiEndpoints[i].pattern, subj) {
			return i
		}
	}
	return -1
}

func isNoAnswer(e apiEndpoint) bool {
	return reflect.ValueOf(e.serve).Pointer() == reflect.ValueOf(noAnswer).Pointer()
}

// Every server subject has an entry of its own in apiEndpoints; the catch-all (no answer, as
// the server gives none for a subject it does not know) serves none of them, and the subjects
// the server leaves unanswered are the ones in silentAPI.
func TestAPICoverageEverySubjectHasAnEndpoint(t *testing.T) {
	consts := serverAPIConstants(t)
	for _, name := range silentAPI {
		if _, ok := consts[name]; !ok {
			t.Errorf("silentAPI names %s, which nats-server no longer has", name)
		}
	}
	catchAll := len(apiEndpoints) - 1
	if apiEndpoints[catchAll].pattern != ">" || !isNoAnswer(apiEndpoints[catchAll]) {
		t.Fatalf("the last endpoint is %q, want the catch-all > with no answer", apiEndpoints[catchAll].pattern)
	}
	for name, pattern := range consts {
		subj := concrete(pattern)
		i := endpointFor(subj)
		switch {
		case i == catchAll:
			t.Errorf("%s ($JS.API.%s) has no entry in apiEndpoints", name, pattern)
		case slices.Contains(silentAPI, name) != isNoAnswer(apiEndpoints[i]):
			t.Errorf("%s ($JS.API.%s): served by %q, silent %v; nats-server's dispatch answers it: %v",
				name, pattern, apiEndpoints[i].pattern, isNoAnswer(apiEndpoints[i]), !slices.Contains(silentAPI, name))
		}
	}
}

// coverageServer connects to a fake with stream S (subjects s.>, direct gets on) holding one message and
// durable consumer C, and a connection to it.
func coverageServer(t *testing.T) *nats.Conn {
	t.Helper()
	s := Run(t, WithoutListener())
	nc := inproc(t, s)
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctxT(t), "s.x", []byte("m")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C"}); err != nil {
		t.Fatal(err)
	}
	return nc
}

// Sent to the fake, every server subject on an existing stream and consumer is answered, but
// the silent ones, which time out (never "no responders").
func TestAPICoverageEverySubjectAnswers(t *testing.T) {
	nc := coverageServer(t)
	consts := serverAPIConstants(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range consts {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		subj := "$JS.API." + concrete(consts[name])
		if strings.Contains(subj, ".DELETE.") {
			continue // answered, but would take the stream or consumer away from the rest
		}
		silent := slices.Contains(silentAPI, name)
		wait := 2 * time.Second
		if silent {
			wait = 100 * time.Millisecond
		}
		m, err := nc.Request(subj, nil, wait)
		switch {
		case silent && !errors.Is(err, nats.ErrTimeout):
			t.Errorf("%s (%s): %v %v, want no answer (a timeout)", name, subj, m, err)
		case !silent && err != nil:
			t.Errorf("%s (%s): %v, want an answer", name, subj, err)
		}
	}
}

// The fake's "not supported" error has a code and an err_code of its own.
func TestNotSupportedErrorIsNotTheServers(t *testing.T) {
	f := parseGo(t, filepath.Join(moduleDir(t, "github.com/nats-io/nats-server/v2"), "server", "jetstream_errors_generated.go"))
	re := regexp.MustCompile(`ErrCode: (\d+)`)
	var src strings.Builder
	ast.Inspect(f, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "ErrCode" {
				if lit, ok := kv.Value.(*ast.BasicLit); ok {
					src.WriteString("ErrCode: " + lit.Value + "\n")
				}
			}
		}
		return true
	})
	codes := re.FindAllStringSubmatch(src.String(), -1)
	if len(codes) < 100 {
		t.Fatalf("found only %d server error codes", len(codes))
	}
	for _, c := range codes {
		if c[1] == strconv.Itoa(fakeNotSupportedErrF.errCode) {
			t.Fatalf("nats-server uses err_code %d", fakeNotSupportedErrF.errCode)
		}
	}
}

// fieldNames are the JSON names of a struct's fields, embedded structs flattened.
func fieldNames(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, fieldNames(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// sourceFieldNames are the JSON names of the fields of struct typ, declared in one of files
// (embedded structs of the same files flattened): for request types nats.go and nats-server do
// not export.
func sourceFieldNames(t *testing.T, typ string, files ...string) []string {
	t.Helper()
	types := make(map[string]*ast.StructType)
	for _, path := range files {
		ast.Inspect(parseGo(t, path), func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					types[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	var walk func(name string) []string
	walk = func(name string) []string {
		st, ok := types[name]
		if !ok {
			t.Fatalf("no struct %s in %v", name, files)
		}
		var out []string
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				if id, ok := f.Type.(*ast.Ident); ok {
					out = append(out, walk(id.Name)...)
				}
				continue
			}
			tag := ""
			if f.Tag != nil {
				raw, _ := strconv.Unquote(f.Tag.Value)
				tag, _, _ = strings.Cut(reflect.StructTag(raw).Get("json"), ",")
			}
			for _, n := range f.Names {
				if !n.IsExported() || tag == "-" {
					continue
				}
				if tag != "" {
					out = append(out, tag)
				} else {
					out = append(out, n.Name)
				}
			}
		}
		return out
	}
	return walk(typ)
}

// checkLists fails for a field in neither list, in both, or listed but not a field.
func checkLists(t *testing.T, what string, fields, honoured, refused []string) {
	t.Helper()
	for _, f := range fields {
		h, r := slices.Contains(honoured, f), slices.Contains(refused, f)
		switch {
		case !h && !r:
			t.Errorf("%s: field %s is neither honoured nor refused by the fake", what, f)
		case h && r:
			t.Errorf("%s: field %s is listed as honoured and as refused", what, f)
		}
	}
	for _, f := range append(slices.Clone(honoured), refused...) {
		if !slices.Contains(fields, f) {
			t.Errorf("%s: listed field %s is not a field", what, f)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// apiErrOf is the API error err carries.
func apiErrOf(t *testing.T, err error) *jetstream.APIError {
	t.Helper()
	var e *jetstream.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v carries no API error", err)
	}
	return e
}

// wantRefusal checks err is the refusal of a field: want's error if the server itself refuses
// the field on a single server, else the fake's "not supported" error naming jsonName.
func wantRefusal(t *testing.T, what, jsonName string, err error, want *apiError) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want a refusal", what)
		return
	}
	got := apiErrOf(t, err)
	if want != nil {
		if got.Code != want.Code || int(got.ErrorCode) != want.ErrCode || got.Description != want.Description {
			t.Errorf("%s: %d %d %q, want the server's %d %d %q", what, got.Code, got.ErrorCode, got.Description, want.Code, want.ErrCode, want.Description)
		}
		return
	}
	if got.Code != fakeNotSupportedErrF.code || int(got.ErrorCode) != fakeNotSupportedErrF.errCode || !strings.Contains(got.Description, jsonName) {
		t.Errorf("%s: %d %d %q, want %d %d naming %s", what, got.Code, got.ErrorCode, got.Description, fakeNotSupportedErrF.code, fakeNotSupportedErrF.errCode, jsonName)
	}
}

// Stream config fields the fake honours: it implements them, or they change nothing a client
// can see on a single server (placement, compression, an asynchronous file store).
var honouredStreamFields = []string{
	"name", "description", "subjects", "retention", "max_consumers", "max_msgs", "max_bytes",
	"discard", "discard_new_per_subject", "max_age", "max_msgs_per_subject", "max_msg_size",
	"storage", "no_ack", "duplicate_window", "placement", "sealed", "deny_delete", "deny_purge",
	"allow_rollup_hdrs", "compression", "first_seq", "allow_direct", "consumer_limits", "metadata",
	"allow_msg_ttl", "subject_delete_marker_ttl", "persist_mode", "subject_transform", "republish",
	"allow_msg_counter", "mirror", "sources", "allow_msg_schedules", "allow_atomic", "allow_batched",
}

// refusedStreamFields set each field the fake refuses on a valid config; want is nats-server's
// own error where a single server refuses it too, nil for the fake's "not supported".
var refusedStreamFields = map[string]struct {
	set  func(*jetstream.StreamConfig)
	want *apiError
}{
	"num_replicas":   {func(c *jetstream.StreamConfig) { c.Replicas = 3 }, jsStreamReplicasNotSupportedErr.err()},
	"template_owner": {func(c *jetstream.StreamConfig) { c.Template = "T" }, jsInvalidJSONErr.err(`json: unknown field "template_owner"`)},
	"mirror_direct":  {func(c *jetstream.StreamConfig) { c.MirrorDirect = true }, jsStreamInvalidConfigF.err("stream has no mirror but does have mirror direct")},
}

// Consumer config fields the fake honours.
var honouredConsumerFields = []string{
	"name", "durable_name", "description", "deliver_policy", "opt_start_seq", "opt_start_time",
	"ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject", "max_waiting",
	"max_ack_pending", "headers_only", "max_batch", "max_expires", "max_bytes",
	"inactive_threshold", "mem_storage", "filter_subjects", "metadata", "deliver_subject",
	"deliver_group", "flow_control", "idle_heartbeat", "sample_freq", "rate_limit_bps", "pause_until",
	"priority_policy", "priority_groups", "priority_timeout", "replay_policy",
}

// refusedConsumerFields set each field the fake refuses on a valid pull consumer's config.
var refusedConsumerFields = map[string]struct {
	set  func(*jetstream.ConsumerConfig)
	want *apiError
}{
	"num_replicas": {func(c *jetstream.ConsumerConfig) { c.Replicas = 3 }, jsStreamReplicasNotSupportedErr.err()},
}

func TestConfigFieldsHonouredOrRefused(t *testing.T) {
	checkLists(t, "StreamConfig", fieldNames(reflect.TypeFor[jetstream.StreamConfig]()), honouredStreamFields, keys(refusedStreamFields))
	checkLists(t, "ConsumerConfig", fieldNames(reflect.TypeFor[jetstream.ConsumerConfig]()), honouredConsumerFields, keys(refusedConsumerFields))
}

func TestRefusedStreamFields(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}}); err != nil {
		t.Fatal(err)
	}
	for name, r := range refusedStreamFields {
		cfg := jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}}
		r.set(&cfg)
		_, err := js.CreateStream(ctxT(t), cfg)
		wantRefusal(t, "stream config "+name, name, err, r.want)
		// An update is refused as a create is.
		if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "U", Subjects: []string{"u.>"}}); err != nil {
			t.Fatal(err)
		}
		cfg.Name, cfg.Subjects = "U", []string{"u.>"}
		if cfg.Mirror != nil {
			cfg.Subjects = nil
		}
		_, err = js.UpdateStream(ctxT(t), cfg)
		if err == nil {
			t.Errorf("stream config %s: update accepted", name)
		}
		if err := js.DeleteStream(ctxT(t), "U"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefusedConsumerFields(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range refusedConsumerFields {
		cfg := jetstream.ConsumerConfig{Durable: "R", AckPolicy: jetstream.AckExplicitPolicy}
		r.set(&cfg)
		_, err := st.CreateConsumer(ctxT(t), cfg)
		wantRefusal(t, "consumer config "+name, name, err, r.want)
	}
	// nats-server refuses a rate limit on a pull consumer with its own error first.
	_, err = st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "P", RateLimit: 1 << 20})
	wantRefusal(t, "rate limit on a pull consumer", "", err, jsConsumerPullWithRateLimitErr.err())
}

// A request type's fields: the server's (what it reads) and nats.go's (what the client sends),
// and what the fake does with each.
type requestFields struct {
	what              string
	server, client    []string // type names in the server's and nats.go's sources
	honoured, refused []string
}

var requestTypes = []requestFields{{
	what:   "pull request",
	server: []string{"JSApiConsumerGetNextRequest"}, client: []string{"pullRequest", "nextRequest"},
	honoured: []string{"expires", "batch", "max_bytes", "no_wait", "idle_heartbeat", "group", "priority",
		"min_pending", "min_ack_pending", "id"},
}, {
	what:   "message get request",
	server: []string{"JSApiMsgGetRequest"}, client: []string{"apiMsgGetRequest"},
	// The server's message get ignores multi_last, up_to_seq and up_to_time (alone they make
	// a bad request, as on the fake).
	honoured: []string{"seq", "last_by_subj", "next_by_subj", "multi_last", "up_to_seq", "up_to_time", "start_time", "no_hdr"},
	// Batches are for direct gets: nats-server's bad request.
	refused: []string{"batch", "max_bytes"},
}, {
	what:   "direct get request",
	server: []string{"JSApiMsgGetRequest"}, client: []string{"apiMsgGetRequest"},
	honoured: []string{"seq", "last_by_subj", "next_by_subj", "batch", "max_bytes", "start_time", "multi_last",
		"up_to_seq", "up_to_time", "no_hdr"},
}, {
	what:   "purge request",
	server: []string{"JSApiStreamPurgeRequest"}, client: []string{"StreamPurgeRequest"},
	honoured: []string{"seq", "filter", "keep"},
}, {
	what:   "stream info request",
	server: []string{"JSApiStreamInfoRequest"}, client: []string{"streamInfoRequest"},
	honoured: []string{"offset", "deleted_details", "subjects_filter"},
}, {
	what:   "stream names and list request",
	server: []string{"JSApiStreamNamesRequest", "JSApiStreamListRequest"}, client: []string{"streamsRequest"},
	honoured: []string{"offset", "subject"},
}, {
	what:   "consumer names and list request",
	server: []string{"JSApiConsumersRequest"}, client: []string{"apiPagedRequest"},
	honoured: []string{"offset"},
}, {
	what:   "message delete request",
	server: []string{"JSApiMsgDeleteRequest"}, client: []string{"msgDeleteRequest"},
	honoured: []string{"seq", "no_erase"},
}, {
	what:   "consumer pause request",
	server: []string{"JSApiConsumerPauseRequest"}, client: []string{"consumerPauseRequest"},
	honoured: []string{"pause_until"},
}, {
	what:   "consumer reset request",
	server: []string{"JSApiConsumerResetRequest"}, client: []string{"consumerResetRequest"},
	honoured: []string{"seq"},
}, {
	what:   "consumer create request",
	server: []string{"CreateConsumerRequest"}, client: []string{"createConsumerRequest"},
	honoured: []string{"stream_name", "config", "action", "pedantic"},
}}

func TestRequestFieldsHonouredOrRefused(t *testing.T) {
	srv := filepath.Join(moduleDir(t, "github.com/nats-io/nats-server/v2"), "server")
	cl := moduleDir(t, "github.com/nats-io/nats.go")
	serverSrc := []string{filepath.Join(srv, "jetstream_api.go"), filepath.Join(srv, "consumer.go")}
	clientSrc := []string{filepath.Join(cl, "jetstream", "pull.go"), filepath.Join(cl, "jetstream", "stream.go"),
		filepath.Join(cl, "jetstream", "jetstream.go"), filepath.Join(cl, "jetstream", "consumer.go"), filepath.Join(cl, "js.go")}
	for _, rt := range requestTypes {
		var fields []string
		for _, typ := range rt.server {
			fields = append(fields, sourceFieldNames(t, typ, serverSrc...)...)
		}
		for _, typ := range rt.client {
			for _, f := range sourceFieldNames(t, typ, clientSrc...) {
				if !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		}
		slices.Sort(fields)
		checkLists(t, rt.what, slices.Compact(fields), rt.honoured, rt.refused)
	}
	// A stream create or update request is a stream config and pedantic.
	var fields []string
	for _, f := range sourceFieldNames(t, "StreamConfigRequest", filepath.Join(srv, "stream.go")) {
		if !slices.Contains(fieldNames(reflect.TypeFor[jetstream.StreamConfig]()), f) {
			fields = append(fields, f)
		}
	}
	checkLists(t, "stream create request beyond the config", fields, []string{"pedantic"}, nil)
}

// requestStatus sends body to subj and returns the answer's status and description.
func requestStatus(t *testing.T, nc *nats.Conn, subj, body string) (string, string) {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", subj, body, err)
	}
	return m.Header.Get("Status"), m.Header.Get("Description")
}

func requestAPIError(t *testing.T, nc *nats.Conn, subj, body string) *apiError {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", subj, body, err)
	}
	var resp apiHead
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == nil {
		t.Fatalf("%s %s: %q, want an API error", subj, body, m.Data)
	}
	return resp.Error
}

func TestRefusedRequestFields(t *testing.T) {
	nc := coverageServer(t)
	values := map[string]string{
		"min_pending": `1`, "min_ack_pending": `1`, "id": `"pin"`, "batch": `2`, "max_bytes": `100`,
		"start_time": `"2020-01-01T00:00:00Z"`, "no_hdr": `true`, "multi_last": `["s.x"]`,
		"up_to_seq": `1`, "up_to_time": `"2030-01-01T00:00:00Z"`,
	}
	for _, rt := range requestTypes {
		for _, f := range rt.refused {
			v, ok := values[f]
			if !ok {
				t.Fatalf("%s: no value for %s", rt.what, f)
			}
			switch rt.what {
			case "pull request":
				code, desc := requestStatus(t, nc, "$JS.API.CONSUMER.MSG.NEXT.S.C", `{"no_wait":true,"`+f+`":`+v+`}`)
				if code != "400" || !strings.HasPrefix(desc, "Bad Request - Not a ") {
					t.Errorf("pull request %s: %s %q, want the server's 400 bad request", f, code, desc)
				}
			case "message get request":
				e := requestAPIError(t, nc, "$JS.API.STREAM.MSG.GET.S", `{"seq":1,"`+f+`":`+v+`}`)
				if f == "batch" || f == "max_bytes" {
					if *e != *jsBadRequestErr.err() {
						t.Errorf("message get %s: %+v, want the server's bad request", f, e)
					}
				} else if e.Code != fakeNotSupportedErrF.code || !strings.Contains(e.Description, f) {
					t.Errorf("message get %s: %+v, want not supported naming the field", f, e)
				}
			default:
				t.Errorf("%s: no check for refused field %s", rt.what, f)
			}
		}
	}
}

// The endpoints the fake answers only with errors take any body and answer one JSON document.
func TestUnsupportedEndpointsTakeAnyBody(t *testing.T) {
	s := Run(t, WithoutListener())
	nc := inproc(t, s)
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: "C"}); err != nil {
		t.Fatal(err)
	}
	bodies := []string{"", " ", "{", "{}", "null", "[]", "7", `{"config":null}`, `{"config":{"name":"S.x"}}`,
		`{"pause_until":"x"}`, `{"pause_until":"2999-01-01T00:00:00Z"}`, `{"group":1}`, `{"group":"` + strings.Repeat("g", 20) + `"}`,
		`{"deliver_subject":"a b"}`, `{"seq":-1}`, `{"config":{"name":"R","replicas":5}}`}
	for _, subj := range []string{"STREAM.SNAPSHOT.S", "STREAM.SNAPSHOT.X", "STREAM.RESTORE.S", "STREAM.RESTORE.R",
		"CONSUMER.PAUSE.S.C", "CONSUMER.RESET.S.C", "STREAM.LEADER.STEPDOWN.S"} {
		for _, body := range bodies {
			m, err := nc.Request("$JS.API."+subj, []byte(body), 5*time.Second)
			if err != nil {
				t.Errorf("%s %q: %v", subj, body, err)
				continue
			}
			var resp apiHead
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Type == "" {
				t.Errorf("%s %q: answer %q is not an API response", subj, body, m.Data)
			}
		}
	}
	// Afterwards the stream and its consumer are as they were.
	if _, err := st.Consumer(ctxT(t), "C"); err != nil {
		t.Fatal(err)
	}
}

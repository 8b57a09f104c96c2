package conformance

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Direct gets ($JS.API.DIRECT.GET.<stream>[.<subject>]) answered as nats-server answers them:
// the status lines of its errors, batches, multi_last. The helpers start with "ts", as those of
// js_truth_stream_test.go.

// tsDirect sends a raw direct get and returns the status and description of the answer ("" for
// a message), with its payload.
func tsDirect(t *testing.T, env *natstest.Env, subj, body string) (status, desc, data string) {
	t.Helper()
	m, err := env.Conn().Request(subj, []byte(body), patience)
	if err != nil {
		t.Fatalf("direct get on %s with %q: %v", subj, body, err)
	}
	return m.Header.Get("Status"), m.Header.Get("Description"), string(m.Data)
}

// tsDirectStream is a stream with direct gets on, holding "one" on x (seq 1) and "two" on y.
func tsDirectStream(t *testing.T, env *natstest.Env) {
	t.Helper()
	spStream(t, env, jetstream.StreamConfig{Name: "DG", Subjects: []string{"x", "y"}, AllowDirect: true})
	spPub(t, env, "x", "one")
	spPub(t, env, "y", "two")
}

type tsDirectCase struct {
	subj, body         string
	status, desc, data string
}

func tsDirectCases(t *testing.T, env *natstest.Env, cases []tsDirectCase) {
	t.Helper()
	for _, c := range cases {
		status, desc, data := tsDirect(t, env, c.subj, c.body)
		if status != c.status || desc != c.desc || data != c.data {
			t.Errorf("%s with %q: status %q %q data %q, want %q %q %q", c.subj, c.body, status, desc, data, c.status, c.desc, c.data)
		}
	}
}

// TestJSTruthDirectGetEmptyRequest: nats-server answers "408 Empty Request" to a direct get that
// asks for nothing, whether its body is empty, {} or null; the legacy API's GetMsg and
// GetLastMsg with DirectGet and nothing to ask report it as "nats: Empty Request".
func TestJSTruthDirectGetEmptyRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		tsDirectCases(t, env, []tsDirectCase{
			{"$JS.API.DIRECT.GET.DG", "", "408", "Empty Request", ""},
			{"$JS.API.DIRECT.GET.DG", "{}", "408", "Empty Request", ""},
			{"$JS.API.DIRECT.GET.DG", "null", "408", "Empty Request", ""},
		})
		js, err := env.Conn().JetStream()
		if err != nil {
			t.Fatal(err)
		}
		_, err = js.GetMsg("DG", 0, nats.DirectGet())
		wantErrText(t, err, "nats: Empty Request")
		_, err = js.GetLastMsg("DG", "", nats.DirectGet())
		wantErrText(t, err, "nats: Empty Request")
	})
}

// TestJSTruthDirectGetMalformed: a body that is not a get request's JSON gets "408 Malformed
// Request" from nats-server, on DIRECT.GET.<stream> and on DIRECT.GET.<stream>.<subject>.
func TestJSTruthDirectGetMalformed(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		tsDirectCases(t, env, []tsDirectCase{
			{"$JS.API.DIRECT.GET.DG", "{bad", "408", "Malformed Request", ""},
			{"$JS.API.DIRECT.GET.DG", `{"seq":"1"}`, "408", "Malformed Request", ""},
			{"$JS.API.DIRECT.GET.DG.x", "{bad", "408", "Malformed Request", ""},
		})
	})
}

// TestJSTruthDirectGetLastBySubjectBody: DIRECT.GET.<stream>.<subject> takes a body too:
// nats-server serves the last message for an empty JSON object, and answers "408 Bad Request"
// only to fields that make no sense there.
func TestJSTruthDirectGetLastBySubjectBody(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		tsDirectCases(t, env, []tsDirectCase{
			{"$JS.API.DIRECT.GET.DG.x", "", "", "", "one"},
			{"$JS.API.DIRECT.GET.DG.x", "{}", "", "", "one"},
			{"$JS.API.DIRECT.GET.DG.y", `{"no_hdr":false}`, "", "", "two"},
			{"$JS.API.DIRECT.GET.DG.x", `{"seq":1}`, "408", "Bad Request", ""},
			{"$JS.API.DIRECT.GET.DG.x", `{"last_by_subj":"x"}`, "408", "Bad Request", ""},
		})
	})
}

// TestJSTruthDirectGetAnswers pins the other answers, which the fake already gave as nats-server
// does: not found (404), conflicting fields (408 Bad Request).
func TestJSTruthDirectGetAnswers(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		tsDirectCases(t, env, []tsDirectCase{
			{"$JS.API.DIRECT.GET.DG", `{"seq":99}`, "404", "Message Not Found", ""},
			{"$JS.API.DIRECT.GET.DG", `{"last_by_subj":"nope"}`, "404", "Message Not Found", ""},
			{"$JS.API.DIRECT.GET.DG", `{"seq":1,"last_by_subj":"x"}`, "408", "Bad Request", ""},
			{"$JS.API.DIRECT.GET.DG", `{"next_by_subj":"x","last_by_subj":"x"}`, "408", "Bad Request", ""},
			{"$JS.API.DIRECT.GET.DG", `{"next_by_subj":"y","seq":1}`, "", "", "two"},
			{"$JS.API.DIRECT.GET.DG.nope", "", "404", "Message Not Found", ""},
		})
	})
}

// TestJSTruthDirectGetNoHeaders: with no_hdr, nats-server sends the payload alone, without the
// stored headers or its own Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp.
func TestJSTruthDirectGetNoHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		m, err := env.Conn().Request("$JS.API.DIRECT.GET.DG", []byte(`{"seq":1,"no_hdr":true}`), patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != "one" || len(m.Header) != 0 {
			t.Errorf("no_hdr: data %q headers %v, want \"one\" and no headers", m.Data, m.Header)
		}
	})
}

// TestJSTruthDirectGetRequiredAPILevel: a direct get whose Nats-Required-Api-Level is above the
// server's (or not a number) gets "412 Required Api Level" from nats-server, before anything
// else is looked at; a level the server has is served.
func TestJSTruthDirectGetRequiredAPILevel(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsDirectStream(t, env)
		for _, c := range []struct{ subj, level, body, status, desc, data string }{
			{"$JS.API.DIRECT.GET.DG", "1000", `{"seq":1}`, "412", "Required Api Level", ""},
			{"$JS.API.DIRECT.GET.DG", "x", "", "412", "Required Api Level", ""},
			{"$JS.API.DIRECT.GET.DG.y", "1000", "", "412", "Required Api Level", ""},
			{"$JS.API.DIRECT.GET.DG", "1", `{"seq":1}`, "", "", "one"},
		} {
			m := &nats.Msg{Subject: c.subj, Data: []byte(c.body), Header: nats.Header{"Nats-Required-Api-Level": {c.level}}}
			r, err := env.Conn().RequestMsg(m, patience)
			if err != nil {
				t.Fatalf("%s level %s: %v", c.subj, c.level, err)
			}
			if s, d := r.Header.Get("Status"), r.Header.Get("Description"); s != c.status || d != c.desc || string(r.Data) != c.data {
				t.Errorf("%s level %s: %q %q data %q, want %q %q %q", c.subj, c.level, s, d, r.Data, c.status, c.desc, c.data)
			}
		}
	})
}

// tsDirectAll sends a raw direct get and sums up each answer, reading until a status message
// (EOB, 404, 408, ...) or, for a request that is not a batch, the one message.
func tsDirectAll(t *testing.T, env *natstest.Env, subj, body string, batch bool) []string {
	t.Helper()
	nc := env.Conn()
	inbox := nats.NewInbox()
	sub := subSync(t, nc, inbox)
	if err := nc.PublishRequest(subj, inbox, []byte(body)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		m := next(t, sub)
		h := m.Header
		out = append(out, fmt.Sprintf("%s %s seq=%s np=%s last=%s upto=%s hdrs=%d data=%s",
			h.Get("Status"), h.Get("Description"), h.Get("Nats-Sequence"), h.Get("Nats-Num-Pending"),
			h.Get("Nats-Last-Sequence"), h.Get("Nats-UpTo-Sequence"), len(h), m.Data))
		if h.Get("Status") != "" || !batch {
			return out
		}
	}
}

// tsBatchStream is a stream with direct gets on, holding x, y, x, y, x with data 1 to 5.
func tsBatchStream(t *testing.T, env *natstest.Env) {
	t.Helper()
	spStream(t, env, jetstream.StreamConfig{Name: "DB", Subjects: []string{"x", "y"}, AllowDirect: true})
	for i, subj := range []string{"x", "y", "x", "y", "x"} {
		spPub(t, env, subj, fmt.Sprint(i+1))
	}
}

func tsDirectAllCases(t *testing.T, env *natstest.Env, cases []struct {
	body  string
	batch bool
	want  []string
}) {
	t.Helper()
	for _, c := range cases {
		if d := cmp.Diff(c.want, tsDirectAll(t, env, "$JS.API.DIRECT.GET.DB", c.body, c.batch)); d != "" {
			t.Errorf("direct get %s (-want +got):\n%s", c.body, d)
		}
	}
}

// TestJSTruthDirectGetBatch: nats-server honours batch (with seq or next_by_subj), max_bytes,
// start_time and no_hdr in a direct get: each message carries Nats-Num-Pending and
// Nats-Last-Sequence, and an EOB status ends the batch.
func TestJSTruthDirectGetBatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		tsDirectAllCases(t, env, []struct {
			body  string
			batch bool
			want  []string
		}{
			{`{"seq":2,"batch":2}`, true, []string{
				"  seq=2 np=3 last=0 upto= hdrs=6 data=2",
				"  seq=3 np=2 last=2 upto= hdrs=6 data=3",
				"204 EOB seq= np=2 last=3 upto= hdrs=4 data="}},
			{`{"seq":2,"next_by_subj":"x","batch":5}`, true, []string{
				"  seq=3 np=1 last=0 upto= hdrs=6 data=3",
				"  seq=5 np=0 last=3 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto= hdrs=4 data="}},
			{`{"seq":1,"batch":3,"max_bytes":3}`, true, []string{
				"  seq=1 np=4 last=0 upto= hdrs=6 data=1",
				"  seq=2 np=3 last=1 upto= hdrs=6 data=2",
				"204 EOB seq= np=3 last=2 upto= hdrs=4 data="}},
			{`{"seq":1,"batch":2,"no_hdr":true}`, true, []string{
				"  seq= np= last= upto= hdrs=0 data=1",
				"  seq= np= last= upto= hdrs=0 data=2",
				"204 EOB seq= np=5 last=2 upto= hdrs=4 data="}},
			{`{"seq":9,"batch":2}`, true, []string{"404 Message Not Found seq= np= last= upto= hdrs=2 data="}},
			{`{"start_time":"2000-01-01T00:00:00Z"}`, false, []string{"  seq=1 np= last= upto= hdrs=4 data=1"}},
			{`{"start_time":"2000-01-01T00:00:00Z","batch":1,"next_by_subj":"y"}`, true, []string{
				"  seq=2 np=1 last=0 upto= hdrs=6 data=2",
				"204 EOB seq= np=1 last=2 upto= hdrs=4 data="}},
			{`{"start_time":"2100-01-01T00:00:00Z"}`, false, []string{"404 Message Not Found seq= np= last= upto= hdrs=2 data="}},
		})
	})
}

// TestJSTruthDirectGetMultiLast: with multi_last, nats-server sends the last message of each
// matching subject (up to up_to_seq or up_to_time, from seq on, at most batch), oldest first, and
// an EOB naming the sequence it looked up to; none matching is "404 No Results".
func TestJSTruthDirectGetMultiLast(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		tsDirectAllCases(t, env, []struct {
			body  string
			batch bool
			want  []string
		}{
			{`{"multi_last":["x","y"]}`, true, []string{
				"  seq=4 np=1 last=0 upto= hdrs=6 data=4",
				"  seq=5 np=0 last=4 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="}},
			{`{"multi_last":[">"],"up_to_seq":3}`, true, []string{
				"  seq=2 np=1 last=0 upto= hdrs=6 data=2",
				"  seq=3 np=0 last=2 upto= hdrs=6 data=3",
				"204 EOB seq= np=0 last=3 upto=3 hdrs=5 data="}},
			{`{"multi_last":["x","y"],"batch":1}`, true, []string{
				"  seq=4 np=1 last=0 upto= hdrs=6 data=4",
				"204 EOB seq= np=1 last=4 upto=5 hdrs=5 data="}},
			{`{"multi_last":[">"],"seq":5}`, true, []string{
				"  seq=5 np=0 last=0 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="}},
			{`{"multi_last":[">"],"up_to_time":"2100-01-01T00:00:00Z"}`, true, []string{
				"  seq=4 np=1 last=0 upto= hdrs=6 data=4",
				"  seq=5 np=0 last=4 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="}},
			{`{"multi_last":[">"],"up_to_time":"2000-01-01T00:00:00Z"}`, true, []string{"404 No Results seq= np= last= upto= hdrs=2 data="}},
			{`{"multi_last":["z"]}`, true, []string{"404 No Results seq= np= last= upto= hdrs=2 data="}},
		})
	})
}

// TestJSTruthDirectGetConflicts: nats-server refuses with "408 Bad Request" the direct gets
// whose fields cannot go together.
func TestJSTruthDirectGetConflicts(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		bad := "408 Bad Request seq= np= last= upto= hdrs=2 data="
		for _, body := range []string{
			`{"last_by_subj":"x","batch":2}`,
			`{"seq":1,"start_time":"2000-01-01T00:00:00Z"}`,
			`{"last_by_subj":"x","start_time":"2000-01-01T00:00:00Z"}`,
			`{"next_by_subj":"x","multi_last":["x"]}`,
			`{"last_by_subj":"x","multi_last":["x"]}`,
			`{"multi_last":["x"],"up_to_seq":1,"up_to_time":"2000-01-01T00:00:00Z"}`,
		} {
			if d := cmp.Diff([]string{bad}, tsDirectAll(t, env, "$JS.API.DIRECT.GET.DB", body, true)); d != "" {
				t.Errorf("direct get %s (-want +got):\n%s", body, d)
			}
		}
		if d := cmp.Diff([]string{bad}, tsDirectAll(t, env, "$JS.API.DIRECT.GET.DB.x", `{"batch":2}`, true)); d != "" {
			t.Errorf("direct get of the last on x with a batch (-want +got):\n%s", d)
		}
	})
}

package fake

import (
	"encoding/json"
	"math/big"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jsFuzzSubjects are the API subjects FuzzJetStreamAPI sends bodies to, and whether each parses
// its body as JSON (and so must answer malformed JSON with the server's invalid JSON error).
var jsFuzzSubjects = []struct {
	subj string
	json bool
}{
	{"$JS.API.STREAM.CREATE.S2", true},
	{"$JS.API.STREAM.UPDATE.S", true},
	{"$JS.API.STREAM.INFO.S", true},
	{"$JS.API.STREAM.PURGE.S", true},
	{"$JS.API.STREAM.NAMES", true},
	{"$JS.API.STREAM.LIST", true},
	{"$JS.API.STREAM.MSG.GET.S", true},
	{"$JS.API.STREAM.MSG.DELETE.S", true},
	{"$JS.API.CONSUMER.CREATE.S.c2", true},
	{"$JS.API.CONSUMER.CREATE.S.c3.s.>", true},
	{"$JS.API.CONSUMER.NAMES.S", true},
	{"$JS.API.CONSUMER.LIST.S", true},
	{"$JS.API.CONSUMER.INFO.S.C", false},
	{"$JS.API.DIRECT.GET.S", false},
	{"$JS.API.CONSUMER.MSG.NEXT.S.C", false},
	{"$JS.API.CONSUMER.PAUSE.S.C", true},
	{"$JS.API.CONSUMER.UNPIN.S.C", false},
	{"$JS.API.CONSUMER.RESET.S.C", true},
	{"$JS.API.STREAM.SNAPSHOT.S", false},
	{"$JS.API.STREAM.RESTORE.S2", false},
	{"$JS.API.STREAM.LEADER.STEPDOWN.S", false},
	{"$JS.API.DIRECT.GET.S.s.a", false},
	{"$JS.API.CONSUMER.DURABLE.CREATE.S.c4", true},
	{"$JS.ACK.S.C.1.1.1.0.0", false},
	{"s.fuzz", false},
	{"c.incr", false}, // the body is the Nats-Incr header of a publish to counter stream K
	{"$JS.API.DIRECT.GET.K", false},
	{"q.sched", false}, // the body is the schedule headers of a publish to schedule stream Q
	{"a.batch", false}, // the body is the header blocks of an atomic batch's messages to stream A
}

// jsFuzzIncr is the index of c.incr in jsFuzzSubjects, jsFuzzSchedule that of q.sched and
// jsFuzzBatch that of a.batch.
const (
	jsFuzzIncr     = 25
	jsFuzzSchedule = 27
	jsFuzzBatch    = 28
)

// FuzzJetStreamAPI sends arbitrary bodies to the JetStream API. The server must never fail:
// every JSON API answers with one JSON document, malformed JSON gets nats-server's invalid JSON
// error (err_code 10025), and afterwards the stream and its consumer still work.
func FuzzJetStreamAPI(f *testing.F) {
	for i, s := range jsFuzzSubjects {
		f.Add(uint8(i), []byte(""))
		f.Add(uint8(i), []byte("{"))
		f.Add(uint8(i), []byte("{}"))
		f.Add(uint8(i), []byte(" "))
		f.Add(uint8(i), []byte(`{"offset":"x"}`))
		f.Add(uint8(i), []byte("-NAK {\"delay\": 1}"))
		_ = s
	}
	f.Add(uint8(0), []byte(`{"name":"S2","subjects":["t.>"],"max_msgs":-5,"retention":"workqueue"}`))
	f.Add(uint8(0), []byte(`{"name":"S2","subjects":[">"]}`))
	f.Add(uint8(1), []byte(`{"name":"S","subjects":["s.>"],"max_msgs_per_subject":1,"max_age":1}`))
	f.Add(uint8(3), []byte(`{"filter":"s.*","keep":1}`))
	f.Add(uint8(6), []byte(`{"last_by_subj":"s.>"}`))
	f.Add(uint8(8), []byte(`{"stream_name":"S","config":{"deliver_policy":"last_per_subject","filter_subjects":["s.a","s.>"]}}`))
	f.Add(uint8(8), []byte(`{"stream_name":"S","config":{"deliver_subject":"d.>","idle_heartbeat":1}}`))
	f.Add(uint8(14), []byte(`{"batch":-1,"expires":1,"idle_heartbeat":5,"max_bytes":1}`))
	f.Add(uint8(14), []byte(`7`))
	f.Add(uint8(8), []byte(`{"stream_name":"S","config":{"name":"c2","priority_policy":"pinned_client","priority_groups":["A"],"priority_timeout":1}}`))
	f.Add(uint8(8), []byte(`{"stream_name":"S","config":{"name":"c2","priority_policy":"overflow","priority_groups":["A","b/=_-"]}}`))
	f.Add(uint8(14), []byte(`{"batch":2,"group":"A","min_pending":1,"min_ack_pending":1,"id":"x","priority":3}`))
	f.Add(uint8(13), []byte(`{"seq":1,"batch":3,"max_bytes":10}`))
	f.Add(uint8(13), []byte(`{"multi_last":["s.>"],"up_to_seq":5,"batch":2}`))
	f.Add(uint8(13), []byte(`{"start_time":"2000-01-01T00:00:00Z","no_hdr":true}`))
	f.Add(uint8(15), []byte(`{"pause_until":"2100-01-01T00:00:00Z"}`))
	f.Add(uint8(16), []byte(`{"group":"g"}`))
	f.Add(uint8(17), []byte(`{"seq":1}`))
	f.Add(uint8(18), []byte(`{"deliver_subject":"snap"}`))
	f.Add(uint8(19), []byte(`{"config":{"name":"S2"},"state":{}}`))
	for _, incr := range []string{"1", "-1", "+0", "123456789012345678901234567890", "-99999999999999999999999", "x", "1.5", "0x1", "", "0 ", "\t7\t", " - 1"} {
		f.Add(uint8(jsFuzzIncr), []byte(incr))
	}
	for _, get := range []string{`{"seq":1,"batch":-1}`, `{"multi_last":["c.>"],"batch":1,"max_bytes":1}`, `{"next_by_subj":"c.*","batch":2,"up_to_time":"2000-01-01T00:00:00Z"}`, `{"SEQ":1,"x":[]}`} {
		f.Add(uint8(jsFuzzIncr+1), []byte(get))
	}
	for _, sched := range []string{
		"@at 2030-01-01T00:00:05Z\nq.out",
		"@every 1s\nq.out\nq.src\n5s\n\nsub",
		"*/2 * * * * *\nq.out\n\n1m\nEurope/Amsterdam",
		"@daily\nq.out\n\n\nAsia/Kolkata",
		"0 0 0 30 2 *\nq.out",
		"@every 500ms\nq.out",
		"@at 2030-01-01T00:00:05Z\nq.*\nq.>\n0\nUTC\nall",
		"\n\n\n\n\n\npurge\nq.sched",
		"\n\n\n\n\n\npurge\nq.other",
		"\n\n\n\n\n\n2030-01-01T00:00:00Z\nq.x",
		"\n\n\n\nNowhere/Special",
		"@hourly\nq.sched",
		"5/15 1-3 * ? JAN-mar SUN,sat\nq.out\nq.src\nnever",
	} {
		f.Add(uint8(jsFuzzSchedule), []byte(sched))
	}
	for _, batch := range jsFuzzBatchSeeds {
		f.Add(uint8(jsFuzzBatch), []byte(batch))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		if len(body) > 1<<14 {
			return
		}
		target := jsFuzzSubjects[int(which)%len(jsFuzzSubjects)]
		if int(which)%len(jsFuzzSubjects) == jsFuzzSchedule {
			fuzzSchedule(t, body)
			return
		}
		if int(which)%len(jsFuzzSubjects) == jsFuzzBatch {
			fuzzBatch(t, body)
			return
		}
		s, err := NewServer(WithoutListener())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.CreateStream(jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, AllowDirect: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StoreMsg(&nats.Msg{Subject: "s.a", Data: []byte("one")}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateStream(jetstream.StreamConfig{Name: "K", Subjects: []string{"c.>"}, AllowMsgCounter: true, AllowDirect: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StoreMsg(&nats.Msg{Subject: "c.incr", Header: nats.Header{"Nats-Incr": {"2"}}}); err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx := t.Context()
		st, err := js.Stream(ctx, "S")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C"}); err != nil {
			t.Fatal(err)
		}

		// A JSON API must answer; the others may wait (a pull with no messages) or stay silent,
		// and need not hold the fuzzer up.
		wait := 5 * time.Second
		if !target.json {
			wait = 100 * time.Millisecond
		}
		if int(which)%len(jsFuzzSubjects) == jsFuzzIncr {
			fuzzIncr(t, nc, body)
			return
		}
		reply, err := nc.Request(target.subj, body, wait)
		if target.json {
			if err != nil {
				t.Fatalf("%s %q: no answer: %v", target.subj, body, err)
			}
			var resp struct {
				Type  string              `json:"type"`
				Error *jetstream.APIError `json:"error"`
			}
			if err := json.Unmarshal(reply.Data, &resp); err != nil {
				t.Fatalf("%s %q: answer %q is not JSON: %v", target.subj, body, reply.Data, err)
			}
			if !strings.HasPrefix(resp.Type, "io.nats.jetstream.api.v1.") {
				t.Fatalf("%s %q: answer %q has no type", target.subj, body, reply.Data)
			}
			var anything any
			// NAMES, LIST and PAUSE read only a body that opens an object or array, as nats-server
			// does.
			paged := strings.HasSuffix(target.subj, "NAMES") || strings.HasSuffix(target.subj, "LIST") ||
				strings.Contains(target.subj, ".NAMES.") || strings.Contains(target.subj, ".LIST.") ||
				strings.Contains(target.subj, ".PAUSE.")
			if decodeRequest(body, &anything) != nil && (!paged || objectOrArray(body)) {
				if resp.Error == nil || resp.Error.ErrorCode != 10025 || !strings.HasPrefix(resp.Error.Description, "invalid JSON: ") {
					t.Fatalf("%s %q: malformed JSON answered with %q, want err_code 10025", target.subj, body, reply.Data)
				}
			}
		}

		// the server still works: the stream answers, takes a message and delivers it. The
		// checks use a connection of their own: a message a pull request gets after its 100ms
		// carries the stream's subject, which nats.go hands to a connection's only pending
		// request, whichever that is.
		nc2, err := nats.Connect("", nats.InProcessServer(s))
		if err != nil {
			t.Fatal(err)
		}
		defer nc2.Close()
		js, _ = jetstream.New(nc2)
		if _, err := js.AccountInfo(ctx); err != nil {
			t.Fatalf("after %s %q: account info: %v", target.subj, body, err)
		}
		if _, err := js.Publish(ctx, "s.after", []byte("two")); err != nil {
			if _, ierr := js.Stream(ctx, "S"); ierr != nil {
				t.Fatalf("after %s %q: stream: %v", target.subj, body, ierr)
			}
		}
		if _, err := js.Stream(ctx, "S"); err != nil {
			t.Fatalf("after %s %q: stream info: %v", target.subj, body, err)
		}
	})
}

// fuzzIncr publishes an increment of body to counter stream K: the answer is an ack with the
// new total, a whole number, or one of the server's errors; the counter still counts after.
func fuzzIncr(t *testing.T, nc *nats.Conn, body []byte) {
	incr := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, string(body))
	ack := func(incr string) (string, *jetstream.APIError) {
		m := nats.NewMsg("c.incr")
		m.Header.Set("Nats-Incr", incr)
		r, err := nc.RequestMsg(m, 5*time.Second)
		if err != nil {
			t.Fatalf("increment %q: %v", incr, err)
		}
		var a struct {
			Val   string              `json:"val"`
			Error *jetstream.APIError `json:"error"`
		}
		if err := json.Unmarshal(r.Data, &a); err != nil {
			t.Fatalf("increment %q: ack %q: %v", incr, r.Data, err)
		}
		return a.Val, a.Error
	}
	val, e := ack(incr)
	// nats.go trims the value's ASCII spaces and tabs before it sends it.
	n, ok := new(big.Int).SetString(textproto.TrimString(incr), 10)
	switch {
	case e == nil && (!ok || val != n.Add(n, big.NewInt(2)).String()):
		t.Fatalf("increment %q: total %q, want 2 plus it", incr, val)
	case e != nil && ok:
		t.Fatalf("increment %q: %+v", incr, e)
	}
	base := val
	if e != nil {
		base = "2"
	}
	after, e := ack("1")
	want, _ := new(big.Int).SetString(base, 10)
	if e != nil || want == nil || after != want.Add(want, big.NewInt(1)).String() {
		t.Fatalf("after increment %q: total %q %v, want one more than %s", incr, after, e, base)
	}
}

// jsFuzzScheduleHeaders are the headers fuzzSchedule sets from the lines of its body, in order.
var jsFuzzScheduleHeaders = []string{
	"Nats-Schedule", "Nats-Schedule-Target", "Nats-Schedule-Source", "Nats-Schedule-TTL",
	"Nats-Schedule-Time-Zone", "Nats-Schedule-Rollup", "Nats-Schedule-Next", "Nats-Scheduler",
}

// fuzzSchedule publishes a message to schedule stream Q whose schedule headers are the lines
// of body (an empty line leaves its header out), on a frozen clock: the answer is an ack or an
// API error, the clock moving on fires what was scheduled without failing, and the stream
// still takes and keeps messages after.
func fuzzSchedule(t *testing.T, body []byte) {
	s, err := NewServer(WithoutListener(), WithFrozenClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateStream(jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"}, AllowMsgSchedules: true, AllowMsgTTL: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreMsg(&nats.Msg{Subject: "q.src", Header: nats.Header{"X-Src": {"1"}}, Data: []byte("src")}); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	m := nats.NewMsg("q.sched")
	m.Data = []byte("body")
	for i, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if i < len(jsFuzzScheduleHeaders) && line != "" && !strings.ContainsAny(line, "\r\n") {
			m.Header.Set(jsFuzzScheduleHeaders[i], line)
		}
	}
	r, err := nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatalf("schedule %q: %v", body, err)
	}
	var ack struct {
		Seq   uint64              `json:"seq"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &ack); err != nil || (ack.Error == nil) == (ack.Seq == 0) {
		t.Fatalf("schedule %q: answer %q", body, r.Data)
	}
	s.FastForward(3 * time.Second)
	s.FastForward(time.Hour)
	js, _ := jetstream.New(nc)
	a, err := js.Publish(t.Context(), "q.after", []byte("x"))
	if err != nil {
		t.Fatalf("after schedule %q: publish: %v", body, err)
	}
	if _, err := js.Stream(t.Context(), "Q"); err != nil || a.Sequence == 0 {
		t.Fatalf("after schedule %q: stream: %v", body, err)
	}
}

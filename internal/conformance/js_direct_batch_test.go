package conformance

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Direct get batches beyond js_truth_direct_test.go's: what nats-server ignores, where a batch
// stops, deleted messages, stored headers, negative sizes, the multi_last limits. Each answer is
// summed up by tsDirectAll; helpers here start with "db".

// dbCases runs direct get cases on stream DB of tsBatchStream (x, y, x, y, x with data 1 to 5).
func dbCases(t *testing.T, env *natstest.Env, cases map[string][]string) {
	t.Helper()
	for body, want := range cases {
		// One message without a status line is the answer to a get that is not a batch.
		batch := len(want) > 1 || want[0][0] != ' '
		if d := cmp.Diff(want, tsDirectAll(t, env, "$JS.API.DIRECT.GET.DB", body, batch)); d != "" {
			t.Errorf("direct get %s (-want +got):\n%s", body, d)
		}
	}
}

const (
	dbNotFound  = "404 Message Not Found seq= np= last= upto= hdrs=2 data="
	dbNoResults = "404 No Results seq= np= last= upto= hdrs=2 data="
)

// TestJSDirectBatchLenientJSON: nats-server reads a direct get's body with plain JSON decoding:
// unknown keys are ignored and keys match without regard to case.
func TestJSDirectBatchLenientJSON(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		dbCases(t, env, map[string][]string{
			`{"seq":2,"unknown":true}`: {"  seq=2 np= last= upto= hdrs=4 data=2"},
			`{"SEQ":3}`:                {"  seq=3 np= last= upto= hdrs=4 data=3"},
			`{"seq":1,"Batch":1}`: {
				"  seq=1 np=4 last=0 upto= hdrs=6 data=1",
				"204 EOB seq= np=4 last=1 upto= hdrs=4 data="},
		})
	})
}

// TestJSDirectBatchIgnoresUpTo: without multi_last nats-server ignores up_to_seq and
// up_to_time.
func TestJSDirectBatchIgnoresUpTo(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		dbCases(t, env, map[string][]string{
			`{"seq":4,"batch":5,"up_to_seq":1}`: {
				"  seq=4 np=1 last=0 upto= hdrs=6 data=4",
				"  seq=5 np=0 last=4 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto= hdrs=4 data="},
			`{"seq":5,"up_to_time":"2000-01-01T00:00:00Z"}`: {"  seq=5 np= last= upto= hdrs=4 data=5"},
		})
	})
}

// TestJSDirectBatchRunsOut: a batch larger than what is left stops at the end with an EOB; one
// that finds nothing at all is "404 Message Not Found", as is an empty stream.
func TestJSDirectBatchRunsOut(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		spStream(t, env, jetstream.StreamConfig{Name: "E", Subjects: []string{"e"}, AllowDirect: true})
		dbCases(t, env, map[string][]string{
			`{"seq":5,"batch":100}`: {
				"  seq=5 np=0 last=0 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto= hdrs=4 data="},
			`{"seq":1,"next_by_subj":"z","batch":3}`:                   {dbNotFound},
			`{"start_time":"2100-01-01T00:00:00Z","batch":2}`:          {dbNotFound},
			`{"seq":3,"next_by_subj":"y","batch":3,"no_hdr":true}`:     {"  seq= np= last= upto= hdrs=0 data=4", "204 EOB seq= np=1 last=4 upto= hdrs=4 data="},
			`{"seq":1,"next_by_subj":"*","batch":2,"max_bytes":10000}`: {"  seq=1 np=4 last=0 upto= hdrs=6 data=1", "  seq=2 np=3 last=1 upto= hdrs=6 data=2", "204 EOB seq= np=3 last=2 upto= hdrs=4 data="},
		})
		if d := cmp.Diff([]string{dbNotFound}, tsDirectAll(t, env, "$JS.API.DIRECT.GET.E", `{"seq":1,"batch":5}`, true)); d != "" {
			t.Errorf("batch on an empty stream (-want +got):\n%s", d)
		}
	})
}

// TestJSDirectBatchSkipsDeleted: a batch steps over deleted messages; a single get of a deleted
// one is not found.
func TestJSDirectBatchSkipsDeleted(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		s, err := env.JetStream().Stream(waitCtx(t), "DB")
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range []uint64{2, 3} {
			if err := s.DeleteMsg(waitCtx(t), seq); err != nil {
				t.Fatal(err)
			}
		}
		dbCases(t, env, map[string][]string{
			`{"seq":1,"batch":3}`: {
				"  seq=1 np=2 last=0 upto= hdrs=6 data=1",
				"  seq=4 np=1 last=1 upto= hdrs=6 data=4",
				"  seq=5 np=0 last=4 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto= hdrs=4 data="},
			`{"seq":2,"batch":1}`: {
				"  seq=4 np=1 last=0 upto= hdrs=6 data=4",
				"204 EOB seq= np=1 last=4 upto= hdrs=4 data="},
			`{"seq":2}`: {dbNotFound},
			`{"multi_last":["x","y"],"up_to_seq":3}`: {
				"  seq=1 np=0 last=0 upto= hdrs=6 data=1",
				"204 EOB seq= np=0 last=1 upto=3 hdrs=5 data="},
		})
	})
}

// TestJSDirectBatchNegativeSizes: a negative batch is still a batch, of nothing: only the EOB,
// with the count pending from the start; a negative max_bytes stops after the first message.
func TestJSDirectBatchNegativeSizes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		dbCases(t, env, map[string][]string{
			`{"seq":2,"batch":-1}`: {"204 EOB seq= np=4 last=0 upto= hdrs=4 data="},
			`{"seq":2,"batch":3,"max_bytes":-1}`: {
				"  seq=2 np=3 last=0 upto= hdrs=6 data=2",
				"204 EOB seq= np=3 last=2 upto= hdrs=4 data="},
			`{"multi_last":["x"],"batch":-1}`: {
				"  seq=5 np=0 last=0 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="},
			`{"seq":1,"max_bytes":1}`: {"  seq=1 np= last= upto= hdrs=4 data=1"},
		})
	})
}

// TestJSDirectBatchStoredHeaders: a batch adds the server's headers to those stored with the
// message; multi_last sends headers even with no_hdr.
func TestJSDirectBatchStoredHeaders(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "H", Subjects: []string{"h.*"}, AllowDirect: true})
		for i, subj := range []string{"h.a", "h.b"} {
			m := nats.NewMsg(subj)
			m.Data = []byte(fmt.Sprint(i + 1))
			m.Header.Set("Trace", "t")
			m.Header.Set("Other", "o")
			if _, err := env.JetStream().PublishMsg(waitCtx(t), m); err != nil {
				t.Fatal(err)
			}
		}
		for body, want := range map[string][]string{
			`{"seq":1,"batch":1}`: {"  seq=1 np=1 last=0 upto= hdrs=8 data=1", "204 EOB seq= np=1 last=1 upto= hdrs=4 data="},
			`{"multi_last":["h.*"],"no_hdr":true}`: {
				"  seq=1 np=1 last=0 upto= hdrs=8 data=1",
				"  seq=2 np=0 last=1 upto= hdrs=8 data=2",
				"204 EOB seq= np=0 last=2 upto=2 hdrs=5 data="},
			`{"multi_last":["h.a","h.*"],"max_bytes":5}`: {
				"  seq=1 np=1 last=0 upto= hdrs=8 data=1",
				"204 EOB seq= np=1 last=1 upto=2 hdrs=5 data="},
		} {
			if d := cmp.Diff(want, tsDirectAll(t, env, "$JS.API.DIRECT.GET.H", body, true)); d != "" {
				t.Errorf("direct get %s (-want +got):\n%s", body, d)
			}
		}
	})
}

// TestJSDirectBatchMultiLastFromSeq: with seq, multi_last skips the subjects whose last message
// is older, still counting them as sent; none left is an EOB alone.
func TestJSDirectBatchMultiLastFromSeq(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		tsBatchStream(t, env)
		dbCases(t, env, map[string][]string{
			`{"multi_last":["x","y"],"seq":5}`: {
				"  seq=5 np=0 last=0 upto= hdrs=6 data=5",
				"204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="},
			`{"multi_last":["x","y"],"seq":9}`:                         {"204 EOB seq= np=0 last=0 upto=5 hdrs=5 data="},
			`{"multi_last":["x"],"up_to_seq":2,"seq":2}`:               {"204 EOB seq= np=0 last=0 upto=2 hdrs=5 data="},
			`{"multi_last":["y"],"up_to_seq":1}`:                       {dbNoResults},
			`{"multi_last":["x","x",">"],"up_to_seq":4}`:               {"  seq=3 np=1 last=0 upto= hdrs=6 data=3", "  seq=4 np=0 last=3 upto= hdrs=6 data=4", "204 EOB seq= np=0 last=4 upto=4 hdrs=5 data="},
			`{"multi_last":["*"],"start_time":"2000-01-01T00:00:00Z"}`: {"  seq=4 np=1 last=0 upto= hdrs=6 data=4", "  seq=5 np=0 last=4 upto= hdrs=6 data=5", "204 EOB seq= np=0 last=5 upto=5 hdrs=5 data="},
		})
	})
}

// TestJSDirectBatchTooManyResults: multi_last answers at most 1024 subjects; more is "413 Too
// Many Results", unless up_to_seq keeps them under.
func TestJSDirectBatchTooManyResults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "M", Subjects: []string{"m.*"}, AllowDirect: true})
		nc := env.Conn()
		for i := 0; i < 1025; i++ {
			if err := nc.Publish(fmt.Sprintf("m.%d", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		spPub(t, env, "m.last", "") // after every publish before it is stored
		got := tsDirectAll(t, env, "$JS.API.DIRECT.GET.M", `{"multi_last":["m.*"]}`, true)
		if d := cmp.Diff([]string{"413 Too Many Results seq= np= last= upto= hdrs=2 data="}, got); d != "" {
			t.Errorf("1026 subjects (-want +got):\n%s", d)
		}
		got = tsDirectAll(t, env, "$JS.API.DIRECT.GET.M", `{"multi_last":["m.*"],"up_to_seq":1024,"batch":1}`, true)
		if d := cmp.Diff([]string{"  seq=1 np=1023 last=0 upto= hdrs=6 data=", "204 EOB seq= np=1023 last=1 upto=1024 hdrs=5 data="}, got); d != "" {
			t.Errorf("1024 subjects (-want +got):\n%s", d)
		}
	})
}

// TestJSDirectBatchNeedsAllowDirect: without allow_direct nobody answers a direct get.
func TestJSDirectBatchNeedsAllowDirect(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "N", Subjects: []string{"n"}})
		spPub(t, env, "n", "1")
		_, err := env.Conn().Request("$JS.API.DIRECT.GET.N", []byte(`{"seq":1,"batch":2}`), patience)
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("direct get without allow_direct: %v, want no responders", err)
		}
	})
}

// TestJSDirectBatchUpToSeqOutside: an up_to_seq past the stream's last sequence is "404 No
// Results" from nats-server's file store, which finds no block for it; its memory store looks
// up to the last and names the sequence asked for in the EOB.
func TestJSDirectBatchUpToSeqOutside(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
			name := "U" + storage.String()
			spStream(t, env, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".*"}, AllowDirect: true, Storage: storage})
			spPub(t, env, name+".a", "1")
			spPub(t, env, name+".b", "2")
			want := []string{dbNoResults}
			if storage == jetstream.MemoryStorage {
				want = []string{"  seq=1 np=1 last=0 upto= hdrs=6 data=1", "  seq=2 np=0 last=1 upto= hdrs=6 data=2", "204 EOB seq= np=0 last=2 upto=99 hdrs=5 data="}
			}
			got := tsDirectAll(t, env, "$JS.API.DIRECT.GET."+name, `{"multi_last":[">"],"up_to_seq":99}`, true)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s: up_to_seq 99 (-want +got):\n%s", storage, d)
			}
		}
	})
}

package conformance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// TestJSMalformedJSON: a JetStream API request whose body is not JSON is answered with
// err_code 10025 and the decoder's complaint; a pull request, which is not a JSON API, with a
// 400 status.
func TestJSMalformedJSON(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		s, err := js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "C"}); err != nil {
			t.Fatal(err)
		}
		nc := env.Conn()
		for _, subj := range []string{
			"$JS.API.STREAM.CREATE.T", "$JS.API.STREAM.UPDATE.S", "$JS.API.STREAM.INFO.S",
			"$JS.API.STREAM.PURGE.S", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
			"$JS.API.STREAM.MSG.GET.S", "$JS.API.STREAM.MSG.DELETE.S",
			"$JS.API.CONSUMER.CREATE.S.X", "$JS.API.CONSUMER.NAMES.S", "$JS.API.CONSUMER.LIST.S",
		} {
			for body, desc := range map[string]string{
				"{":        "invalid JSON: unexpected EOF",
				`{"name":`: "invalid JSON: unexpected EOF",
				"{x":       "invalid JSON: invalid character 'x' looking for beginning of object key string at offset 2",
				"{}}":      "invalid JSON: invalid character '}' looking for beginning of value at offset 3",
			} {
				r, err := nc.Request(subj, []byte(body), patience)
				if err != nil {
					t.Fatalf("%s %q: %v", subj, body, err)
				}
				var resp struct {
					Error *jetstream.APIError `json:"error"`
				}
				if err := json.Unmarshal(r.Data, &resp); err != nil {
					t.Fatalf("%s %q: answer %q: %v", subj, body, r.Data, err)
				}
				want := &jetstream.APIError{Code: 400, ErrorCode: 10025, Description: desc}
				if resp.Error == nil || *resp.Error != *want {
					t.Errorf("%s %q: error %+v, want %+v", subj, body, resp.Error, want)
				}
			}
		}
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.C", inbox, []byte("{")); err != nil {
			t.Fatal(err)
		}
		m, err := sub.NextMsg(patience)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get("Status") + " " + m.Header.Get("Description"); got != "400 Bad Request - unexpected end of JSON input" {
			t.Errorf("pull request with a bad body: status %q", got)
		}
	})
}

// TestJSMessageTTL: with per-message TTLs allowed, a message published with Nats-TTL is removed
// once its TTL passes, and the stream's subject delete marker takes its place: a KV key created
// with a TTL reads as gone, and a watcher sees the marker as a purge.
func TestJSMessageTTL(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		js := env.JetStream()
		kv, err := js.CreateKeyValue(waitCtx(t), jetstream.KeyValueConfig{Bucket: "ttl", LimitMarkerTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Create(waitCtx(t), "short", []byte("v"), jetstream.KeyTTL(time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(waitCtx(t), "long", []byte("w")); err != nil {
			t.Fatal(err)
		}
		if e, err := kv.Get(waitCtx(t), "short"); err != nil || string(e.Value()) != "v" {
			t.Fatalf("before the TTL: %v, %v", e, err)
		}
		env.FastForward(time.Second)
		ctx := waitCtx(t)
		for {
			_, err := kv.Get(ctx, "short")
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the key outlived its TTL: %v", err)
			}
		}
		if e, err := kv.Get(waitCtx(t), "long"); err != nil || string(e.Value()) != "w" {
			t.Fatalf("the key without a TTL: %v, %v", e, err)
		}
		s, err := js.Stream(waitCtx(t), "KV_ttl")
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.GetLastMsgForSubject(waitCtx(t), "$KV.ttl.short")
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get("Nats-Marker-Reason"); got != "MaxAge" {
			t.Errorf("marker reason %q, want MaxAge (headers %v)", got, m.Header)
		}
		if got := m.Header.Get("Nats-TTL"); got != "1s" {
			t.Errorf("marker TTL %q, want 1s", got)
		}
		if _, err := js.Publish(waitCtx(t), "$KV.ttl.x", nil, jetstream.WithMsgTTL(500*time.Millisecond)); !isAPIErr(err, 10165) {
			t.Errorf("a TTL under a second: %v, want err_code 10165", err)
		}
		plain, err := js.CreateStream(waitCtx(t), jetstream.StreamConfig{Name: "PLAIN", Subjects: []string{"plain"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = plain
		if _, err := js.Publish(waitCtx(t), "plain", nil, jetstream.WithMsgTTL(time.Minute)); !isAPIErr(err, 10166) {
			t.Errorf("a TTL on a stream without them: %v, want err_code 10166", err)
		}
	})
}

func isAPIErr(err error, code int) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && int(apiErr.ErrorCode) == code
}

package conformance

import (
	"encoding/json"
	"testing"

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

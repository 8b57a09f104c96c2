package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// auditAdvisory is the part of nats-server's API audit advisory a test can compare.
type auditAdvisory struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Time     time.Time `json:"timestamp"`
	Server   string    `json:"server"`
	Subject  string    `json:"subject"`
	Request  string    `json:"request"`
	Response string    `json:"response"`
	Client   struct {
		Host       string `json:"host"`
		ID         uint64 `json:"id"`
		Account    string `json:"acc"`
		Name       string `json:"name"`
		Lang       string `json:"lang"`
		Version    string `json:"ver"`
		Kind       string `json:"kind"`
		ClientType string `json:"client_type"`
	} `json:"client"`
}

// TestJSAPIAuditAdvisory: every API answer is followed by an audit advisory on
// $JS.EVENT.ADVISORY.API naming the subject, the request, the answer and the client that asked;
// pull requests and unanswered subjects have none.
func TestJSAPIAuditAdvisory(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		watcher := env.Connect()
		audits := subSync(t, watcher, "$JS.EVENT.ADVISORY.API")
		flush(t, watcher)
		interest(t, env, "$JS.EVENT.ADVISORY.API", 1)
		nc := env.Connect(nats.Name("caller"))
		create, err := nc.Request("$JS.API.STREAM.CREATE.S", []byte(`{"name":"S"}`), patience)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Request("$JS.API.CONSUMER.MSG.NEXT.S.NONE", nil, 100*time.Millisecond); err == nil {
			t.Fatal("a pull from a missing consumer was answered")
		}
		missing, err := nc.Request("$JS.API.STREAM.INFO.X", nil, patience)
		if err != nil {
			t.Fatal(err)
		}
		id, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		// nats-server answers info requests on a queue of their own, so the two audits may come
		// in either order.
		bySubject := map[string]auditAdvisory{}
		for range 2 {
			var got auditAdvisory
			if err := json.Unmarshal(next(t, audits).Data, &got); err != nil {
				t.Fatal(err)
			}
			bySubject[got.Subject] = got
		}
		for _, want := range []struct{ subject, request string }{
			{"$JS.API.STREAM.CREATE.S", `{"name":"S"}`},
			{"$JS.API.STREAM.INFO.X", ""},
		} {
			got := bySubject[want.subject]
			if got.Type != "io.nats.jetstream.advisory.v1.api_audit" || got.ID == "" || got.Time.IsZero() || got.Server == "" {
				t.Errorf("audit head %+v", got)
			}
			if got.Subject != want.subject || got.Request != want.request {
				t.Errorf("audit of %s %q, want %s %q", got.Subject, got.Request, want.subject, want.request)
			}
			answer := create.Data
			if want.subject == "$JS.API.STREAM.INFO.X" {
				answer = missing.Data
			}
			if got.Response != string(answer) {
				t.Errorf("audit response %s, want the answer %s", got.Response, answer)
			}
			c := got.Client
			if diff := cmp.Diff([]any{c.ID, c.Account, c.Name, c.Lang, c.Kind, c.ClientType},
				[]any{id, "$G", "caller", "go", "Client", "nats"}); diff != "" || c.Host == "" || c.Version == "" {
				t.Errorf("audit client %+v (-got +want):\n%s", c, diff)
			}
		}
		nothingMore(t, audits)
	})
}

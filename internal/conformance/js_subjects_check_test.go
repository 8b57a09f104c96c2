package conformance

import (
	"testing"

	"github.com/natskit/natskit/natstest"
)

// TestJSStreamSubjectsChecks: a stream's subjects are checked one by one in the server's order:
// valid, '>' only without acks, no overlap with the JetStream or system
// API unless without acks, and no overlap with a later subject of the same stream, each refused
// with the server's words. A token that begins with '*' counts as a wildcard in the overlap
// check, as nats-server counts it.
func TestJSStreamSubjectsChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const typ = "stream_create_response"
		for _, c := range []struct{ subjects, want string }{
			{`["a","a"]`, `subject "a" overlaps with "a"`},
			{`["a.*","a.b"]`, `subject "a.*" overlaps with "a.b"`},
			{`["a.b","a.>"]`, `subject "a.b" overlaps with "a.>"`},
			{`["x","q.*.*x","q.a.b"]`, `subject "q.*.*x" overlaps with "q.a.b"`},
			{`["a.b","b","a.b"]`, `subject "a.b" overlaps with "a.b"`},
			{`["a.>","a.b","a.>"]`, `subject "a.>" overlaps with "a.b"`},
			{`["a..b"]`, "invalid subject"},
			{`["a",">"]`, `subject "a" overlaps with ">"`},
			{`[">"]`, "capturing all subjects requires no-ack to be true"},
			{`["$JS.API.x"]`, "subjects that overlap with jetstream api require no-ack to be true"},
			{`["$JSC.x"]`, "subjects that overlap with jetstream api require no-ack to be true"},
			{`["$NRG.>"]`, "subjects that overlap with jetstream api require no-ack to be true"},
			{`["*.API.x"]`, "subjects that overlap with jetstream api require no-ack to be true"},
			{`["$SYS.REQ.x"]`, "subjects that overlap with system api require no-ack to be true"},
			{`["$SYS.>"]`, "subjects that overlap with system api require no-ack to be true"},
		} {
			covErr(t, covRequest(t, env, "$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":`+c.subjects+`}`), typ, cfgInvalid(c.want))
		}
		for _, subjects := range []string{`["$JS.EVENT.x"]`, `["$SYS.ACCOUNT.x"]`, `["$JS.API.x"]`, `["a.*x","a.bx"]`, `["x","a.*x","a.b"]`} {
			noAck := ""
			if subjects == `["$JS.API.x"]` {
				noAck = `,"no_ack":true`
			}
			a := covRequest(t, env, "$JS.API.STREAM.CREATE.A", `{"name":"A","subjects":`+subjects+noAck+`}`)
			if a.Error != nil {
				t.Errorf("subjects %s%s: %+v, want the stream", subjects, noAck, a.Error)
			}
			if a := covRequest(t, env, "$JS.API.STREAM.DELETE.A", ""); a.Error != nil {
				t.Fatalf("delete A: %+v", a.Error)
			}
		}
	})
}

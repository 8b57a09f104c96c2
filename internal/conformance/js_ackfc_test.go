package conformance

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// A consumer that acks by flow control (ack_policy flow_control, for durable sourcing) must be
// a push consumer with flow control, a 1s heartbeat, a max ack pending, and no ack wait, back-off
// or max deliver: nats-server fills in the flow control and heartbeat outside pedantic mode, and
// refuses the rest with its errors.

// TestJSAckFlowControlChecks: each requirement's error, as a create request meets it.
func TestJSAckFlowControlChecks(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
		for _, c := range []struct {
			cfg  string
			want jetstream.APIError
		}{
			{`}`, jetstream.APIError{Code: 400, ErrorCode: 10218, Description: "flow control ack policy requires a push based consumer"}},
			{`,"deliver_subject":"d","max_ack_pending":-1}`, jetstream.APIError{Code: 400, ErrorCode: 10220, Description: "flow control ack policy requires max ack pending"}},
			{`,"deliver_subject":"d","ack_wait":5000000000}`, jetstream.APIError{Code: 400, ErrorCode: 10221, Description: "flow control ack policy requires unset ack wait"}},
			{`,"deliver_subject":"d","backoff":[1000000000]}`, jetstream.APIError{Code: 400, ErrorCode: 10221, Description: "flow control ack policy requires unset ack wait"}},
			{`,"deliver_subject":"d","max_deliver":3}`, jetstream.APIError{Code: 400, ErrorCode: 10222, Description: "flow control ack policy requires unset max deliver"}},
			{`,"deliver_subject":"d","idle_heartbeat":2000000000},"pedantic":true`, jetstream.APIError{Code: 400, ErrorCode: 10219, Description: "flow control ack policy requires flow control"}},
			{`,"deliver_subject":"d","flow_control":true,"idle_heartbeat":2000000000},"pedantic":true`, jetstream.APIError{Code: 500, ErrorCode: 10052, Description: "flow control ack policy heartbeat needs to be 1s"}},
		} {
			tcCreateErr(t, env, "CONSUMER.CREATE.P.C", `{"stream_name":"P","config":{"name":"C","ack_policy":"flow_control"`+c.cfg+`}`, c.want)
		}
	})
}

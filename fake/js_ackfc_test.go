package fake

import (
	"strings"
	"testing"
)

// A consumer that acks by flow control, which passes nats-server's checks, is refused with the
// fake's not-supported error naming the policy: the fake has no durable sourcing.
func TestAckFlowControlRefused(t *testing.T) {
	nc := coverageServer(t)
	for _, body := range []string{
		`{"stream_name":"S","config":{"name":"D","ack_policy":"flow_control","deliver_subject":"d"}}`,
		`{"stream_name":"S","config":{"name":"D","ack_policy":"flow_control","deliver_subject":"d","flow_control":true,"idle_heartbeat":1000000000},"pedantic":true}`,
	} {
		e := requestAPIError(t, nc, "$JS.API.CONSUMER.CREATE.S.D", body)
		if e.Code != fakeNotSupportedErrF.code || !strings.Contains(e.Description, "ack_policy flow_control") {
			t.Errorf("%s: %+v, want not supported naming the ack policy", body, e)
		}
	}
}

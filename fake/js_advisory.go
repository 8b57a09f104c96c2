package fake

import (
	"time"

	"github.com/nats-io/nuid"
)

// The action advisories nats-server publishes when a stream or a consumer is created, updated or
// deleted, on $JS.EVENT.ADVISORY.STREAM.<CREATED|UPDATED|DELETED>.<stream> and
// $JS.EVENT.ADVISORY.CONSUMER.<CREATED|DELETED>.<stream>.<consumer>, stamped with the server's
// clock.

type advisoryAction string

const (
	actionCreate advisoryAction = "create"
	actionModify advisoryAction = "modify"
	actionDelete advisoryAction = "delete"
)

// actionEvent is the token of an action advisory's subject.
var actionEvent = map[advisoryAction]string{actionCreate: "CREATED", actionModify: "UPDATED", actionDelete: "DELETED"}

type streamActionAdvisory struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Time   time.Time      `json:"timestamp"`
	Stream string         `json:"stream"`
	Action advisoryAction `json:"action"`
}

type consumerActionAdvisory struct {
	Type     string         `json:"type"`
	ID       string         `json:"id"`
	Time     time.Time      `json:"timestamp"`
	Stream   string         `json:"stream"`
	Consumer string         `json:"consumer"`
	Action   advisoryAction `json:"action"`
}

// now is the server's time, in UTC, for time stamps.
func (j *jetStream) now() time.Time { return j.s.clock.Now().UTC() }

// adviseAction announces that the stream was created, updated or deleted.
func (st *stream) adviseAction(a advisoryAction) {
	j := st.j
	j.advise("$JS.EVENT.ADVISORY.STREAM."+actionEvent[a]+"."+st.name(), streamActionAdvisory{
		Type: "io.nats.jetstream.advisory.v1.stream_action", ID: nuid.Next(), Time: j.now(),
		Stream: st.name(), Action: a,
	})
}

// adviseAction announces that the consumer was created or deleted.
func (c *consumer) adviseAction(a advisoryAction) {
	j := c.st.j
	j.advise("$JS.EVENT.ADVISORY.CONSUMER."+actionEvent[a]+"."+c.st.name()+"."+c.name, consumerActionAdvisory{
		Type: "io.nats.jetstream.advisory.v1.consumer_action", ID: nuid.Next(), Time: j.now(),
		Stream: c.st.name(), Consumer: c.name, Action: a,
	})
}

package fake

import (
	"reflect"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

type createConsumerRequest struct {
	Stream string                   `json:"stream_name"`
	Config jetstream.ConsumerConfig `json:"config"` // a value, as nats-server's: never missing
	Action consumerAction           `json:"action"`
	// Pedantic asks the server to refuse a configuration it would otherwise adjust.
	Pedantic bool `json:"pedantic,omitempty"`
}

type consumerInfoResp struct {
	apiHead
	jetstream.ConsumerInfo
}

// A createSubject is which of the create subjects a request came on.
type createSubject int

const (
	createNamed     createSubject = iota // CONSUMER.CREATE.<stream>.<name>[.<filter>]
	createEphemeral                      // CONSUMER.CREATE.<stream>
	createDurable                        // CONSUMER.DURABLE.CREATE.<stream>.<name>
)

// consumerCreate serves the three create subjects, checking the request against its subject in
// nats-server's order: the stream name, the consumer name, the durable name, the filter, and only
// then whether the stream exists.
func (j *jetStream) consumerCreate(reply string, kind createSubject, streamName, name, filter string, body []byte) {
	const typ = "consumer_create_response"
	var req createConsumerRequest
	if err := decodeRequest(body, &req); err != nil {
		j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
		return
	}
	if req.Stream != streamName { // nats-server wants stream_name, and checks it first
		j.replyErr(reply, typ, jsStreamMismatchErr.err())
		return
	}
	cfg := req.Config // an ack policy left out is none, as on nats-server (serverZero)
	if kind == createEphemeral {
		name = cfg.Name
	}
	var e *apiError
	switch {
	case req.Stream != streamName:
		e = jsStreamMismatchErr.err()
	case strings.ContainsAny(name, `\/`):
		e = jsConsumerNameContainsPathSeparatorsErr.err()
	case kind == createDurable && cfg.Durable == "":
		e = jsConsumerDurableNameNotSetErr.err()
	case kind != createEphemeral && cfg.Durable != "" && cfg.Durable != name:
		e = jsConsumerDurableNameNotMatchSubjectErr.err()
	case kind == createEphemeral && cfg.Durable != "":
		e = jsConsumerEphemeralWithDurableNameErr.err()
	case filter != "" && len(cfg.FilterSubjects) > 0:
		e = jsConsumerMultipleFiltersNotAllowed.err()
	case filter != "" && cfg.FilterSubject != filter:
		e = jsConsumerCreateFilterSubjectMismatchErr.err()
	}
	if e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if kind != createEphemeral {
		cfg.Name = name
	}
	st, ok := j.streams[streamName]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
		return
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		j.replyErr(reply, typ, jsConsumerCreateDurableAndNameMismatch.err())
		return
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if req.Pedantic {
		if e := st.pedanticConsumer(&cfg); e != nil {
			j.replyErr(reply, typ, e)
			return
		}
	} else {
		defaultAckFlowControl(&cfg)
	}
	if e := st.normaliseConsumer(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if e := refuseServerOnlyConsumer(body, cfg.DeliverSubject != ""); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if cfg.Name == "" {
		cfg.Name = generateConsumerName()
	}
	if c, ok := st.consumers[cfg.Name]; ok {
		// nats-server keeps an existing consumer's pause whatever the request says.
		cfg.PauseUntil = c.cfg.PauseUntil
		setRequiredLevel(&cfg)
		if req.Action == "create" && !sameConsumerConfig(c.cfg, cfg) {
			j.replyErr(reply, typ, jsConsumerAlreadyExists.err())
			return
		}
		if e := c.update(cfg); e != nil {
			j.replyErr(reply, typ, e)
			return
		}
		j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
		if c.paused() {
			c.advisePause()
		}
		return
	}
	if req.Action == "update" {
		j.replyErr(reply, typ, jsConsumerDoesNotExist.err())
		return
	}
	if st.cfg.MaxConsumers > 0 && len(st.consumers) >= st.cfg.MaxConsumers {
		j.replyErr(reply, typ, jsMaximumConsumersLimitErr.err())
		return
	}
	if e := st.checkWorkQueue(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	c := st.newConsumer(cfg)
	j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
	c.adviseAction(actionCreate)
	if c.paused() {
		c.advisePause()
	}
	if c.isPush() {
		j.watchPushInterest()
		c.deliverPush()
	}
}

func generateConsumerName() string {
	n := nuid.Next()
	return n[len(n)-8:]
}

func sameConsumerConfig(a, b jetstream.ConsumerConfig) bool {
	a.Metadata, b.Metadata = stripDynamic(a.Metadata), stripDynamic(b.Metadata)
	return reflect.DeepEqual(a, b)
}

func stripDynamic(md map[string]string) map[string]string {
	out := maps(md)
	delete(out, "_nats.ver")
	delete(out, "_nats.level")
	if len(out) == 0 {
		return nil
	}
	return out
}

func (j *jetStream) consumerInfo(reply, streamName, name string) {
	const typ = "consumer_info_response"
	c, ok := j.consumerRequest(reply, typ, streamName, name)
	if !ok {
		return
	}
	j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
}

func (j *jetStream) consumerDelete(reply, streamName, name string) {
	const typ = "consumer_delete_response"
	c, ok := j.consumerRequest(reply, typ, streamName, name)
	if !ok {
		return
	}
	c.delete()
	j.reply(reply, struct {
		apiHead
		Success bool `json:"success"`
	}{apiHead{Type: typePrefix + typ}, true})
}

func (j *jetStream) consumerNames(reply, streamName string, body []byte, list bool) {
	typ, limit := "consumer_names_response", 1024
	if list {
		typ, limit = "consumer_list_response", 256
	}
	var req consumersRequest
	if objectOrArray(body) {
		if err := decodeRequest(body, &req); err != nil {
			j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
			return
		}
	}
	req.Offset = max(req.Offset, 0)
	st, ok := j.streamRequest(reply, typ, streamName, nil, nil)
	if !ok {
		return
	}
	names := make([]string, 0, len(st.consumers))
	for n := range st.consumers {
		names = append(names, n)
	}
	sort.Strings(names)
	total := len(names)
	names = names[min(req.Offset, len(names)):]
	if len(names) > limit {
		names = names[:limit]
	}
	if !list {
		j.reply(reply, struct {
			apiHead
			Total     int      `json:"total"`
			Offset    int      `json:"offset"`
			Limit     int      `json:"limit"`
			Consumers []string `json:"consumers"`
		}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, names})
		return
	}
	infos := make([]jetstream.ConsumerInfo, 0, len(names))
	for _, n := range names {
		infos = append(infos, st.consumers[n].info())
	}
	j.reply(reply, struct {
		apiHead
		Total     int                      `json:"total"`
		Offset    int                      `json:"offset"`
		Limit     int                      `json:"limit"`
		Consumers []jetstream.ConsumerInfo `json:"consumers"`
	}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, infos})
}

// consumerRequest finds the consumer a request names, or answers it with the server's error and
// reports false.
func (j *jetStream) consumerRequest(reply, typ, streamName, name string) (*consumer, bool) {
	st, ok := j.streamRequest(reply, typ, streamName, nil, nil)
	if !ok {
		return nil, false
	}
	c, ok := st.consumers[name]
	if !ok {
		j.replyErr(reply, typ, jsConsumerNotFoundErr.err())
	}
	return c, ok
}

package fake

import (
	"reflect"
	"sort"

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

func (j *jetStream) consumerCreate(reply, streamName, name, filter string, body []byte, filterInSubject bool) {
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
	st, ok := j.streams[streamName]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
		return
	}
	cfg := req.Config
	if name != "" {
		switch {
		case cfg.Name == "" && cfg.Durable == "":
			cfg.Name = name
		case cfg.Name == "":
			cfg.Name = cfg.Durable
		}
		if cfg.Durable != "" && cfg.Durable != name || cfg.Name != name {
			j.replyErr(reply, typ, jsConsumerDurableNameNotMatchSubjectErr.err())
			return
		}
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		j.replyErr(reply, typ, jsConsumerCreateDurableAndNameMismatch.err())
		return
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if filterInSubject {
		if len(cfg.FilterSubjects) > 0 {
			j.replyErr(reply, typ, jsConsumerMultipleFiltersNotAllowed.err())
			return
		}
		if cfg.FilterSubject != filter {
			j.replyErr(reply, typ, jsConsumerCreateFilterSubjectMismatchErr.err())
			return
		}
	}
	if e := st.normaliseConsumer(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if cfg.Name == "" {
		cfg.Name = generateConsumerName()
	}
	if c, ok := st.consumers[cfg.Name]; ok {
		if req.Action == "create" && !sameConsumerConfig(c.cfg, cfg) {
			j.replyErr(reply, typ, jsConsumerAlreadyExists.err())
			return
		}
		if e := c.update(cfg); e != nil {
			j.replyErr(reply, typ, e)
			return
		}
		j.reply(reply, consumerInfoResp{apiHead{Type: typePrefix + typ}, c.info()})
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

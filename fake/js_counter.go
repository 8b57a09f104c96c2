package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// Counters: on a stream with allow_msg_counter, each publish carries a Nats-Incr header (a
// decimal integer of any size) and no payload; the stream stores the subject's new total as
// {"val":"<total>"} and the publish ack carries it as val. The checks and their order are
// nats-server's (processJetStreamMsg).

// counterValue is the payload of a counter's message.
type counterValue struct {
	Value string `json:"val"`
}

// checkIncr reads a publish's Nats-Incr header: nil without one, or the server's error for an
// increment that is not a number, on a stream without counters, with a payload, or with a
// header a counter cannot honour.
func (st *stream) checkIncr(hdr, data []byte) (*big.Int, *apiError) {
	v := hdrValue(hdr, "Nats-Incr")
	if v == "" {
		return nil, nil
	}
	incr, ok := new(big.Int).SetString(v, 10)
	switch {
	case !ok:
		return nil, jsMessageIncrInvalidErr.err()
	case !st.cfg.AllowMsgCounter:
		return nil, jsMessageIncrDisabledErr.err()
	case len(data) > 0:
		return nil, jsMessageIncrPayloadErr.err()
	}
	for _, h := range []string{"Nats-Rollup", "Nats-Expected-Stream", "Nats-Expected-Last-Msg-Id",
		"Nats-Expected-Last-Subject-Sequence-Subject", "Nats-Expected-Last-Sequence", "Nats-Expected-Last-Subject-Sequence"} {
		if hdrValue(hdr, h) != "" {
			return nil, jsMessageIncrInvalidErr.err()
		}
	}
	return incr, nil
}

// applyIncr is the message a counter stream stores for an increment on subj: the subject's
// last total plus incr as the payload, and the sources' totals carried forward in
// Nats-Counter-Sources. Without an increment it is the server's "increment is missing".
func (st *stream) applyIncr(subj string, incr *big.Int, hdr []byte) ([]byte, []byte, *apiError) {
	return st.applyCounter(subj, incr, hdr, nil)
}

// applySourced is the message a counter stream stores for a message sourced from another
// counter: the source's total for its subject is recorded in Nats-Counter-Sources, and what it
// grew by since the last one from there (its Nats-Incr, rewritten) is added to subj's total.
func (st *stream) applySourced(subj string, hdr, data []byte) ([]byte, []byte, *apiError) {
	v := hdrValue(hdr, "Nats-Incr")
	incr, ok := new(big.Int).SetString(v, 10)
	switch {
	case v == "":
		return nil, nil, jsMessageIncrMissingErr.err()
	case !ok:
		return nil, nil, jsMessageIncrInvalidErr.err()
	}
	return st.applyCounter(subj, incr, hdr, data)
}

// applyCounter adds incr to subj's total; sourced is the payload of a sourced message (whose
// header says where it comes from), nil for a publish.
func (st *stream) applyCounter(subj string, incr *big.Int, hdr, sourced []byte) ([]byte, []byte, *apiError) {
	if incr == nil {
		return nil, nil, jsMessageIncrMissingErr.err()
	}
	var total big.Int
	var sources map[string]map[string]string
	if last := st.lastMatching(subj); last != nil {
		var val counterValue
		if json.Unmarshal(last.data, &val) != nil {
			return nil, nil, jsMessageCounterBrokenErr.err()
		}
		if ncs := hdrValue(last.hdr, "Nats-Counter-Sources"); ncs != "" {
			if json.Unmarshal([]byte(ncs), &sources) != nil {
				return nil, nil, jsMessageCounterBrokenErr.err()
			}
		}
		total.SetString(val.Value, 10) // unchecked, as nats-server's
	}
	if src := hdrValue(hdr, "Nats-Stream-Source"); src != "" {
		fields := strings.Split(src, " ")
		origin, originSubj := fields[0], subj
		if len(fields) >= 5 {
			originSubj = fields[4]
		}
		var val counterValue
		if json.Unmarshal(sourced, &val) != nil {
			return nil, nil, jsMessageCounterBrokenErr.err()
		}
		var now, before big.Int
		now.SetString(val.Value, 10)
		if sources == nil {
			sources = map[string]map[string]string{}
		}
		if sources[origin] == nil {
			sources[origin] = map[string]string{}
		}
		before.SetString(sources[origin][originSubj], 10)
		sources[origin][originSubj] = now.String()
		incr = new(big.Int).Sub(&now, &before)
		hdr = setHeader(hdr, "Nats-Incr", incr.String())
	}
	total.Add(&total, incr)
	data := fmt.Appendf(nil, "{%q:%q}", "val", total.String())
	if len(sources) > 0 {
		b, err := json.Marshal(sources)
		if err != nil {
			return nil, nil, jsMessageCounterBrokenErr.err()
		}
		hdr = setHeader(hdr, "Nats-Counter-Sources", string(b))
	}
	if lim := int(st.j.s.opts.maxPayload); len(hdr) > lim || len(data) > lim-len(hdr) {
		return nil, nil, jsStreamMessageExceedsMaximumErr.err()
	}
	return hdr, data, nil
}

// counterAck is the total a counter stream's ack carries for the message stored at seq.
func (st *stream) counterAck(seq uint64) string {
	var val counterValue
	if m := st.get(seq); m != nil {
		_ = json.Unmarshal(m.data, &val)
	}
	return val.Value
}

// setHeader replaces the first value of key in a raw header block, or adds it.
func setHeader(hdr []byte, key, val string) []byte {
	if _, ok := hdrGet(hdr, key); !ok {
		return appendHeaders(hdr, key, val)
	}
	i := bytes.Index(hdr, []byte("\r\n"))
	out := append([]byte(nil), hdr[:i+2]...)
	done := false
	for _, line := range bytes.Split(hdr[i+2:], []byte("\r\n")) {
		if !done && len(line) > len(key) && string(line[:len(key)]) == key && line[len(key)] == ':' {
			line, done = []byte(key+": "+val), true
		}
		out = append(append(out, line...), "\r\n"...)
	}
	return out[:len(out)-2]
}

// hdrValue is the value of key as nats-server's sliceHeader reads it: the spaces after the
// colon skipped, nothing else trimmed ("" without the key).
func hdrValue(hdr []byte, key string) string {
	v, ok := hdrFind(hdr, key)
	if !ok {
		return ""
	}
	return strings.TrimLeft(string(v), " ")
}

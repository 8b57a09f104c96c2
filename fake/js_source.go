package fake

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

// A stream's sources: each takes the messages of an origin stream (see js_mirror.go for the
// link they share with mirrors) and stores them anew, under the stream's own sequences, with a
// Nats-Stream-Source header that names the origin, the origin's sequence, the source's filter
// and transform, the origin subject and the origin's identity.

// sourceIName is nats-server's index name of a source: the origin's name (and its external API
// prefix's hash), the filters and the transform destinations.
func sourceIName(src *jetstream.StreamSource) string {
	name := src.Name
	if src.External != nil {
		name += ":" + serverHash(src.External.APIPrefix)
	}
	if src.Consumer != nil {
		name += ":C=" + serverHash(src.Consumer.Name)
	}
	source, dest := src.FilterSubject, ">"
	if len(src.SubjectTransforms) == 0 {
		if source == "" {
			source = ">"
		}
	} else {
		var sources, dests []string
		for _, tr := range src.SubjectTransforms {
			s, d := tr.Source, tr.Destination
			if s == "" {
				s = ">"
			}
			if d == "" {
				d = ">"
			}
			sources, dests = append(sources, s), append(dests, d)
		}
		source, dest = strings.Join(sources, "\f"), strings.Join(dests, "\f")
	}
	return name + " " + source + " " + dest
}

// sourceHeader is the header a sourced message is stored with: the origin's, without its
// Nats-Stream-Source (a source of a source keeps the nearest), Nats-Expected-* and Nats-Batch-*
// headers, and with a Nats-Stream-Source of this source.
func (l *streamLink) sourceHeader(m *storedMsg) []byte {
	hdr := m.hdr
	if len(hdr) > 0 {
		hdr = withoutHeader(hdr, "Nats-Stream-Source")
		hdr = withoutHeaderPrefix(hdr, "Nats-Expected-")
		hdr = withoutHeaderPrefix(hdr, "Nats-Batch-")
	}
	parts := strings.SplitN(l.iname, " ", 3)
	v := parts[0] + " " + strconv.FormatUint(m.seq, 10) + " " + parts[1] + " " + parts[2] + " " + m.subj
	if l.ident != "" {
		v += " " + l.ident
	}
	return appendHeaders(hdr, "Nats-Stream-Source", v)
}

// withoutHeaderPrefix is a header block without the lines whose key starts with prefix (a
// prefix that ends in ':' is a whole key).
func withoutHeaderPrefix(hdr []byte, prefix string) []byte {
	var out []byte
	keyPrefix := strings.TrimSuffix(prefix, ":")
	for i, line := range bytes.SplitAfter(hdr, []byte("\r\n")) {
		if i > 0 && bytes.HasPrefix(line, []byte(prefix)) && bytes.IndexByte(line, ':') >= len(keyPrefix) {
			continue
		}
		out = append(out, line...)
	}
	return out
}

// linkedHeaders reads the headers of a message a link brings in as nats-server does for one
// that was sourced: the origin checked them, so nothing is refused. A source drops a duplicate
// of a message id in its window (a mirror does not: it has its origin's); a rollup applies
// whatever the stream allows; a TTL counts if the stream allows TTLs.
func (st *stream) linkedHeaders(hdr []byte, from *linkedMsg, now time.Time) (rollup string, ttl time.Duration, dup bool) {
	if len(hdr) == 0 {
		return "", 0, false
	}
	if id, ok := hdrGet(hdr, "Nats-Msg-Id"); ok && id != "" && !from.mirror {
		st.pruneDedupe(now)
		if d, ok := st.dedupe[id]; ok && now.Sub(d.ts) < st.cfg.Duplicates {
			return "", 0, true
		}
	}
	if v, ok := hdrGet(hdr, "Nats-Rollup"); ok && (v == "sub" || v == "all") {
		rollup = v
	}
	if v, ok := hdrGet(hdr, "Nats-TTL"); ok && st.cfg.AllowMsgTTL {
		if d, err := parseTTL(v); err == nil {
			ttl = d
		}
	}
	return rollup, ttl, false
}

// ingestLinked stores a message a link brings in: under the subject the link gave it (the
// stream's own subject transform is for what is published to it), and republished if the
// stream republishes it.
func (st *stream) ingestLinked(subj string, hdr, data []byte, from *linkedMsg) (uint64, bool, *apiError) {
	_, rp := st.transforms()
	var target string
	var lastSeq uint64
	if rp != nil {
		if ts, err := rp.Match(subj); err == nil && subject.ValidLiteral(ts) {
			target = ts
			if lm := st.lastMatching(subj); lm != nil {
				lastSeq = lm.seq
			}
		}
	}
	seq, dup, e := st.storeWith(subj, hdr, data, false, from)
	if target != "" && e == nil && !dup {
		st.republish(target, subj, seq, lastSeq, hdr, data)
	}
	return seq, dup, e
}

// checkSourceConfig makes nats-server's checks of a stream's sources that need no other
// stream, in its order.
func checkSourceConfig(cfg *jetstream.StreamConfig) *apiError {
	if len(cfg.Sources) > 0 && cfg.AllowMsgSchedules {
		return jsSourceWithMsgSchedulesErr.err()
	}
	inames := map[string]bool{}
	cnames := map[string]bool{}
	for _, src := range cfg.Sources {
		if src == nil || !validAssetName(src.Name) {
			return jsSourceInvalidStreamName.err()
		}
		iname := sourceIName(src)
		if inames[iname] {
			return jsSourceDuplicateDetected.err()
		}
		inames[iname] = true
		if src.FilterSubject != "" && len(src.SubjectTransforms) != 0 {
			return jsSourceMultipleFiltersNotAllowed.err()
		}
		for _, tr := range src.SubjectTransforms {
			if tr.Source != "" && !subject.ValidPattern(tr.Source) {
				return jsSourceInvalidSubjectFilter.err(subject.ErrBadSubject.Error() + " " + tr.Source)
			}
			if err := subject.ValidateDestination(tr.Source, tr.Destination); err != nil {
				return jsSourceInvalidTransformDestination.err(err)
			}
		}
		for i, tr := range src.SubjectTransforms {
			for k, o := range src.SubjectTransforms {
				if i != k && subject.Matches(o.Source, tr.Source) {
					return jsSourceOverlappingSubjectFilters.err()
				}
			}
		}
		if c := src.Consumer; c != nil {
			if !validAssetName(c.Name) || !subject.ValidLiteral(c.DeliverSubject) || src.OptStartSeq != 0 ||
				src.OptStartTime != nil || src.FilterSubject != "" {
				return jsSourceDurableConsumerCfgInvalid.err()
			}
			cname := src.Name + " " + c.Name
			if cnames[cname] {
				return jsSourceDurableConsumerDuplicateDetected.err()
			}
			cnames[cname] = true
		}
	}
	for _, src := range cfg.Sources {
		if src.External != nil {
			if e := checkExternal(src.External); e != nil {
				return e
			}
		}
	}
	return nil
}

// checkExternal makes nats-server's checks of an external origin's prefixes.
func checkExternal(ext *jetstream.ExternalStream) *apiError {
	if p := ext.DeliverPrefix; p != "" && !subject.ValidLiteral(p) {
		return jsStreamInvalidExternalDeliverySubjErrF.err(p)
	}
	if p := ext.APIPrefix; p != "" {
		if !subject.ValidLiteral(p) {
			return jsStreamInvalidConfigF.err("stream external api prefix " + strconv.Quote(p) + " must be a valid subject without wildcards")
		}
		if subjectsCollide(p, "$JS.API") {
			return jsStreamExternalApiOverlapErrF.err(p, "$JS.API")
		}
	}
	return nil
}

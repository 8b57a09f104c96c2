package fake

import (
	"reflect"
	"slices"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
)

type streamInfoResp struct {
	apiHead
	jetstream.StreamInfo
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// streamRequestConfig reads the config of a STREAM.CREATE or UPDATE request for stream name, as
// nats-server reads it.
// With pedantic set, nats-server's pedantic checks come before the subject's stream name on an
// update, and after it on a create.
func (j *jetStream) streamRequestConfig(name string, body []byte, update bool) (jetstream.StreamConfig, *apiError) {
	var req streamConfigRequest
	if err := decodeRequest(body, &req); err != nil {
		return req.StreamConfig, jsInvalidJSONErr.err(err)
	}
	if update && req.Pedantic {
		if e := j.pedanticStream(&req.StreamConfig); e != nil {
			return req.StreamConfig, e
		}
	}
	if req.Name != name {
		return req.StreamConfig, jsStreamMismatchErr.err()
	}
	if !update && req.Pedantic {
		if e := j.pedanticStream(&req.StreamConfig); e != nil {
			return req.StreamConfig, e
		}
	}
	return req.StreamConfig, refuseServerOnlyStream(body)
}

func (j *jetStream) streamCreate(reply, name string, body []byte) {
	const typ = "stream_create_response"
	cfg, e := j.streamRequestConfig(name, body, false)
	if e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if e := j.createStream(cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	st := j.streams[name]
	j.reply(reply, streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: st.info(false, "")})
	st.startLinks() // as on nats-server, after the stream is made and answered for
}

// createStream makes a stream, or does nothing if an identical one exists.
func (j *jetStream) createStream(cfg jetstream.StreamConfig) *apiError {
	if e := normaliseStreamConfig(&cfg); e != nil {
		return e
	}
	if e := j.checkLinkStreams(&cfg); e != nil {
		return e
	}
	if st, ok := j.streams[cfg.Name]; ok {
		if !reflect.DeepEqual(comparableConfig(cfg), comparableConfig(st.cfg)) {
			return jsStreamNameExistErr.err()
		}
		return nil
	}
	if e := j.checkOverlap(&cfg, ""); e != nil {
		return e
	}
	if e := checkLinkFilters(&cfg); e != nil {
		return e
	}
	st := &stream{
		j:         j,
		cfg:       cfg,
		created:   j.s.clock.Now().UTC(),
		bySubj:    make(map[string]*seqIndex[struct{}]),
		dedupe:    make(map[string]dedupeEntry),
		consumers: make(map[string]*consumer),
	}
	if cfg.FirstSeq > 0 {
		st.first, st.last = cfg.FirstSeq, cfg.FirstSeq-1
	}
	j.streams[cfg.Name] = st
	st.makeLinks()
	st.subscribe()
	st.adviseAction(actionCreate)
	return nil
}

func (j *jetStream) streamUpdate(reply, name string, body []byte) {
	const typ = "stream_update_response"
	cfg, e := j.streamRequestConfig(name, body, true)
	if e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
		return
	}
	if e := normaliseStreamConfig(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	if e := j.checkLinkStreams(&cfg); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	switch {
	case cfg.Storage != st.cfg.Storage:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not change storage type"))
		return
	case cfg.Retention != st.cfg.Retention && (cfg.Retention == jetstream.WorkQueuePolicy || st.cfg.Retention == jetstream.WorkQueuePolicy):
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not change retention policy to/from workqueue"))
		return
	case st.cfg.Sealed && !cfg.Sealed:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not unseal a sealed stream"))
		return
	case st.cfg.DenyDelete && !cfg.DenyDelete:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not cancel deny message deletes"))
		return
	case st.cfg.DenyPurge && !cfg.DenyPurge:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not cancel deny purge"))
		return
	case checkMirrorUpdate(&cfg, &st.cfg) != nil:
		j.replyErr(reply, typ, checkMirrorUpdate(&cfg, &st.cfg))
		return
	case cfg.AllowMsgCounter != st.cfg.AllowMsgCounter:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("stream configuration update can not change message counter setting"))
		return
	case st.cfg.AllowMsgSchedules && !cfg.AllowMsgSchedules:
		j.replyErr(reply, typ, jsStreamInvalidConfigF.err("message schedules can not be disabled"))
		return
	}
	if e := j.checkOverlap(&cfg, name); e != nil {
		j.replyErr(reply, typ, e)
		return
	}
	subjectsChanged := !slices.Equal(cfg.Subjects, st.cfg.Subjects)
	defaultRePublishOnUpdate(&cfg)
	st.dropBatches(cfg.AllowAtomicPublish, cfg.AllowBatchPublish)
	retention := st.cfg.Retention
	st.cfg = cfg
	j.retentionSwitched(st, retention)
	if subjectsChanged {
		st.resubscribe()
	}
	st.updateLinks()
	st.enforceLimits()
	st.scheduleAge()
	for _, c := range st.consumers {
		c.setFilters() // whether its filters take in every subject may have changed
		c.kick()
	}
	j.reply(reply, streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: st.info(false, "")})
	st.adviseAction(actionModify)
}

type streamInfoRequest struct {
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
	Offset         int    `json:"offset,omitempty"`
}

const maxSubjectsPerInfo = 100_000

func (j *jetStream) streamInfo(reply, name string, body []byte) {
	const typ = "stream_info_response"
	var req streamInfoRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	r := streamInfoResp{apiHead: apiHead{Type: typePrefix + typ}, StreamInfo: st.info(req.DeletedDetails, req.SubjectsFilter)}
	if req.SubjectsFilter != "" {
		subjects := r.State.Subjects
		r.Total = len(subjects)
		r.Offset = req.Offset
		r.Limit = maxSubjectsPerInfo
		if req.Offset > 0 {
			keys := make([]string, 0, len(subjects))
			for k := range subjects {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			paged := make(map[string]uint64)
			for _, k := range keys[min(req.Offset, len(keys)):] {
				paged[k] = subjects[k]
			}
			r.State.Subjects = paged
		}
	}
	j.reply(reply, r)
}

func (j *jetStream) streamDelete(reply, name string) {
	const typ = "stream_delete_response"
	st, ok := j.streamRequest(reply, typ, name, nil, nil)
	if !ok {
		return
	}
	j.deleteStream(st)
	j.reply(reply, struct {
		apiHead
		Success bool `json:"success"`
	}{apiHead{Type: typePrefix + typ}, true})
}

func (j *jetStream) deleteStream(st *stream) {
	for _, c := range st.consumers {
		c.delete()
	}
	st.adviseAction(actionDelete)
	st.unsubscribe()
	st.stopTimers()
	st.stopLinks()
	delete(j.streams, st.name())
	j.originDeleted(st)
}

type purgeRequest struct {
	Filter string `json:"filter,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Keep   uint64 `json:"keep,omitempty"`
}

func (j *jetStream) streamPurge(reply, name string, body []byte) {
	const typ = "stream_purge_response"
	var req purgeRequest
	st, ok := j.streamRequest(reply, typ, name, body, &req)
	if !ok {
		return
	}
	if st.cfg.Sealed || st.cfg.DenyPurge {
		j.replyErr(reply, typ, jsStreamPurgeFailedF.err("stream purge not permitted"))
		return
	}
	if req.Seq > 0 && req.Keep > 0 {
		j.replyErr(reply, typ, jsBadRequestErr.err())
		return
	}
	n := st.purge(req.Filter, req.Seq, req.Keep)
	j.reply(reply, struct {
		apiHead
		Success bool   `json:"success"`
		Purged  uint64 `json:"purged"`
	}{apiHead{Type: typePrefix + typ}, true, n})
}

type namesResp struct {
	apiHead
	Total     int      `json:"total"`
	Offset    int      `json:"offset"`
	Limit     int      `json:"limit"`
	Streams   []string `json:"streams"`
	Consumers []string `json:"consumers,omitempty"`
}

func (j *jetStream) streamNames(reply string, body []byte, list bool) {
	typ, limit := "stream_names_response", 1024
	if list {
		typ, limit = "stream_list_response", 256
	}
	var req streamNamesRequest
	if objectOrArray(body) {
		var into any = &req
		if list {
			into = (*streamListRequest)(&req)
		}
		if err := decodeRequest(body, into); err != nil {
			j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
			return
		}
	}
	req.Offset = max(req.Offset, 0)
	var names []string
	for name, st := range j.streams {
		if req.Subject != "" {
			hit := false
			for _, s := range st.cfg.Subjects {
				if subjectsCollide(s, req.Subject) {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	total := len(names)
	off := min(req.Offset, len(names))
	names = names[off:]
	if len(names) > limit {
		names = names[:limit]
	}
	if !list {
		if names == nil {
			names = []string{}
		}
		j.reply(reply, namesResp{apiHead: apiHead{Type: typePrefix + typ}, Total: total, Offset: req.Offset, Limit: limit, Streams: names})
		return
	}
	infos := make([]jetstream.StreamInfo, 0, len(names))
	for _, n := range names {
		infos = append(infos, j.streams[n].info(false, ""))
	}
	j.reply(reply, struct {
		apiHead
		Total   int                    `json:"total"`
		Offset  int                    `json:"offset"`
		Limit   int                    `json:"limit"`
		Streams []jetstream.StreamInfo `json:"streams"`
		Missing []string               `json:"missing,omitempty"`
	}{apiHead{Type: typePrefix + typ}, total, req.Offset, limit, infos, nil})
}

// streamRequest decodes a request's body (if any) into req and finds the stream it names. When
// either fails it answers the request with the server's error, and reports false.
func (j *jetStream) streamRequest(reply, typ, name string, body []byte, req any) (*stream, bool) {
	if req != nil && len(body) > 0 {
		if err := decodeRequest(body, req); err != nil {
			j.replyErr(reply, typ, jsInvalidJSONErr.err(err))
			return nil, false
		}
	}
	st, ok := j.streams[name]
	if !ok {
		j.replyErr(reply, typ, jsStreamNotFoundErr.err())
	}
	return st, ok
}

// resubscribe moves the stream's internal subscriptions to its subjects in one step, as
// nats-server does: those it keeps stay, and the new ones are in place before the old ones go,
// so that no publish on a subject the stream keeps finds nobody.
func (st *stream) resubscribe() {
	want := make(map[string]bool, len(st.cfg.Subjects))
	for _, subj := range st.cfg.Subjects {
		want[subj] = true
	}
	kept := make(map[string]bool, len(st.subs))
	var subs, gone []*subscription
	for _, sub := range st.subs {
		if want[sub.subject] && !kept[sub.subject] {
			kept[sub.subject] = true
			subs = append(subs, sub)
		} else {
			gone = append(gone, sub)
		}
	}
	s := st.j.s
	s.mu.Lock()
	for _, subj := range st.cfg.Subjects {
		if !kept[subj] {
			sub := &subscription{subject: subj, internal: st.handlePublish}
			s.subs.insert(sub)
			subs = append(subs, sub)
		}
	}
	for _, sub := range gone {
		if !sub.gone.Swap(true) {
			s.subs.remove(sub)
		}
	}
	s.mu.Unlock()
	st.subs = subs
}

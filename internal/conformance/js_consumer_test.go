package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// spConsumer creates a consumer on the stream, failing the test if it cannot.
func spConsumer(t *testing.T, s jetstream.Stream, cfg jetstream.ConsumerConfig) jetstream.Consumer {
	t.Helper()
	c, err := s.CreateConsumer(waitCtx(t), cfg)
	if err != nil {
		t.Fatalf("create consumer %s: %v", cfg.Durable, err)
	}
	return c
}

// spCInfo is the consumer's current info.
func spCInfo(t *testing.T, c jetstream.Consumer) *jetstream.ConsumerInfo {
	t.Helper()
	info, err := c.Info(waitCtx(t))
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info
}

// spConsumerInfoOpts compare consumer infos field by field, leaving out what changes with time
// (creation and reply time stamps, the last activity times) and the server's own metadata.
var spConsumerInfoOpts = cmp.Options{
	cmpopts.IgnoreFields(jetstream.ConsumerInfo{}, "Created", "TimeStamp"),
	cmpopts.IgnoreFields(jetstream.SequenceInfo{}, "Last"),
	cmp.Transformer("spNoServerMetadata", spNoServerMetadata),
	cmpopts.EquateEmpty(),
}

// spConsumerInfo compares a consumer's info with want.
func spConsumerInfo(t *testing.T, want, got *jetstream.ConsumerInfo) {
	t.Helper()
	if d := cmp.Diff(want, got, spConsumerInfoOpts); d != "" {
		t.Errorf("consumer info (-want +got):\n%s", d)
	}
}

// spCounts are the figures of a consumer's info that change as it delivers and is acked.
type spCounts struct {
	Delivered, AckFloor                          [2]uint64 // consumer sequence, stream sequence
	AckPending, Redelivered, Waiting, NumPending int
}

func spCountsOf(info *jetstream.ConsumerInfo) spCounts {
	return spCounts{
		Delivered:   [2]uint64{info.Delivered.Consumer, info.Delivered.Stream},
		AckFloor:    [2]uint64{info.AckFloor.Consumer, info.AckFloor.Stream},
		AckPending:  info.NumAckPending,
		Redelivered: info.NumRedelivered,
		Waiting:     info.NumWaiting,
		NumPending:  int(info.NumPending),
	}
}

// spWantCounts waits until the consumer's figures are want, failing with the difference after
// patience. It polls: the real server counts acks and newly stored messages asynchronously, a
// moment after it has confirmed them.
func spWantCounts(t *testing.T, c jetstream.Consumer, want spCounts) {
	t.Helper()
	spWantCountsMasked(t, c, want, func(*spCounts) {})
}

// spWantCountsMasked is spWantCounts with mask applied to the consumer's figures first, to leave
// out those a scenario does not compare.
func spWantCountsMasked(t *testing.T, c jetstream.Consumer, want spCounts, mask func(*spCounts)) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		got := spCountsOf(spCInfo(t, c))
		mask(&got)
		if got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer figures after %v (-want +got):\n%s", patience, cmp.Diff(want, got))
		case <-tick.C:
		}
	}
}

// spDelivery is what a delivered message says about itself.
type spDelivery struct {
	Subject, Data         string
	Stream, Consumer      uint64 // sequences
	Delivered, NumPending uint64
}

func spDeliveryOf(t *testing.T, m jetstream.Msg) spDelivery {
	t.Helper()
	md, err := m.Metadata()
	if err != nil {
		t.Fatalf("metadata of %q: %v", m.Subject(), err)
	}
	return spDelivery{Subject: m.Subject(), Data: string(m.Data()), Stream: md.Sequence.Stream, Consumer: md.Sequence.Consumer,
		Delivered: md.NumDelivered, NumPending: md.NumPending}
}

func spDeliveries(t *testing.T, msgs []jetstream.Msg) []spDelivery {
	t.Helper()
	var out []spDelivery
	for _, m := range msgs {
		out = append(out, spDeliveryOf(t, m))
	}
	return out
}

// spStreamSeqs is the stream sequences of msgs.
func spStreamSeqs(t *testing.T, msgs []jetstream.Msg) []uint64 {
	t.Helper()
	var out []uint64
	for _, d := range spDeliveries(t, msgs) {
		out = append(out, d.Stream)
	}
	return out
}

// spBatch drains a fetched batch, failing the test on its error.
func spBatch(t *testing.T, b jetstream.MessageBatch, err error) []jetstream.Msg {
	t.Helper()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var out []jetstream.Msg
	for m := range b.Messages() {
		out = append(out, m)
	}
	if err := b.Error(); err != nil {
		t.Fatalf("fetch: after %d messages: %v", len(out), err)
	}
	return out
}

// spNoWait fetches up to n messages without waiting: what the consumer has ready now.
func spNoWait(t *testing.T, c jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	b, err := c.FetchNoWait(n)
	return spBatch(t, b, err)
}

// spTake fetches exactly n messages, waiting up to patience for them.
func spTake(t *testing.T, c jetstream.Consumer, n int) []jetstream.Msg {
	t.Helper()
	if n == 0 {
		return nil
	}
	b, err := c.Fetch(n, jetstream.FetchMaxWait(patience))
	msgs := spBatch(t, b, err)
	if len(msgs) != n {
		t.Fatalf("fetched %d messages, want %d", len(msgs), n)
	}
	return msgs
}

// spDoubleAck acks msgs and waits for the server to confirm each.
func spDoubleAck(t *testing.T, msgs ...jetstream.Msg) {
	t.Helper()
	for _, m := range msgs {
		if err := m.DoubleAck(waitCtx(t)); err != nil {
			t.Fatalf("double ack %q: %v", m.Subject(), err)
		}
	}
}

// spDefaultConsumer is the configuration the server reports for a pull consumer created with
// only the fields set here.
func spDefaultConsumer(cfg jetstream.ConsumerConfig) jetstream.ConsumerConfig {
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if cfg.AckPolicy != jetstream.AckNonePolicy {
		if cfg.AckWait == 0 {
			cfg.AckWait = 30 * time.Second
		}
		if cfg.MaxAckPending == 0 {
			cfg.MaxAckPending = 1000
		}
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = 512
	}
	return cfg
}

// TestJSConsumerDurableDefaults: a durable pull consumer created with only a name is echoed
// with the server's defaults: deliver all, ack explicit with a 30 s ack wait, unlimited
// deliveries, 1000 acks pending, 512 waiting pulls, no inactivity threshold.
func TestJSConsumerDurableDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 3)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "dur"})
		want := &jetstream.ConsumerInfo{
			Stream: "S",
			Name:   "dur",
			Config: jetstream.ConsumerConfig{
				Name: "dur", Durable: "dur", DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
				AckWait: 30 * time.Second, MaxDeliver: -1, ReplayPolicy: jetstream.ReplayInstantPolicy, MaxWaiting: 512, MaxAckPending: 1000,
			},
			NumPending: 3,
		}
		spConsumerInfo(t, want, c.CachedInfo())
		spConsumerInfo(t, want, spCInfo(t, c))
		got, err := env.JetStream().Consumer(waitCtx(t), "S", "dur")
		if err != nil {
			t.Fatal(err)
		}
		spConsumerInfo(t, want, got.CachedInfo())
		if c.CachedInfo().Created.IsZero() {
			t.Error("created time is zero")
		}
	})
}

// TestJSConsumerEphemeralDefaults: an ephemeral consumer takes the name the client generated
// and gets a five-second inactivity threshold.
func TestJSConsumerEphemeralDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		got := c.CachedInfo()
		if len(got.Name) != 8 {
			t.Errorf("ephemeral name %q, want the client's 8 characters", got.Name)
		}
		want := &jetstream.ConsumerInfo{
			Stream: "S",
			Name:   got.Name,
			Config: jetstream.ConsumerConfig{
				Name: got.Name, DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckNonePolicy,
				MaxDeliver: -1, ReplayPolicy: jetstream.ReplayInstantPolicy, MaxWaiting: 512, InactiveThreshold: 5 * time.Second,
			},
		}
		spConsumerInfo(t, want, got)
		l := s.ConsumerNames(waitCtx(t))
		if names := spNames(t, l.Name(), l.Err); !slices.Equal(names, []string{got.Name}) {
			t.Errorf("consumer names %q, want %q", names, got.Name)
		}
	})
}

// TestJSConsumerEchoesConfig: what the client sets on a consumer is echoed as sent.
func TestJSConsumerEchoesConfig(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
		cfg := jetstream.ConsumerConfig{
			Durable: "d", Description: "described", DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 7,
			AckPolicy: jetstream.AckAllPolicy, AckWait: 3 * time.Second, MaxDeliver: 5, FilterSubject: "s.a.*",
			MaxWaiting: 16, MaxAckPending: 20, MaxRequestBatch: 10, MaxRequestExpires: time.Minute, MaxRequestMaxBytes: 4096,
			InactiveThreshold: time.Hour, Metadata: map[string]string{"team": "b"}, HeadersOnly: true,
		}
		c := spConsumer(t, s, cfg)
		// A consumer that starts at sequence 7 counts 6 as delivered and acked already.
		want := &jetstream.ConsumerInfo{Stream: "S", Name: "d", Config: cfg,
			Delivered: jetstream.SequenceInfo{Stream: 6}, AckFloor: jetstream.SequenceInfo{Stream: 6}}
		want.Config.Name = "d"
		spConsumerInfo(t, want, c.CachedInfo())
	})
}

// TestJSConsumerCreateExisting: creating a consumer again with the same configuration returns
// it; with another configuration it fails with 10148.
func TestJSConsumerCreateExisting(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", AckWait: 10 * time.Second})
		again := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", AckWait: 10 * time.Second})
		if !again.CachedInfo().Created.Equal(c.CachedInfo().Created) {
			t.Errorf("created %v, then %v", c.CachedInfo().Created, again.CachedInfo().Created)
		}
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", AckWait: 20 * time.Second})
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			t.Errorf("error %v is not ErrConsumerExists", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10148, Description: "consumer already exists"})
		if got := spCInfo(t, c).Config.AckWait; got != 10*time.Second {
			t.Errorf("ack wait after the refused create: %v", got)
		}
	})
}

// TestJSConsumerUpdate: an update changes what may change; updating a missing consumer fails
// with 10149; CreateOrUpdateConsumer does either.
func TestJSConsumerUpdate(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		_, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d"})
		if !errors.Is(err, jetstream.ErrConsumerDoesNotExist) {
			t.Errorf("error %v is not ErrConsumerDoesNotExist", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10149, Description: "consumer does not exist"})
		c, err := s.CreateOrUpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d"})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.CachedInfo().Config.AckWait; got != 30*time.Second {
			t.Errorf("ack wait %v, want 30s", got)
		}
		u, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", AckWait: 5 * time.Second, Description: "new", MaxAckPending: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := &jetstream.ConsumerInfo{Stream: "S", Name: "d", Config: spDefaultConsumer(jetstream.ConsumerConfig{
			Durable: "d", AckWait: 5 * time.Second, Description: "new", MaxAckPending: 3, DeliverPolicy: jetstream.DeliverAllPolicy,
		})}
		spConsumerInfo(t, want, u.CachedInfo())
		if _, err := s.CreateOrUpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", AckWait: 7 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if got := spCInfo(t, c).Config.AckWait; got != 7*time.Second {
			t.Errorf("ack wait after CreateOrUpdate %v, want 7s", got)
		}
	})
}

// TestJSConsumerUpdateImmutable: a consumer's deliver policy cannot be changed.
func TestJSConsumerUpdateImmutable(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		_, err := s.UpdateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", DeliverPolicy: jetstream.DeliverNewPolicy})
		spAPIErr(t, err, jetstream.APIError{Code: 500, ErrorCode: 10012, Description: "deliver policy can not be updated"})
	})
}

// TestJSConsumerNotFound: info and delete of a missing consumer fail with 10014.
func TestJSConsumerNotFound(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		want := jetstream.APIError{Code: 404, ErrorCode: 10014, Description: "consumer not found"}
		_, err := s.Consumer(waitCtx(t), "nope")
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("Consumer: %v is not ErrConsumerNotFound", err)
		}
		spAPIErr(t, err, want)
		err = s.DeleteConsumer(waitCtx(t), "nope")
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("DeleteConsumer: %v is not ErrConsumerNotFound", err)
		}
		spAPIErr(t, err, want)
	})
}

// TestJSConsumerDelete: a deleted consumer is gone from info and from the lists, and the
// stream's consumer count drops.
func TestJSConsumerDelete(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "a"})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "b"})
		if err := s.DeleteConsumer(waitCtx(t), "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Info(waitCtx(t)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("info after delete: %v, want ErrConsumerNotFound", err)
		}
		l := s.ConsumerNames(waitCtx(t))
		if got := spNames(t, l.Name(), l.Err); !slices.Equal(got, []string{"b"}) {
			t.Errorf("names %q, want b", got)
		}
		if got := spInfo(t, s).State.Consumers; got != 1 {
			t.Errorf("consumer count %d, want 1", got)
		}
	})
}

// TestJSConsumerList: ConsumerNames and ListConsumers list every consumer of the stream and
// none of another stream's.
func TestJSConsumerList(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		other := spStream(t, env, jetstream.StreamConfig{Name: "O"})
		spConsumer(t, other, jetstream.ConsumerConfig{Durable: "elsewhere"})
		want := []string{"c1", "c2", "c3", "c4", "c5"}
		for _, name := range []string{"c3", "c1", "c5", "c2", "c4"} {
			spConsumer(t, s, jetstream.ConsumerConfig{Durable: name, FilterSubject: "S"})
		}
		l := s.ConsumerNames(waitCtx(t))
		names := spNames(t, l.Name(), l.Err)
		slices.Sort(names)
		if !slices.Equal(names, want) {
			t.Errorf("names %q, want %q", names, want)
		}
		li := s.ListConsumers(waitCtx(t))
		var listed []string
		for info := range li.Info() {
			listed = append(listed, info.Name)
			if info.Stream != "S" || info.Config.FilterSubject != "S" || info.Config.Durable != info.Name {
				t.Errorf("listed %s: stream %q filter %q durable %q", info.Name, info.Stream, info.Config.FilterSubject, info.Config.Durable)
			}
		}
		if err := li.Err(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(listed)
		if !slices.Equal(listed, want) {
			t.Errorf("listed %q, want %q", listed, want)
		}
	})
}

// TestJSConsumerDeliverPolicies: where each deliver policy starts, the num_pending of the
// create reply, and that the consumer then goes on with new messages.
func TestJSConsumerDeliverPolicies(t *testing.T) {
	// The stream holds dp.a a1 (1), dp.b b1 (2), dp.a a2 (3), dp.c c1 (4), dp.b b2 (5); after
	// the first fetch dp.a a3 (6) comes.
	rows := []struct {
		name   string
		cfg    jetstream.ConsumerConfig
		byTime uint64 // start at this message's time stamp
		first  []uint64
		then   []uint64
	}{
		{"all", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}, 0, []uint64{1, 2, 3, 4, 5}, []uint64{6}},
		{"last", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy}, 0, []uint64{5}, []uint64{6}},
		{"new", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}, 0, nil, []uint64{6}},
		{"last per subject", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy, FilterSubject: "dp.*"}, 0, []uint64{3, 4, 5}, []uint64{6}},
		{"by start sequence", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 3}, 0, []uint64{3, 4, 5}, []uint64{6}},
		{"by start sequence past the end", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 50}, 0, nil, nil},
		{"by start time", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy}, 4, []uint64{4, 5}, []uint64{6}},
		{"all filtered", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy, FilterSubject: "dp.a"}, 0, []uint64{1, 3}, []uint64{6}},
		{"last filtered", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy, FilterSubject: "dp.b"}, 0, []uint64{5}, nil},
		{"last filtered wildcard", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy, FilterSubject: "dp.*"}, 0, []uint64{5}, []uint64{6}},
		{"last per subject several filters", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy, FilterSubjects: []string{"dp.a", "dp.c"}}, 0, []uint64{3, 4}, []uint64{6}},
		{"new filtered", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy, FilterSubject: "dp.b"}, 0, nil, nil},
		{"by start sequence filtered", jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 2, FilterSubject: "dp.a"}, 0, []uint64{3}, []uint64{6}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "DP", Subjects: []string{"dp.*"}})
				for _, m := range []struct{ subj, data string }{{"dp.a", "a1"}, {"dp.b", "b1"}, {"dp.a", "a2"}, {"dp.c", "c1"}, {"dp.b", "b2"}} {
					spPub(t, env, m.subj, m.data)
				}
				cfg := row.cfg
				cfg.Durable = "d"
				if row.byTime != 0 {
					m, err := s.GetMsg(waitCtx(t), row.byTime)
					if err != nil {
						t.Fatal(err)
					}
					cfg.OptStartTime = &m.Time
				}
				c := spConsumer(t, s, cfg)
				if got := c.CachedInfo().NumPending; got != uint64(len(row.first)) {
					t.Errorf("num_pending in the create reply = %d, want %d", got, len(row.first))
				}
				if got := spStreamSeqs(t, spNoWait(t, c, 10)); !slices.Equal(got, row.first) {
					t.Errorf("first delivered %v, want %v", got, row.first)
				}
				spPub(t, env, "dp.a", "a3")
				// The real server hands a new message to its consumers a moment after the
				// publish ack: wait for what should come, then check that nothing else does.
				got := spStreamSeqs(t, spTake(t, c, len(row.then)))
				got = append(got, spStreamSeqs(t, spNoWait(t, c, 10))...)
				if !slices.Equal(got, row.then) {
					t.Errorf("then delivered %v, want %v", got, row.then)
				}
			})
		})
	}
}

// TestJSConsumerLastPerSubjectNeedsFilter: deliver last_per_subject without a filter is
// refused with 10094.
func TestJSConsumerLastPerSubjectNeedsFilter(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "d", DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10094,
			Description: "consumer delivery policy is deliver last per subject, but optional filter subject is not set"})
	})
}

// TestJSConsumerFilterSubjects: a consumer sees only the subjects its filter_subject or
// filter_subjects match, wildcards included.
func TestJSConsumerFilterSubjects(t *testing.T) {
	rows := []struct {
		name string
		cfg  jetstream.ConsumerConfig
		want []string
	}{
		{"literal", jetstream.ConsumerConfig{FilterSubject: "f.a.x"}, []string{"f.a.x"}},
		{"star", jetstream.ConsumerConfig{FilterSubject: "f.*.x"}, []string{"f.a.x", "f.b.x"}},
		{"full wildcard", jetstream.ConsumerConfig{FilterSubject: "f.a.>"}, []string{"f.a.x", "f.a.y", "f.a.y.z"}},
		{"several", jetstream.ConsumerConfig{FilterSubjects: []string{"f.b.x", "f.a.y.*"}}, []string{"f.b.x", "f.a.y.z"}},
		{"several with wildcards", jetstream.ConsumerConfig{FilterSubjects: []string{"f.*.y", "f.c"}}, []string{"f.a.y", "f.c"}},
		{"none", jetstream.ConsumerConfig{}, []string{"f.a.x", "f.b.x", "f.a.y", "f.a.y.z", "f.c"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			eachJS(t, func(t *testing.T, env *natstest.Env) {
				s := spStream(t, env, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}})
				for _, subj := range []string{"f.a.x", "f.b.x", "f.a.y", "f.a.y.z", "f.c"} {
					spPub(t, env, subj, subj)
				}
				cfg := row.cfg
				cfg.Durable = "d"
				c := spConsumer(t, s, cfg)
				if d := cmp.Diff(row.cfg.FilterSubjects, c.CachedInfo().Config.FilterSubjects); d != "" || c.CachedInfo().Config.FilterSubject != row.cfg.FilterSubject {
					t.Errorf("filter echoed %q %q", c.CachedInfo().Config.FilterSubject, c.CachedInfo().Config.FilterSubjects)
				}
				if got := c.CachedInfo().NumPending; got != uint64(len(row.want)) {
					t.Errorf("num_pending %d, want %d", got, len(row.want))
				}
				msgs := spNoWait(t, c, 10)
				var got []string
				for _, m := range msgs {
					got = append(got, m.Subject())
				}
				if !slices.Equal(got, row.want) {
					t.Errorf("delivered %q, want %q", got, row.want)
				}
			})
		})
	}
}

// TestJSConsumerFilterErrors: filter_subjects of which one contains another, or
// filter_subject together with filter_subjects, are refused. A filter outside the stream's
// subjects is accepted, and matches nothing.
func TestJSConsumerFilterErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}})
		spPub(t, env, "f.a.x", "x")
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "o", FilterSubjects: []string{"f.a.x", "f.a.>"}})
		if !errors.Is(err, jetstream.ErrOverlappingFilterSubjects) {
			t.Errorf("overlapping: %v, want ErrOverlappingFilterSubjects", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10138, Description: "consumer subject filters cannot overlap"})
		_, err = s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "b", FilterSubject: "f.a.x", FilterSubjects: []string{"f.b"}})
		if !errors.Is(err, jetstream.ErrDuplicateFilterSubjects) {
			t.Errorf("both filters: %v, want ErrDuplicateFilterSubjects", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10136, Description: "consumer cannot have both FilterSubject and FilterSubjects specified"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "x", FilterSubject: "elsewhere"})
		if got := c.CachedInfo().NumPending; got != 0 {
			t.Errorf("num_pending of a filter outside the stream: %d", got)
		}
	})
}

// TestJSConsumerFigures: Delivered, AckFloor, NumAckPending, NumRedelivered and NumPending as a
// consumer delivers, is acked out of order, and redelivers.
func TestJSConsumerFigures(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 5)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		spWantCounts(t, c, spCounts{NumPending: 5})
		msgs := spNoWait(t, c, 3)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckPending: 3, NumPending: 2})
		spDoubleAck(t, msgs[0], msgs[2])
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{1, 1}, AckPending: 1, NumPending: 2})
		rest := spNoWait(t, c, 5)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{5, 5}, AckFloor: [2]uint64{1, 1}, AckPending: 3})
		if err := msgs[1].Nak(); err != nil {
			t.Fatal(err)
		}
		re := spTake(t, c, 1)
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m1", Stream: 2, Consumer: 6, Delivered: 2}, spDeliveryOf(t, re[0])); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{6, 5}, AckFloor: [2]uint64{1, 1}, AckPending: 3, Redelivered: 1})
		spDoubleAck(t, re[0])
		// The ack floor moves over the messages acked before.
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{6, 5}, AckFloor: [2]uint64{3, 3}, AckPending: 2})
		spDoubleAck(t, rest...)
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{6, 5}, AckFloor: [2]uint64{6, 5}})
	})
}

// TestJSConsumerNumPendingFollowsStream: num_pending counts new matching messages as they are
// stored and forgets messages removed from the stream.
func TestJSConsumerNumPendingFollowsStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"n.*"}})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", FilterSubject: "n.a"})
		for _, subj := range []string{"n.a", "n.b", "n.a", "n.a"} {
			spPub(t, env, subj, "x")
		}
		spWantCounts(t, c, spCounts{NumPending: 3})
		if err := s.DeleteMsg(waitCtx(t), 3); err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{NumPending: 2})
		if err := s.Purge(waitCtx(t), jetstream.WithPurgeSubject("n.a")); err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{0, 4}, AckFloor: [2]uint64{0, 4}})
	})
}

// TestJSConsumerMany: several consumers on one stream each get every message, independently.
func TestJSConsumerMany(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 4)
		var cs []jetstream.Consumer
		for i := range 6 {
			cs = append(cs, spConsumer(t, s, jetstream.ConsumerConfig{Durable: fmt.Sprint("c", i)}))
		}
		for i, c := range cs {
			msgs := spNoWait(t, c, i%4+1)
			spDoubleAck(t, msgs...)
			if got := spStreamSeqs(t, msgs); !slices.Equal(got, []uint64{1, 2, 3, 4}[:i%4+1]) {
				t.Errorf("consumer %d got %v", i, got)
			}
		}
		for i, c := range cs {
			n := uint64(i%4 + 1)
			spWantCounts(t, c, spCounts{Delivered: [2]uint64{n, n}, AckFloor: [2]uint64{n, n}, NumPending: 4 - int(n)})
		}
		if got := spInfo(t, s).State; got.Consumers != 6 || got.Msgs != 4 {
			t.Errorf("stream: %d consumers %d messages, want 6 and 4", got.Consumers, got.Msgs)
		}
	})
}

// TestJSConsumerResume: a durable consumer picked up again with js.Consumer, on another
// connection, goes on where it left off, with unacked messages redelivered first once their
// ack wait has passed.
func TestJSConsumerResume(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		const wait = 300 * time.Millisecond
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPubN(t, env, "S", "m", 5)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", AckWait: wait})
		msgs := spNoWait(t, c, 3)
		spDoubleAck(t, msgs[0], msgs[1])

		js2, err := jetstream.New(env.Connect())
		if err != nil {
			t.Fatal(err)
		}
		again, err := js2.Consumer(waitCtx(t), "S", "d")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(spCounts{Delivered: [2]uint64{3, 3}, AckFloor: [2]uint64{2, 2}, AckPending: 1, NumPending: 2}, spCountsOf(again.CachedInfo())); d != "" {
			t.Errorf("picked up (-want +got):\n%s", d)
		}
		if got := spStreamSeqs(t, spNoWait(t, again, 10)); !slices.Equal(got, []uint64{4, 5}) {
			t.Errorf("then %v, want 4 5", got)
		}
		env.FastForward(wait)
		re := spTake(t, again, 1)
		if d := cmp.Diff(spDelivery{Subject: "S", Data: "m2", Stream: 3, Consumer: 6, Delivered: 2}, spDeliveryOf(t, re[0])); d != "" {
			t.Errorf("redelivery (-want +got):\n%s", d)
		}
	})
}

// TestJSConsumerOnWorkQueue: a work-queue stream takes one consumer without a filter, or
// several with filters that do not overlap; the server refuses the rest.
func TestJSConsumerOnWorkQueue(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq.*"}, Retention: jetstream.WorkQueuePolicy})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "all"})
		_, err := s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "second"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10099, Description: "multiple non-filtered consumers not allowed on workqueue stream"})
		_, err = s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "filtered", FilterSubject: "wq.a"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10100, Description: "filtered consumer not unique on workqueue stream"})
		if err := s.DeleteConsumer(waitCtx(t), "all"); err != nil {
			t.Fatal(err)
		}
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "a", FilterSubject: "wq.a"})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "b", FilterSubject: "wq.b"})
		_, err = s.CreateConsumer(waitCtx(t), jetstream.ConsumerConfig{Durable: "star", FilterSubject: "wq.*"})
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10100, Description: "filtered consumer not unique on workqueue stream"})
	})
}

// TestJSConsumerMissingStream: creating a consumer on a missing stream fails with 10059.
func TestJSConsumerMissingStream(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.JetStream().CreateConsumer(waitCtx(t), "NOPE", jetstream.ConsumerConfig{Durable: "d"})
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("error %v is not ErrStreamNotFound", err)
		}
		spAPIErr(t, err, jetstream.APIError{Code: 404, ErrorCode: 10059, Description: "stream not found"})
	})
}

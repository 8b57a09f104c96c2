package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// spPullSetup is a stream S on subject "S" holding n messages m0..m<n-1> and a durable
// consumer d on it with cfg.
func spPullSetup(t *testing.T, env *natstest.Env, n int, cfg jetstream.ConsumerConfig) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
	spPubN(t, env, "S", "m", n)
	if cfg.Durable == "" {
		cfg.Durable = "d"
	}
	return s, spConsumer(t, s, cfg)
}

// TestJSPullFetch: Fetch delivers the available messages in stream order, with their subject,
// payload and metadata, and returns as soon as the batch is full.
func TestJSPullFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{})
		got := spDeliveries(t, spTake(t, c, 3))
		want := []spDelivery{
			{Subject: "S", Data: "m0", Stream: 1, Consumer: 1, Delivered: 1, NumPending: 4},
			{Subject: "S", Data: "m1", Stream: 2, Consumer: 2, Delivered: 1, NumPending: 3},
			{Subject: "S", Data: "m2", Stream: 3, Consumer: 3, Delivered: 1, NumPending: 2},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("first batch (-want +got):\n%s", d)
		}
		got = spDeliveries(t, spTake(t, c, 2))
		want = []spDelivery{
			{Subject: "S", Data: "m3", Stream: 4, Consumer: 4, Delivered: 1, NumPending: 1},
			{Subject: "S", Data: "m4", Stream: 5, Consumer: 5, Delivered: 1, NumPending: 0},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("second batch (-want +got):\n%s", d)
		}
	})
}

// TestJSPullFetchPartial: a Fetch for more than there is returns what there is when its wait
// ends, without an error.
func TestJSPullFetchPartial(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{})
		b, err := c.Fetch(5, jetstream.FetchMaxWait(200*time.Millisecond))
		if got := spStreamSeqs(t, spBatch(t, b, err)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("fetched %v, want 1 2", got)
		}
		b, err = c.Fetch(5, jetstream.FetchMaxWait(200*time.Millisecond))
		if got := spBatch(t, b, err); len(got) != 0 {
			t.Errorf("fetched %d more", len(got))
		}
	})
}

// TestJSPullFetchNoWait: FetchNoWait returns at once what the consumer has, fewer than asked
// or none, without an error.
func TestJSPullFetchNoWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		if got := spNoWait(t, c, 5); len(got) != 0 {
			t.Errorf("empty stream: %d messages", len(got))
		}
		spPubN(t, env, "S", "m", 3)
		spWantCounts(t, c, spCounts{NumPending: 3})
		if got := spStreamSeqs(t, spNoWait(t, c, 2)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("got %v, want 1 2", got)
		}
		if got := spStreamSeqs(t, spNoWait(t, c, 5)); !slices.Equal(got, []uint64{3}) {
			t.Errorf("got %v, want 3", got)
		}
		if got := spNoWait(t, c, 5); len(got) != 0 {
			t.Errorf("drained consumer: %d messages", len(got))
		}
	})
}

// TestJSPullFetchWaits: a Fetch on an empty consumer waits, counted in num_waiting, and returns
// the message published meanwhile.
func TestJSPullFetchWaits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		type result struct {
			msgs []jetstream.Msg
			err  error
		}
		done := make(chan result, 1)
		go func() {
			b, err := c.Fetch(1, jetstream.FetchMaxWait(patience))
			if err != nil {
				done <- result{err: err}
				return
			}
			var msgs []jetstream.Msg
			for m := range b.Messages() {
				msgs = append(msgs, m)
			}
			done <- result{msgs, b.Error()}
		}()
		spWantCounts(t, c, spCounts{Waiting: 1})
		spPub(t, env, "S", "late")
		r := await(t, done, "the waiting fetch")
		if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0].Data()) != "late" {
			t.Fatalf("fetch: %d messages, %v", len(r.msgs), r.err)
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{1, 1}, AckPending: 1})
	})
}

// TestJSPullFetchBytes: FetchBytes delivers messages while they fit in its byte budget, which
// counts each message's subject, reply subject, headers and payload.
func TestJSPullFetchBytes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		payload := strings.Repeat("x", 100)
		for range 5 {
			spPub(t, env, "S", payload)
		}
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		// Each delivery is about 1 + 40 + 100 bytes: two fit in 350, three do not.
		b, err := c.FetchBytes(350, jetstream.FetchMaxWait(patience))
		if got := spStreamSeqs(t, spBatch(t, b, err)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("got %v, want 1 2", got)
		}
		// A message larger than the whole budget is not delivered, and the server ends the
		// request (409, which the client does not report) rather than letting it wait.
		b, err = c.FetchBytes(50, jetstream.FetchMaxWait(patience))
		if got := spBatch(t, b, err); len(got) != 0 {
			t.Errorf("budget below one message: %d messages", len(got))
		}
		spWantCounts(t, c, spCounts{Delivered: [2]uint64{2, 2}, AckPending: 2, NumPending: 3})
	})
}

// TestJSPullFetchBytesExact: a byte budget of exactly five deliveries, each counted as its
// subject, ack reply subject and payload as the client sees them, takes all five: the server
// counts the delivery's own ack subject, not an estimate of it.
func TestJSPullFetchBytesExact(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
		spPub(t, env, "S", "0123456789")
		first := spTake(t, c, 1)[0]
		size := len(first.Subject()) + len(first.Reply()) + len(first.Data())
		if err := first.Ack(); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			spPub(t, env, "S", "0123456789")
		}
		b, err := c.FetchBytes(5*size, jetstream.FetchMaxWait(patience))
		msgs := spBatch(t, b, err)
		if got := spStreamSeqs(t, msgs); !slices.Equal(got, []uint64{2, 3, 4, 5, 6}) {
			t.Errorf("a budget of 5 x %d bytes got %v, want 2 to 6", size, got)
		}
		for _, m := range msgs {
			if n := len(m.Subject()) + len(m.Reply()) + len(m.Data()); n != size {
				t.Errorf("delivery %s counts %d bytes, the first %d", m.Reply(), n, size)
			}
		}
	})
}

// TestJSPullNext: Next returns one message at a time, and times out on an empty consumer.
func TestJSPullNext(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{})
		for i := range 2 {
			m, err := c.Next(jetstream.FetchMaxWait(patience))
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data()) != fmt.Sprint("m", i) {
				t.Errorf("next %d: %q", i, m.Data())
			}
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		_, err := c.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		if !errors.Is(err, nats.ErrTimeout) {
			t.Errorf("next on an empty consumer: %v, want a timeout", err)
		}
	})
}

// TestJSPullConsume: Consume hands every message to the handler in order, the handler's acks
// count, and new messages keep coming until it is stopped.
func TestJSPullConsume(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{})
		got := make(chan string, 100)
		cc, err := c.Consume(func(m jetstream.Msg) {
			if err := m.Ack(); err != nil {
				t.Errorf("ack: %v", err)
			}
			got <- string(m.Data())
		}, jetstream.PullMaxMessages(3), jetstream.PullExpiry(time.Second)) // a stalled pull is replaced within a second, not the default 30 s
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			cc.Stop()
			await(t, cc.Closed(), "consume to stop")
		}()
		var all []string
		for range 5 {
			all = append(all, await(t, got, "a consumed message"))
		}
		spPubN(t, env, "S", "n", 4)
		for range 4 {
			all = append(all, await(t, got, "a consumed message"))
		}
		if want := append(seq("m", 5), seq("n", 4)...); !slices.Equal(all, want) {
			t.Errorf("consumed %q, want %q", all, want)
		}
		// A running Consume keeps a pull request or two waiting: num_waiting is left out.
		spConsumerUntil(t, c, "every message acked", func(ci *jetstream.ConsumerInfo) bool {
			got := spCountsOf(ci)
			got.Waiting = 0
			return got == spCounts{Delivered: [2]uint64{9, 9}, AckFloor: [2]uint64{9, 9}}
		})
	})
}

// spConsumerUntil polls the consumer's info until cond holds, failing after patience.
func spConsumerUntil(t *testing.T, c jetstream.Consumer, what string, cond func(*jetstream.ConsumerInfo) bool) {
	t.Helper()
	ctx := waitCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		ci := spCInfo(t, c)
		if cond(ci) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v until %s; consumer figures %+v", patience, what, spCountsOf(ci))
		case <-tick.C:
		}
	}
}

// TestJSPullMessages: Messages().Next() iterates over the messages as they come, and Stop ends
// it with ErrMsgIteratorClosed.
func TestJSPullMessages(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 3, jetstream.ConsumerConfig{})
		it, err := c.Messages(jetstream.PullMaxMessages(2))
		if err != nil {
			t.Fatal(err)
		}
		stopped := false
		defer func() {
			if !stopped {
				it.Stop()
			}
		}()
		var got []string
		for range 3 {
			m, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			spDoubleAck(t, m)
			got = append(got, string(m.Data()))
		}
		if !slices.Equal(got, seq("m", 3)) {
			t.Errorf("got %q", got)
		}
		it.Stop()
		stopped = true
		if _, err := it.Next(); !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			t.Errorf("next after stop: %v, want ErrMsgIteratorClosed", err)
		}
	})
}

// TestJSPullMetadata: a delivered message's metadata names its stream, consumer, both
// sequences, delivery count, pending count, and the stored time stamp, the one GetMsg reports.
func TestJSPullMetadata(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{Durable: "meta"})
		m := spTake(t, c, 1)[0]
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.GetMsg(waitCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		want := &jetstream.MsgMetadata{
			Sequence: jetstream.SequencePair{Consumer: 1, Stream: 1}, NumDelivered: 1, NumPending: 1,
			Timestamp: stored.Time, Stream: "S", Consumer: "meta",
		}
		if d := cmp.Diff(want, md); d != "" {
			t.Errorf("metadata (-want +got):\n%s", d)
		}
	})
}

// TestJSPullAckSubject: on the wire a delivery is a MSG on the stored subject with the reply
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<stored ns>.<pending>.
func TestJSPullAckSubject(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S", Subjects: []string{"w.*"}})
		spPub(t, env, "w.a", "1")
		spPub(t, env, "w.b", "2")
		spPub(t, env, "w.a", "3")
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d", FilterSubject: "w.a"})
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox, Data: []byte(`{"batch":2,"no_wait":true}`)})
		var replies []string
		for _, want := range []struct {
			subj, data string
			seq        uint64
		}{{"w.a", "1", 1}, {"w.a", "3", 3}} {
			m := next(t, sub)
			if m.Subject != want.subj || string(m.Data) != want.data {
				t.Errorf("delivery: subject %q data %q, want %q %q", m.Subject, m.Data, want.subj, want.data)
			}
			stored, err := s.GetMsg(waitCtx(t), want.seq)
			if err != nil {
				t.Fatal(err)
			}
			replies = append(replies, strings.Replace(m.Reply, strconv.FormatInt(stored.Time.UnixNano(), 10), "<ts>", 1))
		}
		if want := []string{"$JS.ACK.S.d.1.1.1.<ts>.1", "$JS.ACK.S.d.1.3.2.<ts>.0"}; !slices.Equal(replies, want) {
			t.Errorf("ack subjects %q, want %q", replies, want)
		}
	})
}

// TestJSPullRawNoWait: a no_wait pull request on a consumer with nothing to deliver is answered
// at once by a 404 No Messages status; one that got some messages ends with it too.
func TestJSPullRawNoWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, _ = spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		req := &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox, Data: []byte(`{"batch":5,"no_wait":true}`)}
		publishMsg(t, nc, req)
		if m := next(t, sub); string(m.Data) != "m0" {
			t.Errorf("first reply %q %v, want m0", m.Data, m.Header)
		}
		spStatus(t, next(t, sub), "404", "No Messages", nil)
		publishMsg(t, nc, req)
		spStatus(t, next(t, sub), "404", "No Messages", nil)
	})
}

// spStatus checks that m is a status message with code, description and the extra headers.
func spStatus(t *testing.T, m *nats.Msg, code, desc string, extra map[string]string) {
	t.Helper()
	want := nats.Header{"Status": {code}}
	if desc != "" {
		want["Description"] = []string{desc}
	}
	for k, v := range extra {
		want[k] = []string{v}
	}
	if d := cmp.Diff(want, m.Header); d != "" || len(m.Data) != 0 || m.Reply != "" {
		t.Errorf("status message: data %q reply %q, header (-want +got):\n%s", m.Data, m.Reply, d)
	}
}

// TestJSPullRawExpires: a pull request that expires unfilled is answered by 408 Request
// Timeout, with the unfilled batch and bytes in Nats-Pending-Messages and Nats-Pending-Bytes.
func TestJSPullRawExpires(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, _ = spPullSetup(t, env, 1, jetstream.ConsumerConfig{})
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		const expires = 200 * time.Millisecond
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":3,"expires":%d}`, expires)})
		if m := next(t, sub); string(m.Data) != "m0" {
			t.Errorf("first reply %q %v, want m0", m.Data, m.Header)
		}
		env.FastForward(expires)
		spStatus(t, next(t, sub), "408", "Request Timeout", map[string]string{"Nats-Pending-Messages": "2", "Nats-Pending-Bytes": "0"})
	})
}

// TestJSPullRawHeartbeat: a waiting pull request with idle_heartbeat gets 100 Idle Heartbeat
// statuses naming the last delivered sequences.
func TestJSPullRawHeartbeat(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 2, jetstream.ConsumerConfig{})
		spDoubleAck(t, spNoWait(t, c, 2)...)
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		const hb = 100 * time.Millisecond
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":1,"expires":%d,"idle_heartbeat":%d}`, patience, hb)})
		env.FastForward(hb)
		spStatus(t, next(t, sub), "100", "Idle Heartbeat", map[string]string{"Nats-Last-Consumer": "2", "Nats-Last-Stream": "2"})
	})
}

// TestJSPullRawMaxBytes: a pull request whose byte budget the next message would exceed is
// ended by a 409 Message Size Exceeds MaxBytes status, after the messages that fit, with what
// was left of the batch and of the budget: 150 less the first delivery's subject (1), ack
// subject (39) and payload (5).
func TestJSPullRawMaxBytes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := spStream(t, env, jetstream.StreamConfig{Name: "S"})
		spPub(t, env, "S", "small")
		spPub(t, env, "S", strings.Repeat("x", 200))
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "d"})
		nc := env.Connect()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":5,"max_bytes":150,"expires":%d}`, patience)})
		if m := next(t, sub); string(m.Data) != "small" {
			t.Errorf("first reply %q %v, want small", m.Data, m.Header)
		}
		spStatus(t, next(t, sub), "409", "Message Size Exceeds MaxBytes", map[string]string{"Nats-Pending-Messages": "4", "Nats-Pending-Bytes": "105"})
	})
}

// TestJSPullRawMaxWaiting: pull requests beyond max_waiting are refused with 409 Exceeded
// MaxWaiting.
func TestJSPullRawMaxWaiting(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{MaxWaiting: 1})
		nc := env.Connect()
		first, second := nats.NewInbox(), nats.NewInbox()
		sub1, sub2 := subSync(t, nc, first), subSync(t, nc, second)
		body := fmt.Appendf(nil, `{"batch":1,"expires":%d}`, patience)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: first, Data: body})
		spWantCounts(t, c, spCounts{Waiting: 1})
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: second, Data: body})
		spStatus(t, next(t, sub2), "409", "Exceeded MaxWaiting", nil)
		spPub(t, env, "S", "for the first")
		if m := next(t, sub1); string(m.Data) != "for the first" {
			t.Errorf("first request got %q %v", m.Data, m.Header)
		}
	})
}

// TestJSPullRawTurns: waiting pull requests take the messages in turn: a request served and
// still wanting more goes to the back of the queue, so two requests of three share four
// messages one each at a time, not three and one.
func TestJSPullRawTurns(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{})
		nc := env.Connect()
		first, second := nats.NewInbox(), nats.NewInbox()
		sub1, sub2 := subSync(t, nc, first), subSync(t, nc, second)
		body := fmt.Appendf(nil, `{"batch":3,"expires":%d}`, patience)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: first, Data: body})
		spWantCounts(t, c, spCounts{Waiting: 1})
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: second, Data: body})
		spWantCounts(t, c, spCounts{Waiting: 2})
		spPubN(t, env, "S", "m", 4)
		got := [2]string{}
		for i, sub := range []*nats.Subscription{sub1, sub2} {
			got[i] = string(next(t, sub).Data) + " " + string(next(t, sub).Data)
		}
		if want := [2]string{"m0 m2", "m1 m3"}; got != want {
			t.Errorf("the two requests got %q, want %q", got, want)
		}
	})
}

// TestJSPullRawServerShutdown: when the server shuts down, a waiting pull request is ended with
// 409 Server Shutdown and what it still wanted, before the connection drops: the client learns
// its request is gone rather than waiting for its expiry.
func TestJSPullRawServerShutdown(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		if env.Backend() == natstest.Container {
			t.Skip("the suite's Envs share a container, which outlives this one")
		}
		_, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{})
		// a connection of the test's own, which the Env does not drain before the server stops
		nc, err := nats.Connect(env.URL(), nats.ReconnectWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		inbox := nats.NewInbox()
		sub := subSync(t, nc, inbox)
		publishMsg(t, nc, &nats.Msg{Subject: "$JS.API.CONSUMER.MSG.NEXT.S.d", Reply: inbox,
			Data: fmt.Appendf(nil, `{"batch":5,"expires":%d}`, 2*patience)})
		spWantCounts(t, c, spCounts{Waiting: 1})
		env.Close()
		spStatus(t, next(t, sub), "409", "Server Shutdown", map[string]string{"Nats-Pending-Messages": "5", "Nats-Pending-Bytes": "0"})
	})
}

// TestJSPullMaxRequestBatch: a Fetch for a larger batch than the consumer's max_batch fails
// with the server's 409.
func TestJSPullMaxRequestBatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		_, c := spPullSetup(t, env, 5, jetstream.ConsumerConfig{MaxRequestBatch: 2})
		b, err := c.Fetch(3, jetstream.FetchMaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for range b.Messages() {
			n++
		}
		if n != 0 {
			t.Errorf("got %d messages", n)
		}
		wantErrText(t, b.Error(), "nats: Exceeded MaxRequestBatch of 2")
		if got := spStreamSeqs(t, spTake(t, c, 2)); !slices.Equal(got, []uint64{1, 2}) {
			t.Errorf("batch of 2: %v", got)
		}
	})
}

// TestJSPullDeletedConsumer: pulling from a consumer that was deleted finds no responder;
// a Fetch waiting when it is deleted ends with ErrConsumerDeleted.
func TestJSPullDeletedConsumer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s, c := spPullSetup(t, env, 0, jetstream.ConsumerConfig{})
		b, err := c.Fetch(1, jetstream.FetchMaxWait(patience))
		if err != nil {
			t.Fatal(err)
		}
		spWantCounts(t, c, spCounts{Waiting: 1})
		if err := s.DeleteConsumer(waitCtx(t), "d"); err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			t.Errorf("got %q", m.Data())
		}
		if !errors.Is(b.Error(), jetstream.ErrConsumerDeleted) {
			t.Errorf("waiting fetch: %v, want ErrConsumerDeleted", b.Error())
		}
		b, err = c.Fetch(1, jetstream.FetchMaxWait(patience))
		if err == nil {
			for range b.Messages() {
			}
			err = b.Error()
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("fetch after delete: %v, want no responders", err)
		}
	})
}

// spAdvisory subscribes to the advisories on subj and returns a function that waits for the
// next one and decodes it, leaving out its id and time stamp.
func spAdvisory(t *testing.T, env *natstest.Env, subj string) func() map[string]any {
	t.Helper()
	nc := env.Connect()
	sub := subSync(t, nc, subj)
	flush(t, nc)
	return func() map[string]any {
		t.Helper()
		m := next(t, sub)
		var adv map[string]any
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			t.Fatalf("advisory %q: %v", m.Data, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(adv["timestamp"])); err != nil {
			t.Errorf("advisory time stamp %v: %v", adv["timestamp"], err)
		}
		if id, _ := adv["id"].(string); id == "" {
			t.Errorf("advisory without an id: %q", m.Data)
		}
		delete(adv, "id")
		delete(adv, "timestamp")
		return adv
	}
}

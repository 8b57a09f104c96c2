package conformance

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natskit/natskit/natstest"
)

// Scenarios on nats-server v2.15.2's priority groups on pull consumers: the overflow, pinned
// client and prioritized policies, their config checks, the priority fields of pull requests,
// the pin (its header, its time to live, its advisories, its state in consumer info) and
// CONSUMER.UNPIN. The client sequences are those of nats.go v1.55.0's own jetstream tests
// (TestConsumerOverflow, TestConsumerPinned, TestConsumerUnpin, TestConsumerPrioritized).

// Helpers of this file start with "pg".

// pgStream is stream P (subjects p.>) with n messages on p.a, "m0" to "m<n-1>".
func pgStream(t *testing.T, env *natstest.Env, n int) jetstream.Stream {
	t.Helper()
	s := spStream(t, env, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
	spPubN(t, env, "p.a", "m", n)
	return s
}

// pgConsumer is durable C on s with the policy and group A, acks explicit.
func pgConsumer(t *testing.T, s jetstream.Stream, policy jetstream.PriorityPolicy, ttl time.Duration) jetstream.Consumer {
	t.Helper()
	return spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy,
		PriorityPolicy: policy, PriorityGroups: []string{"A"}, PinnedTTL: ttl})
}

// pgFetch fetches up to n messages and returns them and the fetch's error.
func pgFetch(t *testing.T, c jetstream.Consumer, n int, opts ...jetstream.FetchOpt) ([]jetstream.Msg, error) {
	t.Helper()
	b, err := c.Fetch(n, opts...)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, b.Error()
}

// pgAckAll acks every message.
func pgAckAll(t *testing.T, msgs []jetstream.Msg) {
	t.Helper()
	for _, m := range msgs {
		if err := m.DoubleAck(waitCtx(t)); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
}

// pgPin is the pin all messages carry, which must be one and the same.
func pgPin(t *testing.T, msgs []jetstream.Msg) string {
	t.Helper()
	if len(msgs) == 0 {
		t.Fatal("no messages to read a pin from")
	}
	pin := msgs[0].Headers().Get("Nats-Pin-Id")
	for _, m := range msgs {
		if got := m.Headers().Get("Nats-Pin-Id"); got != pin || got == "" {
			t.Fatalf("Nats-Pin-Id %q, want %q on every message", got, pin)
		}
	}
	return pin
}

// pgStatus sends a raw pull request to consumer name of P and checks its first answer is the
// status code and description.
func pgStatus(t *testing.T, env *natstest.Env, name, body, code, desc string) {
	t.Helper()
	m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.P."+name, []byte(body), patience)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if m.Header.Get("Status") != code || m.Header.Get("Description") != desc {
		t.Errorf("%s: %s %q (data %q), want %s %q", body, m.Header.Get("Status"), m.Header.Get("Description"), m.Data, code, desc)
	}
}

// pgPull sends a raw pull request whose answers come to a subscription of its own.
func pgPull(t *testing.T, env *natstest.Env, name, body string) *nats.Subscription {
	t.Helper()
	nc := env.Conn()
	inbox := nats.NewInbox()
	sub := subSync(t, nc, inbox)
	if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P."+name, inbox, []byte(body)); err != nil {
		t.Fatal(err)
	}
	flush(t, nc)
	return sub
}

// pgTake takes n messages from sub, waiting for each: the server sends them apart from its
// other answers, so they may come after an info that counts them.
func pgTake(t *testing.T, sub *nats.Subscription, n int) []*nats.Msg {
	t.Helper()
	msgs := make([]*nats.Msg, 0, n)
	for range n {
		msgs = append(msgs, next(t, sub))
	}
	return msgs
}

// pgGroups is the consumer's priority group state.
func pgGroups(t *testing.T, c jetstream.Consumer) []jetstream.PriorityGroupState {
	t.Helper()
	return spCInfo(t, c).PriorityGroups
}

// Each bad combination of policy, groups and pinned TTL is the server's error, checked in its
// order, on both.
func TestJSPriorityConfigErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		for _, c := range []struct {
			cfg  jetstream.ConsumerConfig
			want jetstream.APIError
		}{
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyOverflow},
				jetstream.APIError{Code: 400, ErrorCode: 10159, Description: "Setting PriorityPolicy requires at least one PriorityGroup to be set"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityGroups: []string{"g"}},
				jetstream.APIError{Code: 400, ErrorCode: 10196, Description: "consumer can not have priority groups when policy is none"}},
			{jetstream.ConsumerConfig{Durable: "A", PinnedTTL: time.Minute},
				jetstream.APIError{Code: 400, ErrorCode: 10197, Description: "PinnedTTL cannot be set when PriorityPolicy is none"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"g"}, DeliverSubject: "d"},
				jetstream.APIError{Code: 400, ErrorCode: 10178, Description: "priority groups can not be used with push consumers"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyPrioritized, PriorityGroups: []string{"g", ""}},
				jetstream.APIError{Code: 400, ErrorCode: 10161, Description: "Group name cannot be an empty string"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyOverflow, PriorityGroups: []string{"a.b"}},
				jetstream.APIError{Code: 400, ErrorCode: 10162, Description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"}},
			{jetstream.ConsumerConfig{Durable: "A", PriorityPolicy: jetstream.PriorityPolicyOverflow, PriorityGroups: []string{"abcdefghijklmnopq"}},
				jetstream.APIError{Code: 400, ErrorCode: 10162, Description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"}},
		} {
			_, err := s.CreateConsumer(waitCtx(t), c.cfg)
			spAPIErr(t, err, c.want)
		}
	})
}

// The pinned TTL is two minutes unless given; only the pinned policy gets one; a consumer with
// priority groups asks for API level 1.
func TestJSPriorityConfigDefaults(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		pinned := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PIN", PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}})
		if ttl := pinned.CachedInfo().Config.PinnedTTL; ttl != 2*time.Minute {
			t.Errorf("pinned TTL %v, want 2m", ttl)
		}
		over := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "OVER", PriorityPolicy: jetstream.PriorityPolicyOverflow, PriorityGroups: []string{"A", "B"}})
		cfg := over.CachedInfo().Config
		if cfg.PinnedTTL != 0 || cfg.PriorityPolicy != jetstream.PriorityPolicyOverflow || len(cfg.PriorityGroups) != 2 {
			t.Errorf("overflow config %v %v %v, want overflow, [A B], no TTL", cfg.PriorityPolicy, cfg.PriorityGroups, cfg.PinnedTTL)
		}
		for _, c := range []jetstream.Consumer{pinned, over} {
			if lvl := c.CachedInfo().Config.Metadata["_nats.req.level"]; lvl != "1" {
				t.Errorf("%s: _nats.req.level %q, want 1", c.CachedInfo().Name, lvl)
			}
		}
		plain := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PLAIN"})
		if lvl := plain.CachedInfo().Config.Metadata["_nats.req.level"]; lvl != "0" {
			t.Errorf("plain consumer: _nats.req.level %q, want 0", lvl)
		}
		neg := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "NEG", PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}, PinnedTTL: -time.Second})
		if ttl := neg.CachedInfo().Config.PinnedTTL; ttl != 2*time.Minute {
			t.Errorf("negative pinned TTL became %v, want 2m", ttl)
		}
	})
}

// Consumer info reports the first group of a consumer with groups, with no pin until a client
// is pinned; a consumer without groups reports none.
func TestJSPriorityInfoGroups(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		for _, policy := range []jetstream.PriorityPolicy{jetstream.PriorityPolicyOverflow, jetstream.PriorityPolicyPinned, jetstream.PriorityPolicyPrioritized} {
			c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C" + strconv.Itoa(int(policy)), PriorityPolicy: policy, PriorityGroups: []string{"first", "second"}})
			got := pgGroups(t, c)
			if len(got) != 1 || got[0].Group != "first" || got[0].PinnedClientID != "" || !got[0].PinnedTS.IsZero() {
				t.Errorf("policy %v: priority groups %+v, want only first, unpinned", policy, got)
			}
		}
		plain := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PLAIN"})
		if got := pgGroups(t, plain); len(got) != 0 {
			t.Errorf("plain consumer: priority groups %+v, want none", got)
		}
	})
}

// A pull request's priority fields are checked in the server's order: fields of another policy,
// the priority's range, then the group, which a priority consumer requires and must know.
func TestJSPriorityPullBadRequests(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 1)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "OVER", AckPolicy: jetstream.AckExplicitPolicy, PriorityPolicy: jetstream.PriorityPolicyOverflow, PriorityGroups: []string{"A"}})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PIN", AckPolicy: jetstream.AckExplicitPolicy, PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}})
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PRIO", AckPolicy: jetstream.AckExplicitPolicy, PriorityPolicy: jetstream.PriorityPolicyPrioritized, PriorityGroups: []string{"A"}})
		for _, c := range []struct{ name, body, desc string }{
			{"OVER", `{"batch":1,"group":"A","id":"x"}`, "Bad Request - Not a Pinned Client Priority consumer"},
			{"PIN", `{"batch":1,"group":"A","min_pending":1}`, "Bad Request - Not a Overflow Priority consumer"},
			{"PRIO", `{"batch":1,"group":"A","min_ack_pending":1}`, "Bad Request - Not a Overflow Priority consumer"},
			{"PRIO", `{"batch":1,"group":"A","id":"x"}`, "Bad Request - Not a Pinned Client Priority consumer"},
			{"PRIO", `{"batch":1,"group":"A","priority":10}`, "Bad Request - Priority must be between 0 and 9"},
			{"OVER", `{"batch":1,"group":"A","priority":-1}`, "Bad Request - Priority must be between 0 and 9"},
			{"OVER", `{"batch":1}`, "Bad Request - Priority Group missing"},
			{"PIN", `{"batch":1,"expires":1000000000}`, "Bad Request - Priority Group missing"},
			{"PRIO", `{"batch":1,"group":"B"}`, "Bad Request - Invalid Priority Group"},
			{"PIN", `{"batch":1,"group":"a.b"}`, "Bad Request - Invalid Priority Group"},
		} {
			pgStatus(t, env, c.name, c.body, "400", c.desc)
		}
	})
}

// A request naming a pin other than the current one is refused at once with 423.
func TestJSPriorityPinMismatch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 5)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("first fetch: %d messages, %v", len(msgs), err)
		}
		pgPin(t, msgs)
		pgStatus(t, env, "C", `{"batch":1,"group":"A","id":"not-the-pin","expires":1000000000}`, "423", "Nats-Pin-Id mismatch")
	})
}

// The first fetch of a pinned consumer pins its client: every message carries the pin, which
// consumer info reports; another instance of the consumer gets nothing, the pinned one goes on.
func TestJSPriorityPinnedFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 30)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		before := tcServerTime(t, c)
		msgs, err := pgFetch(t, c, 10, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("first fetch: %d messages, %v; want 10", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		pgAckAll(t, msgs)
		groups := pgGroups(t, c)
		if len(groups) != 1 || groups[0].Group != "A" || groups[0].PinnedClientID != pin || groups[0].PinnedTS.Before(before) {
			t.Errorf("priority groups %+v, want A pinned to %s since %v", groups, pin, before)
		}
		other, err := s.Consumer(waitCtx(t), "C")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err = pgFetch(t, other, 10, jetstream.FetchPriorityGroup("A"), jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil || len(msgs) != 0 {
			t.Errorf("the other instance: %d messages, %v; want none", len(msgs), err)
		}
		msgs, err = pgFetch(t, c, 10, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 || pgPin(t, msgs) != pin {
			t.Errorf("the pinned instance again: %d messages, %v; want 10 with pin %s", len(msgs), err, pin)
		}
		if len(msgs) > 0 && string(msgs[0].Data()) != "m10" {
			t.Errorf("the pinned instance goes on at %q, want m10", msgs[0].Data())
		}
	})
}

// Pinning a client is announced on the PINNED advisory, with the group and the pin.
func TestJSPriorityPinnedAdvisory(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 3)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		adv := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.PINNED.>")
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		subj, body, _ := adv()
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.consumer_group_pinned", "account": "$G",
			"stream": "P", "consumer": "C", "group": "A", "pinned_id": pin}
		if subj != "$JS.EVENT.ADVISORY.CONSUMER.PINNED.P.C" || !pgSameMap(body, want) {
			t.Errorf("advisory on %s: %v, want PINNED.P.C %v", subj, body, want)
		}
	})
}

func pgSameMap(got, want map[string]any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

// Unpinning: the answer is an empty success, the UNPINNED advisory says "admin", and consumer
// info shows no pin; the next request without a pin is pinned anew.
func TestJSPriorityUnpin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 5)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		first := pgPin(t, msgs)
		adv := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.>")
		a := covRequest(t, env, "$JS.API.CONSUMER.UNPIN.P.C", `{"group":"A"}`)
		if a.Error != nil || a.Type != "io.nats.jetstream.api.v1.consumer_unpin_response" {
			t.Errorf("unpin: %s, want success", a.raw)
		}
		subj, body, _ := adv()
		want := map[string]any{"type": "io.nats.jetstream.advisory.v1.consumer_group_unpinned", "account": "$G",
			"stream": "P", "consumer": "C", "group": "A", "reason": "admin"}
		if subj != "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.P.C" || !pgSameMap(body, want) {
			t.Errorf("advisory on %s: %v, want UNPINNED.P.C %v", subj, body, want)
		}
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != "" || !g[0].PinnedTS.IsZero() {
			t.Errorf("after unpin: %+v, want no pin", g)
		}
		other, err := s.Consumer(waitCtx(t), "C")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err = pgFetch(t, other, 2, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 2 {
			t.Fatalf("fetch after unpin: %d messages, %v", len(msgs), err)
		}
		if second := pgPin(t, msgs); second == first {
			t.Errorf("new pin %s is the old one", second)
		}
	})
}

// Unpin's errors after the request's own: an unknown consumer, a group the consumer does not
// have, through the client; unpinning a group nobody holds succeeds.
func TestJSPriorityUnpinErrors(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		if err := s.UnpinConsumer(waitCtx(t), "X", "A"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("unknown consumer: %v, want %v", err, jetstream.ErrConsumerNotFound)
		}
		err := s.UnpinConsumer(waitCtx(t), "C", "B")
		spAPIErr(t, err, jetstream.APIError{Code: 400, ErrorCode: 10160, Description: "Provided priority group does not exist for this consumer"})
		if err := s.UnpinConsumer(waitCtx(t), "C", "A"); err != nil {
			t.Errorf("unpin of an overflow consumer's group: %v, want success", err)
		}
		const typ = "consumer_unpin_response"
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.P.C", `{"group":""}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10025, Description: "invalid JSON: consumer group not specified"})
		covErr(t, covRequest(t, env, "$JS.API.CONSUMER.UNPIN.P.C", `{"group":"abcdefghijklmnopq"}`), typ,
			jetstream.APIError{Code: 400, ErrorCode: 10162, Description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"})
	})
}

// Unpinning hands the pin to a client that was waiting, once a message comes: the pinned
// client's request, which names the old pin, is refused, and the other's is pinned
// (TestConsumerUnpin's sequence).
func TestJSPriorityUnpinHandsOver(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 20)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		first, err := c.Messages(jetstream.PullPriorityGroup("A"))
		if err != nil {
			t.Fatal(err)
		}
		defer first.Stop()
		m, err := first.Next()
		if err != nil {
			t.Fatal(err)
		}
		firstPin := m.Headers().Get("Nats-Pin-Id")
		if firstPin == "" {
			t.Fatal("first message without a pin")
		}
		other, err := s.Consumer(waitCtx(t), "C")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan jetstream.Msg, 20)
		cc, err := other.Consume(func(m jetstream.Msg) { got <- m }, jetstream.PullPriorityGroup("A"), jetstream.PullExpiry(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Stop()
		spConsumerUntil(t, c, "both waiting", func(i *jetstream.ConsumerInfo) bool { return i.NumWaiting >= 2 })
		if err := s.UnpinConsumer(waitCtx(t), "C", "A"); err != nil {
			t.Fatal(err)
		}
		spPub(t, env, "p.a", "late")
		m = await(t, got, "a message for the second client")
		if pin := m.Headers().Get("Nats-Pin-Id"); pin == "" || pin == firstPin {
			t.Errorf("second client's pin %q, want a new one (old %q)", pin, firstPin)
		}
	})
}

// A request carrying a pin that was taken away meanwhile waits, and is refused with 423
// Nats-Wrong-Pin-Id and what it wanted once a message is there to deliver.
func TestJSPriorityWrongPinAfterUnpin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 1)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		if err := s.UnpinConsumer(waitCtx(t), "C", "A"); err != nil {
			t.Fatal(err)
		}
		sub := pgPull(t, env, "C", `{"batch":3,"group":"A","id":"`+pin+`","expires":30000000000}`)
		spPub(t, env, "p.a", "late")
		m := next(t, sub)
		if m.Header.Get("Status") != "423" || m.Header.Get("Description") != "Nats-Wrong-Pin-Id" ||
			m.Header.Get("Nats-Pending-Messages") != "3" || m.Header.Get("Nats-Pending-Bytes") != "0" {
			t.Errorf("answer %v %q, want 423 Nats-Wrong-Pin-Id with 3 messages and 0 bytes pending", m.Header, m.Data)
		}
	})
}

// While a client is pinned, a request naming no pin waits and ends with 408, delivering nothing.
func TestJSPriorityUnpinnedRequestWaits(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 5)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		if msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A")); err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		sub := pgPull(t, env, "C", `{"batch":2,"group":"A","expires":300000000}`)
		m := next(t, sub)
		if m.Header.Get("Status") != "408" || m.Header.Get("Nats-Pending-Messages") != "2" {
			t.Errorf("answer %v %q, want 408 with 2 messages pending", m.Header, m.Data)
		}
		if info := spCInfo(t, c); info.NumPending != 4 {
			t.Errorf("num pending %d, want 4", info.NumPending)
		}
	})
}

// The pin's header is on every message of a pinned consumer, after the headers-only size.
func TestJSPriorityPinHeaderHeadersOnly(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 2)
		c := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy, HeadersOnly: true,
			PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}})
		msgs, err := pgFetch(t, c, 2, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 2 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		pin := pgPin(t, msgs)
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != pin {
			t.Errorf("priority groups %+v, want pinned to %s", g, pin)
		}
		for _, m := range msgs {
			if len(m.Data()) != 0 || m.Headers().Get("Nats-Msg-Size") != "2" {
				t.Errorf("headers-only message: %q %v", m.Data(), m.Headers())
			}
		}
	})
}

// Overflow with min_pending: nothing while fewer messages are pending, then served
// (TestConsumerOverflow's fetch).
func TestJSPriorityOverflowMinPendingFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 100)
		c := pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		msgs, err := pgFetch(t, c, 10, jetstream.FetchMinPending(110), jetstream.FetchMaxWait(300*time.Millisecond), jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 0 {
			t.Fatalf("below min pending: %d messages, %v; want none", len(msgs), err)
		}
		spPubN(t, env, "p.b", "n", 100)
		msgs, err = pgFetch(t, c, 10, jetstream.FetchMinPending(110), jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("above min pending: %d messages, %v; want 10", len(msgs), err)
		}
		pgAckAll(t, msgs)
		if h := msgs[0].Headers().Get("Nats-Pin-Id"); h != "" {
			t.Errorf("overflow message with a pin %q", h)
		}
	})
}

// Overflow with min_ack_pending: nothing while fewer acks are outstanding, then served.
func TestJSPriorityOverflowMinAckPendingFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 40)
		c := pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		msgs, err := pgFetch(t, c, 10, jetstream.FetchMaxWait(300*time.Millisecond), jetstream.FetchMinAckPending(10), jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 0 {
			t.Fatalf("no acks pending: %d messages, %v; want none", len(msgs), err)
		}
		msgs, err = pgFetch(t, c, 10, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("plain fetch: %d messages, %v; want 10", len(msgs), err)
		}
		msgs, err = pgFetch(t, c, 10, jetstream.FetchMinAckPending(10), jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("10 acks pending: %d messages, %v; want 10", len(msgs), err)
		}
		if data := string(msgs[0].Data()); data != "m10" {
			t.Errorf("first %q, want m10", data)
		}
	})
}

// A waiting overflow request is served from the moment the stream holds enough: it takes
// messages while min_pending are left, counting the one it takes (TestConsumerOverflow's
// consume: 200 messages, min pending 110, 91 delivered).
func TestJSPriorityOverflowServesDownToThreshold(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 100)
		c := pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		sub := pgPull(t, env, "C", `{"batch":200,"group":"A","min_pending":110,"expires":30000000000}`)
		if info := spCInfo(t, c); info.NumWaiting != 1 || info.NumAckPending != 0 {
			t.Fatalf("waiting %d, ack pending %d; want 1 waiting, nothing delivered", info.NumWaiting, info.NumAckPending)
		}
		spPubN(t, env, "p.b", "n", 100)
		spConsumerUntil(t, c, "91 delivered", func(i *jetstream.ConsumerInfo) bool { return i.NumAckPending == 91 })
		got := pgTake(t, sub, 91)
		if len(got) != 91 || string(got[0].Data) != "m0" || string(got[90].Data) != "m90" {
			t.Errorf("%d messages, want 91 from m0 to m90", len(got))
		}
		if info := spCInfo(t, c); info.NumPending != 109 || info.NumWaiting != 1 {
			t.Errorf("num pending %d, waiting %d; want 109 left and the request still waiting", info.NumPending, info.NumWaiting)
		}
	})
}

// Outstanding acks let a waiting min_ack_pending request be served in the same pass that
// delivered them (TestConsumerOverflow's consume with min ack pending): from the fifth
// outstanding ack on, the two requests take turns until the fetch has its ten.
func TestJSPriorityOverflowMinAckPendingWakes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 30)
		c := pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		sub := pgPull(t, env, "C", `{"batch":50,"group":"A","min_ack_pending":5,"expires":30000000000}`)
		msgs, err := pgFetch(t, c, 10, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 10 {
			t.Fatalf("plain fetch: %d messages, %v; want 10", len(msgs), err)
		}
		spConsumerUntil(t, c, "all delivered", func(i *jetstream.ConsumerInfo) bool { return i.NumAckPending == 30 })
		want := []string{"m5", "m7", "m9", "m11", "m13"}
		for i := 15; i < 30; i++ {
			want = append(want, "m"+strconv.Itoa(i))
		}
		if got := datas(pgTake(t, sub, 20)); !slices.Equal(got, want) {
			t.Errorf("the waiting request got %v, want %v", got, want)
		}
	})
}

// Overflow requests without thresholds are served as on any pull consumer.
func TestJSPriorityOverflowNoThresholds(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 3)
		c := pgConsumer(t, s, jetstream.PriorityPolicyOverflow, 0)
		msgs, err := pgFetch(t, c, 5, jetstream.FetchPriorityGroup("A"), jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil || len(msgs) != 3 {
			t.Errorf("fetch: %d messages, %v; want 3", len(msgs), err)
		}
	})
}

// Prioritized: a waiting request of priority 0 is served before an older one of priority 1
// (TestConsumerPrioritized's fetch: 75 and 25 of 100).
func TestJSPriorityPrioritizedFetch(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPrioritized, 0)
		low := pgPull(t, env, "C", `{"batch":100,"group":"A","priority":1,"expires":30000000000}`)
		high := pgPull(t, env, "C", `{"batch":75,"group":"A","priority":0,"expires":30000000000}`)
		spConsumerUntil(t, c, "two waiting", func(i *jetstream.ConsumerInfo) bool { return i.NumWaiting == 2 })
		spPubN(t, env, "p.a", "m", 100)
		spConsumerUntil(t, c, "all delivered", func(i *jetstream.ConsumerInfo) bool { return i.NumAckPending == 100 })
		h, l := pgTake(t, high, 75), pgTake(t, low, 25)
		if len(h) != 75 || len(l) != 25 || string(h[0].Data) != "m0" || string(l[0].Data) != "m75" {
			t.Errorf("priority 0 got %d, priority 1 got %d; want m0..m74 and m75..m99", len(h), len(l))
		}
	})
}

// Prioritized through the client: Consume with priority 0 takes everything its pull asks for,
// priority 1 nothing (TestConsumerPrioritized's consume, with one pull wide enough for all).
func TestJSPriorityPrioritizedConsume(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPrioritized, 0)
		got := make(chan string, 100)
		cc1, err := c.Consume(func(m jetstream.Msg) { _ = m.Ack(); got <- "high" },
			jetstream.PullPriorityGroup("A"), jetstream.PullPrioritized(0), jetstream.PullMaxMessages(100))
		if err != nil {
			t.Fatal(err)
		}
		defer cc1.Stop()
		other, err := s.Consumer(waitCtx(t), "C")
		if err != nil {
			t.Fatal(err)
		}
		cc2, err := other.Consume(func(m jetstream.Msg) { _ = m.Ack(); got <- "low" },
			jetstream.PullPriorityGroup("A"), jetstream.PullPrioritized(1), jetstream.PullMaxMessages(10))
		if err != nil {
			t.Fatal(err)
		}
		defer cc2.Stop()
		spConsumerUntil(t, c, "both waiting", func(i *jetstream.ConsumerInfo) bool { return i.NumWaiting >= 2 })
		spPubN(t, env, "p.a", "m", 40)
		for range 40 {
			if who := await(t, got, "a message"); who != "high" {
				t.Fatalf("a message went to the priority 1 client")
			}
		}
	})
}

// Requests of one priority share its messages in turn, one message each.
func TestJSPriorityPrioritizedRoundRobin(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPrioritized, 0)
		a := pgPull(t, env, "C", `{"batch":3,"group":"A","priority":2,"expires":30000000000}`)
		b := pgPull(t, env, "C", `{"batch":3,"group":"A","priority":2,"expires":30000000000}`)
		spConsumerUntil(t, c, "two waiting", func(i *jetstream.ConsumerInfo) bool { return i.NumWaiting == 2 })
		spPubN(t, env, "p.a", "m", 4)
		spConsumerUntil(t, c, "all delivered", func(i *jetstream.ConsumerInfo) bool { return i.NumAckPending == 4 })
		if got := datas(pgTake(t, a, 2)); len(got) != 2 || got[0] != "m0" || got[1] != "m2" {
			t.Errorf("first request got %v, want [m0 m2]", got)
		}
		if got := datas(pgTake(t, b, 2)); len(got) != 2 || got[0] != "m1" || got[1] != "m3" {
			t.Errorf("second request got %v, want [m1 m3]", got)
		}
	})
}

// The client refuses, before asking, to consume a priority consumer without a group or with a
// group it does not have.
func TestJSPriorityClientNeedsGroup(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 0)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		if _, err := c.Messages(jetstream.PullPriorityGroup("BAD")); err == nil || err.Error() != "nats: invalid jetstream option: invalid priority group" {
			t.Errorf("unknown group: %v", err)
		}
		if _, err := c.Consume(func(jetstream.Msg) {}); err == nil || err.Error() != "nats: invalid jetstream option: priority group is required for priority consumer" {
			t.Errorf("no group: %v", err)
		}
	})
}

// A pull request's group and priority on a consumer without a priority policy are ignored; its
// overflow and pinned fields are bad requests.
func TestJSPriorityFieldsOnPlainConsumer(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 1)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
		pgStatus(t, env, "C", `{"batch":1,"no_wait":true,"min_pending":1}`, "400", "Bad Request - Not a Overflow Priority consumer")
		pgStatus(t, env, "C", `{"batch":1,"no_wait":true,"min_ack_pending":1}`, "400", "Bad Request - Not a Overflow Priority consumer")
		pgStatus(t, env, "C", `{"batch":1,"no_wait":true,"id":"pin"}`, "400", "Bad Request - Not a Pinned Client Priority consumer")
		pgStatus(t, env, "C", `{"batch":1,"no_wait":true,"priority":10}`, "400", "Bad Request - Priority must be between 0 and 9")
		m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.P.C", []byte(`{"batch":1,"expires":4000000000,"group":"g","priority":3}`), patience)
		if err != nil || string(m.Data) != "m0" {
			t.Errorf("group and priority on a plain consumer: %v %v, want the message", m, err)
		}
	})
}

// A no-wait request that no message may go to ends with 404 at once, as at the end of the
// stream: an overflow request below its threshold, a request of another client while one is
// pinned. With an expiry it waits for it and ends with 408.
func TestJSPriorityNoWait(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 3)
		spConsumer(t, s, jetstream.ConsumerConfig{Durable: "OVER", AckPolicy: jetstream.AckExplicitPolicy, PriorityPolicy: jetstream.PriorityPolicyOverflow, PriorityGroups: []string{"A"}})
		pgStatus(t, env, "OVER", `{"batch":1,"group":"A","min_pending":10,"no_wait":true}`, "404", "No Messages")
		pgStatus(t, env, "OVER", `{"batch":1,"group":"A","min_pending":10,"no_wait":true,"expires":300000000}`, "408", "Request Timeout")
		pin := spConsumer(t, s, jetstream.ConsumerConfig{Durable: "PIN", AckPolicy: jetstream.AckExplicitPolicy, PriorityPolicy: jetstream.PriorityPolicyPinned, PriorityGroups: []string{"A"}})
		if msgs, err := pgFetch(t, pin, 1, jetstream.FetchPriorityGroup("A")); err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
		pgStatus(t, env, "PIN", `{"batch":1,"group":"A","no_wait":true}`, "404", "No Messages")
		if info := spCInfo(t, pin); info.NumWaiting != 0 || info.NumAckPending != 1 {
			t.Errorf("waiting %d, ack pending %d; want nothing waiting, 1 delivered", info.NumWaiting, info.NumAckPending)
		}
	})
}

// A pull request that is not JSON names no group: on a pinned consumer it is served, with an
// empty Nats-Pin-Id, and pins nobody.
func TestJSPriorityPinnedPlainRequest(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 2)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		m, err := env.Conn().Request("$JS.API.CONSUMER.MSG.NEXT.P.C", nil, patience)
		if err != nil {
			t.Fatal(err)
		}
		if pin, ok := m.Header["Nats-Pin-Id"]; string(m.Data) != "m0" || !ok || len(pin) != 1 || pin[0] != "" {
			t.Errorf("answer %q with headers %v, want m0 with an empty Nats-Pin-Id", m.Data, m.Header)
		}
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != "" {
			t.Errorf("priority groups %+v, want no pin", g)
		}
	})
}

// A first request whose max_bytes the next message exceeds ends with 409 and leaves the
// consumer unpinned, though the pin was announced; the next request is pinned anew.
func TestJSPriorityPinMaxBytes(t *testing.T) {
	eachJS(t, func(t *testing.T, env *natstest.Env) {
		s := pgStream(t, env, 2)
		c := pgConsumer(t, s, jetstream.PriorityPolicyPinned, time.Minute)
		adv := tcAdvisory(t, env, "$JS.EVENT.ADVISORY.CONSUMER.PINNED.>")
		pgStatus(t, env, "C", `{"batch":1,"group":"A","max_bytes":5,"expires":1000000000}`, "409", "Message Size Exceeds MaxBytes")
		_, first, _ := adv()
		if g := pgGroups(t, c); len(g) != 1 || g[0].PinnedClientID != "" {
			t.Errorf("after the 409: %+v, want no pin", g)
		}
		msgs, err := pgFetch(t, c, 1, jetstream.FetchPriorityGroup("A"))
		if err != nil || len(msgs) != 1 || string(msgs[0].Data()) != "m0" {
			t.Fatalf("fetch: %d messages, %v; want m0", len(msgs), err)
		}
		_, second, _ := adv()
		if pin := pgPin(t, msgs); second["pinned_id"] != pin || first["pinned_id"] == pin {
			t.Errorf("pins announced %v then %v, message pinned to %s; want two pins, the second on the message", first["pinned_id"], second["pinned_id"], pin)
		}
	})
}

package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// TestPublishSubscribe: a message published on a subject reaches a subscriber on another
// connection with its subject and payload intact, no reply subject and no headers.
func TestPublishSubscribe(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "greet")
		interest(t, env, "greet", 1)
		publish(t, env.Conn(), "greet", "hello")
		m := next(t, sub)
		if m.Subject != "greet" || string(m.Data) != "hello" || m.Reply != "" || m.Header != nil {
			t.Errorf("got subject %q data %q reply %q header %v, want greet hello, no reply, no header", m.Subject, m.Data, m.Reply, m.Header)
		}
	})
}

// TestPublishWithReplySubject: the reply subject a publisher sets is delivered with the message
// unchanged, though nobody listens on it.
func TestPublishWithReplySubject(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "ask")
		interest(t, env, "ask", 1)
		if err := env.Conn().PublishRequest("ask", "answers.here.1", []byte("q")); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sub); m.Reply != "answers.here.1" || string(m.Data) != "q" {
			t.Errorf("got reply %q data %q, want answers.here.1 q", m.Reply, m.Data)
		}
	})
}

// TestEmptyPayload: a message with no payload is delivered, with an empty payload.
func TestEmptyPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "empty")
		interest(t, env, "empty", 1)
		publish(t, env.Conn(), "empty", "")
		if m := next(t, sub); len(m.Data) != 0 || m.Header != nil {
			t.Errorf("got data %q header %v, want nothing", m.Data, m.Header)
		}
	})
}

// TestBinaryPayload: every byte value, CR LF sequences included, passes through unchanged.
func TestBinaryPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "bin")
		interest(t, env, "bin", 1)
		data := make([]byte, 0, 512+8)
		for i := range 512 {
			data = append(data, byte(i))
		}
		data = append(data, "\r\nPUB x 1\r\n"...)
		if err := env.Conn().Publish("bin", data); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sub); !bytes.Equal(m.Data, data) {
			t.Errorf("payload changed in transit: got %d bytes, want %d", len(m.Data), len(data))
		}
	})
}

// wildcardSubjects are published, in this order, to every pattern of TestWildcardMatrix. The
// last one is the marker after which nothing more can arrive.
var wildcardSubjects = []string{
	"foo", "foo.bar", "foo.baz", "foo.bar.baz", "foo.bar.qux", "foo.bar.baz.qux", "bar.bar",
	"Foo.bar", "foo*", "foo-bar_9", "a.b.c.d.e.f.g.h", "zz.marker.last.of.all",
}

// TestWildcardMatrix: which published subjects each subscription pattern receives. "*" matches
// exactly one token, ">" one or more at the end, subjects are case sensitive, and a wildcard
// character inside a token ("foo*") is an ordinary character.
func TestWildcardMatrix(t *testing.T) {
	rows := []struct {
		pattern string
		want    []string
	}{
		{"foo", []string{"foo"}},
		{"foo.bar", []string{"foo.bar"}},
		{"Foo.bar", []string{"Foo.bar"}},
		{"foo.*", []string{"foo.bar", "foo.baz"}},
		{"*.bar", []string{"foo.bar", "bar.bar", "Foo.bar"}},
		{"*", []string{"foo", "foo*", "foo-bar_9"}},
		{"*.*", []string{"foo.bar", "foo.baz", "bar.bar", "Foo.bar"}},
		{"foo.>", []string{"foo.bar", "foo.baz", "foo.bar.baz", "foo.bar.qux", "foo.bar.baz.qux"}},
		{"foo.*.baz", []string{"foo.bar.baz"}},
		{"foo.*.>", []string{"foo.bar.baz", "foo.bar.qux", "foo.bar.baz.qux"}},
		{"*.bar.>", []string{"foo.bar.baz", "foo.bar.qux", "foo.bar.baz.qux"}},
		{"*.*.*.>", []string{"foo.bar.baz.qux", "a.b.c.d.e.f.g.h", "zz.marker.last.of.all"}},
		{">", wildcardSubjects},
		{"foo*", []string{"foo*"}},
		{"a.*.c.>", []string{"a.b.c.d.e.f.g.h"}},
		{"nothing.here", nil},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		pub := env.Conn()
		for _, row := range rows {
			t.Run(row.pattern, func(t *testing.T) {
				nc := env.Connect()
				sub := subSync(t, nc, row.pattern)
				done := subSync(t, nc, wildcardSubjects[len(wildcardSubjects)-1])
				flush(t, nc)
				for _, s := range wildcardSubjects {
					publish(t, pub, s, s)
				}
				flush(t, pub)
				next(t, done)
				got := datas(takeQueued(t, sub))
				if !slices.Equal(got, row.want) {
					t.Errorf("pattern %q received %q, want %q", row.pattern, got, row.want)
				}
				for _, m := range takeQueued(t, sub) {
					t.Errorf("pattern %q received %q after the marker", row.pattern, m.Subject)
				}
				if err := nc.Drain(); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// TestOverlappingSubscriptionsOneConnection: a connection with two subscriptions that both match
// a subject gets the message once per subscription.
func TestOverlappingSubscriptionsOneConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		a, b, c := subSync(t, nc, "orders.>"), subSync(t, nc, "orders.new"), subSync(t, nc, "orders.new")
		interest(t, env, "orders.new", 3)
		publish(t, env.Conn(), "orders.new", "o1")
		for _, s := range []*nats.Subscription{a, b, c} {
			if d := nextData(t, s); d != "o1" {
				t.Errorf("%q got %q", s.Subject, d)
			}
		}
		marker(t, env.Conn(), "orders.mark", a)
		nothingMore(t, b)
		nothingMore(t, c)
	})
}

// TestFanOutToManyConnections: every subscriber on every connection gets its own copy.
func TestFanOutToManyConnections(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		var subs []*nats.Subscription
		for range 8 {
			subs = append(subs, subSync(t, env.Connect(), "news"))
		}
		interest(t, env, "news", len(subs))
		publish(t, env.Conn(), "news", "extra")
		for i, s := range subs {
			if d := nextData(t, s); d != "extra" {
				t.Errorf("subscriber %d got %q", i, d)
			}
		}
	})
}

// TestNoSubscribersMessageDropped: a message nobody subscribes to is dropped silently; a later
// subscriber does not get it, and the publisher hears nothing.
func TestNoSubscribersMessageDropped(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		errOpt, errs := asyncErrs()
		pub := env.Connect(errOpt)
		publish(t, pub, "void", "lost")
		flush(t, pub)
		sub := subSync(t, env.Connect(), "void")
		interest(t, env, "void", 1)
		marker(t, pub, "void", sub)
		noErr(t, errs)
	})
}

// TestHeadersRoundTrip: headers reach the subscriber as sent: several keys, repeated keys with
// their values in order, and an empty value.
func TestHeadersRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "h")
		interest(t, env, "h", 1)
		m := nats.NewMsg("h")
		m.Header.Add("Trace-Id", "abc")
		m.Header.Add("Accept", "json")
		m.Header.Add("Accept", "xml")
		m.Header.Add("Accept", "text")
		m.Header.Set("Empty", "")
		m.Data = []byte("body")
		publishMsg(t, env.Conn(), m)
		got := next(t, sub)
		if string(got.Data) != "body" {
			t.Errorf("data = %q", got.Data)
		}
		if v := got.Header.Values("Accept"); !slices.Equal(v, []string{"json", "xml", "text"}) {
			t.Errorf("Accept = %q, want json, xml, text in order", v)
		}
		if v := got.Header.Get("Trace-Id"); v != "abc" {
			t.Errorf("Trace-Id = %q", v)
		}
		if v, ok := got.Header["Empty"]; !ok || len(v) != 1 || v[0] != "" {
			t.Errorf("Empty = %q, %v; want one empty value", v, ok)
		}
		if len(got.Header) != 3 {
			t.Errorf("headers = %v, want exactly Trace-Id, Accept, Empty", got.Header)
		}
	})
}

// TestHeaderKeyCaseKept: the server passes header keys through in the case they were written.
func TestHeaderKeyCaseKept(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "h")
		interest(t, env, "h", 1)
		m := nats.NewMsg("h")
		m.Header["lower-case-key"] = []string{"1"}
		m.Header["MiXeD-CaSe"] = []string{"2"}
		publishMsg(t, env.Conn(), m)
		got := next(t, sub)
		if got.Header["lower-case-key"] == nil || got.Header["MiXeD-CaSe"] == nil || len(got.Header) != 2 {
			t.Errorf("headers = %v, want keys lower-case-key and MiXeD-CaSe as written", got.Header)
		}
	})
}

// TestHeadersWithoutPayload: a message with headers and no payload keeps both.
func TestHeadersWithoutPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "h")
		interest(t, env, "h", 1)
		m := nats.NewMsg("h")
		m.Header.Set("Only", "headers")
		publishMsg(t, env.Conn(), m)
		got := next(t, sub)
		if len(got.Data) != 0 || got.Header.Get("Only") != "headers" {
			t.Errorf("got data %q headers %v", got.Data, got.Header)
		}
	})
}

// TestStatusLineHeaders: a status line in a header block ("NATS/1.0 408 Request Timeout") is
// forwarded verbatim; the client reads it as the Status and Description headers. (A
// header-only 503 is what the client takes for "no responders": NextMsg would return
// nats.ErrNoResponders for it, so the subscription here is a channel one.)
func TestStatusLineHeaders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		ch := make(chan *nats.Msg, 2)
		if _, err := env.Connect().ChanSubscribe("status", ch); err != nil {
			t.Fatal(err)
		}
		interest(t, env, "status", 1)
		w := dialWire(t, env)
		w.handshake(`{"verbose":false,"headers":true}`)
		w.hpub("status", "", "NATS/1.0 408 Request Timeout\r\nX-Extra: 1\r\n\r\n", "late")
		w.hpub("status", "", "NATS/1.0 503\r\n\r\n", "")
		w.pingPong()
		m := await(t, ch, "the first message")
		if m.Header.Get("Status") != "408" || m.Header.Get("Description") != "Request Timeout" ||
			m.Header.Get("X-Extra") != "1" || string(m.Data) != "late" {
			t.Errorf("first: headers %v data %q, want Status 408, Description Request Timeout, X-Extra 1, data late", m.Header, m.Data)
		}
		m = await(t, ch, "the second message")
		if m.Header.Get("Status") != "503" || m.Header["Description"] != nil || len(m.Data) != 0 {
			t.Errorf("second: headers %v data %q, want Status 503 alone", m.Header, m.Data)
		}
	})
}

// TestOrderFromOnePublisher: messages from one publisher reach a subscriber in the order they
// were published.
func TestOrderFromOnePublisher(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "seq")
		interest(t, env, "seq", 1)
		const n = 2000
		for i := range n {
			publish(t, env.Conn(), "seq", fmt.Sprint(i))
		}
		for i := range n {
			if d := nextData(t, sub); d != fmt.Sprint(i) {
				t.Fatalf("message %d is %q", i, d)
			}
		}
	})
}

// TestOrderAcrossSubjects: one publisher's messages on different subjects reach a wildcard
// subscriber, and separate subscriptions on one connection, in publish order.
func TestOrderAcrossSubjects(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		all := subSync(t, nc, "evt.>")
		a, b := subSync(t, nc, "evt.a"), subSync(t, nc, "evt.b")
		interest(t, env, "evt.a", 2)
		interest(t, env, "evt.b", 2)
		var want, wantA, wantB []string
		for i := range 300 {
			s := []string{"evt.a", "evt.b"}[i%3%2]
			d := fmt.Sprintf("%s/%d", s, i)
			publish(t, env.Conn(), s, d)
			want = append(want, d)
			if s == "evt.a" {
				wantA = append(wantA, d)
			} else {
				wantB = append(wantB, d)
			}
		}
		check := func(sub *nats.Subscription, want []string) {
			for i, w := range want {
				if d := nextData(t, sub); d != w {
					t.Fatalf("%s message %d is %q, want %q", sub.Subject, i, d, w)
				}
			}
		}
		check(all, want)
		check(a, wantA)
		check(b, wantB)
	})
}

// TestLargestPayload: a payload of exactly the server's maximum (1 MiB by default) is accepted
// and delivered whole.
func TestLargestPayload(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "big")
		interest(t, env, "big", 1)
		max := env.Conn().MaxPayload()
		if max != 1<<20 {
			t.Fatalf("MaxPayload() = %d, want %d", max, 1<<20)
		}
		data := bytes.Repeat([]byte("0123456789abcdef"), int(max)/16)
		if err := env.Conn().Publish("big", data); err != nil {
			t.Fatal(err)
		}
		if m := next(t, sub); !bytes.Equal(m.Data, data) {
			t.Errorf("got %d bytes, want the %d published", len(m.Data), len(data))
		}
	})
}

// TestManyLargePayloads: several large messages in a row arrive complete and in order.
func TestManyLargePayloads(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		sub := subSync(t, env.Connect(), "big")
		interest(t, env, "big", 1)
		for i := range 8 {
			data := bytes.Repeat([]byte{byte('a' + i)}, 256<<10+i)
			if err := env.Conn().Publish("big", data); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 8 {
			m := next(t, sub)
			if len(m.Data) != 256<<10+i || m.Data[0] != byte('a'+i) || m.Data[len(m.Data)-1] != byte('a'+i) {
				t.Fatalf("message %d: %d bytes starting %q", i, len(m.Data), m.Data[:1])
			}
		}
	})
}

// TestMaxPayloadExceeded: the server advertises its maximum payload in INFO and the client
// refuses, before sending, a payload one byte larger, with or without headers counted in.
func TestMaxPayloadExceeded(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Conn()
		if got := nc.MaxPayload(); got != 4096 {
			t.Fatalf("MaxPayload() = %d, want 4096", got)
		}
		sub := subSync(t, env.Connect(), "p")
		interest(t, env, "p", 1)
		err := nc.Publish("p", make([]byte, 4097))
		wantIs(t, err, nats.ErrMaxPayload, "nats: maximum payload exceeded")

		m := nats.NewMsg("p")
		m.Header.Set("K", "v") // the header block counts against the maximum
		m.Data = make([]byte, 4096-len("NATS/1.0\r\nK: v\r\n\r\n")+1)
		wantIs(t, nc.PublishMsg(m), nats.ErrMaxPayload, "nats: maximum payload exceeded")
		m.Data = m.Data[1:]
		publishMsg(t, nc, m)
		if got := next(t, sub); len(got.Data) != len(m.Data) || got.Header.Get("K") != "v" {
			t.Errorf("got %d bytes, header %v", len(got.Data), got.Header)
		}
		publish(t, nc, "p", strings.Repeat("x", 4096))
		if got := next(t, sub); len(got.Data) != 4096 {
			t.Errorf("got %d bytes, want 4096", len(got.Data))
		}
		if !nc.IsConnected() {
			t.Error("connection lost after a refused publish")
		}
	}, natstest.WithMaxPayload(4096))
}

// TestNoEcho: a connection made with NoEcho does not receive its own messages, while other
// connections do; by default a connection receives its own.
func TestNoEcho(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		quiet := env.Connect(nats.NoEcho())
		loud := env.Connect()
		other := env.Connect()
		qs, ls, xs := subSync(t, quiet, "echo"), subSync(t, loud, "echo"), subSync(t, other, "echo")
		interest(t, env, "echo", 3)
		publish(t, quiet, "echo", "from-quiet")
		publish(t, loud, "echo", "from-loud")
		flush(t, quiet)
		flush(t, loud)
		if got := []string{nextData(t, ls), nextData(t, ls)}; !slices.Contains(got, "from-quiet") || !slices.Contains(got, "from-loud") {
			t.Errorf("loud got %q, want both, its own included", got)
		}
		if d := nextData(t, qs); d != "from-loud" {
			t.Errorf("quiet got %q, want only from-loud", d)
		}
		if got := []string{nextData(t, xs), nextData(t, xs)}; !slices.Contains(got, "from-quiet") || !slices.Contains(got, "from-loud") {
			t.Errorf("other got %q, want both", got)
		}
		marker(t, loud, "echo", qs)
	})
}

// TestUnsubscribe: after Unsubscribe, the server delivers nothing more to the subscription, and
// the client calls it invalid.
func TestUnsubscribe(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		sub := subSync(t, nc, "u")
		mark := subSync(t, nc, "u.mark")
		flush(t, nc)
		publish(t, env.Conn(), "u", "before")
		if d := nextData(t, sub); d != "before" {
			t.Fatalf("got %q", d)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		publish(t, env.Conn(), "u", "after")
		marker(t, env.Conn(), "u.mark", mark)
		if _, err := sub.NextMsg(0); !errors.Is(err, nats.ErrBadSubscription) {
			t.Errorf("NextMsg after Unsubscribe: %v, want %v", err, nats.ErrBadSubscription)
		}
		wantIs(t, sub.Unsubscribe(), nats.ErrBadSubscription, "nats: invalid subscription")
	})
}

// TestAutoUnsubscribe: AutoUnsubscribe(3) delivers exactly three messages of the five
// published, and then the subscription is gone; the server stops routing to it too.
func TestAutoUnsubscribe(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		sub := subSync(t, nc, "auto")
		if err := sub.AutoUnsubscribe(3); err != nil {
			t.Fatal(err)
		}
		mark := subSync(t, nc, "auto.mark")
		flush(t, nc)
		for _, d := range seq("m", 5) {
			publish(t, env.Conn(), "auto", d)
		}
		marker(t, env.Conn(), "auto.mark", mark)
		var got []string
		for range 3 {
			got = append(got, nextData(t, sub))
		}
		if !slices.Equal(got, seq("m", 3)) {
			t.Errorf("got %q, want m0 m1 m2", got)
		}
		if _, err := sub.NextMsg(0); !errors.Is(err, nats.ErrBadSubscription) && !errors.Is(err, nats.ErrMaxMessages) {
			t.Errorf("NextMsg after the maximum: %v", err)
		}
		if sub.IsValid() {
			t.Error("subscription still valid after its maximum")
		}
		// The server has dropped the subscription: a new one on the same subject is the only interest.
		other := subSync(t, env.Connect(), "auto")
		interest(t, env, "auto", 1)
		publish(t, env.Conn(), "auto", "later")
		if d := nextData(t, other); d != "later" {
			t.Errorf("got %q", d)
		}
	})
}

// TestAutoUnsubscribeAfterDelivered: AutoUnsubscribe(2) on a subscription that has already had
// two messages ends it at once.
func TestAutoUnsubscribeAfterDelivered(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		sub := subSync(t, nc, "auto")
		mark := subSync(t, nc, "auto.mark")
		flush(t, nc)
		publish(t, env.Conn(), "auto", "a")
		publish(t, env.Conn(), "auto", "b")
		nextData(t, sub)
		nextData(t, sub)
		if err := sub.AutoUnsubscribe(2); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		publish(t, env.Conn(), "auto", "c")
		marker(t, env.Conn(), "auto.mark", mark)
		if sub.IsValid() {
			t.Error("subscription still valid")
		}
	})
}

// TestInvalidSubscribeSubjects: the client refuses subscriptions on malformed subjects with
// nats.ErrBadSubject and never sends them.
func TestInvalidSubscribeSubjects(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Conn()
		for _, s := range []string{"", "foo..bar", "foo.", ".foo", "foo bar", "foo.>.bar"} {
			_, err := nc.SubscribeSync(s)
			if s == "foo.>.bar" {
				// The client lets this one through; the server rejects it (see TestWireInvalidSubjectSub).
				continue
			}
			wantIs(t, err, nats.ErrBadSubject, "nats: invalid subject")
		}
		_, err := nc.QueueSubscribeSync("ok", "bad queue")
		wantIs(t, err, nats.ErrBadQueueName, "nats: invalid queue name")
	})
}

// TestSubscribeInvalidSubjectAsyncError: a subscription the client lets through but the server
// finds invalid ("foo.>.bar") is answered with -ERR 'Invalid Subject', which closes the client's
// connection with that error.
func TestSubscribeInvalidSubjectAsyncError(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		closedOpt, closed := closedChan()
		nc := env.Connect(closedOpt)
		if _, err := nc.SubscribeSync("foo.>.bar"); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		await(t, closed, "the connection to close")
		wantErrText(t, nc.LastError(), "nats: Invalid Subject")
	})
}

// TestPublishInvalidSubjects: the client refuses an empty subject or one with whitespace; the
// server drops without complaint a publish on a subject with empty tokens.
func TestPublishInvalidSubjects(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		errOpt, errs := asyncErrs()
		nc := env.Connect(errOpt)
		for _, s := range []string{"", "foo bar", "a\tb"} {
			wantIs(t, nc.Publish(s, nil), nats.ErrBadSubject, "nats: invalid subject")
		}
		all := subSync(t, env.Connect(), ">")
		interest(t, env, "anything", 1)
		for _, s := range []string{"foo..bar", ".foo", "foo."} {
			publish(t, nc, s, s)
		}
		publish(t, nc, "mark", "natskit-marker")
		if m := next(t, all); m.Subject != "mark" {
			t.Errorf("a publish on %q was delivered", m.Subject)
		}
		flush(t, nc)
		noErr(t, errs)
		if !nc.IsConnected() {
			t.Error("publisher disconnected")
		}
	})
}

// TestPublishWildcardSubject: a publish on a subject with wildcard tokens is not refused when the
// connection is not pedantic: it reaches the subscriptions whose patterns match it token by
// token, the wildcard tokens matching only wildcards.
func TestPublishWildcardSubject(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		star, gt, lit := subSync(t, nc, "foo.*"), subSync(t, nc, "foo.>"), subSync(t, nc, "foo.bar")
		interest(t, env, "foo.bar", 3)
		publish(t, env.Conn(), "foo.*", "star")
		publish(t, env.Conn(), "foo.>", "gt")
		marker(t, env.Conn(), "foo.bar", lit)
		// the marker reached lit; the server may write it to star and gt after lit, so read
		// those up to their own copy of it
		for _, sub := range []*nats.Subscription{star, gt} {
			var got []string
			for len(got) == 0 || got[len(got)-1] != "natskit-marker" {
				got = append(got, string(next(t, sub).Data))
			}
			if !slices.Equal(got, []string{"star", "gt", "natskit-marker"}) {
				t.Errorf("%s got %q", sub.Subject, got)
			}
		}
	})
}

// TestPedanticInvalidPublish: on a pedantic connection, a publish on a wildcard subject is
// answered with -ERR 'Invalid Publish Subject', which the client takes as fatal: it closes
// with that error.
func TestPedanticInvalidPublish(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		closedOpt, closed := closedChan()
		nc := env.Connect(closedOpt, func(o *nats.Options) error { o.Pedantic = true; return nil })
		publish(t, nc, "foo.*", "x")
		await(t, closed, "the connection to close")
		wantErrText(t, nc.LastError(), "nats: Invalid Publish Subject")
	})
}

// TestVerboseConnection: a client in verbose mode gets +OK for each operation and works as
// usual.
func TestVerboseConnection(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(func(o *nats.Options) error { o.Verbose = true; return nil })
		sub := subSync(t, nc, "v")
		interest(t, env, "v", 1)
		publish(t, nc, "v", "verbose")
		if d := nextData(t, sub); d != "verbose" {
			t.Errorf("got %q", d)
		}
		flush(t, nc)
		if nc.LastError() != nil {
			t.Errorf("last error %v", nc.LastError())
		}
	})
}

// TestUnusualSubjects: any bytes but whitespace may make a token: UTF-8, punctuation, a dollar
// prefix; subjects may be long and have many tokens. Wildcards match them like any other.
func TestUnusualSubjects(t *testing.T) {
	long := strings.Repeat("t.", 127) + strings.Repeat("x", 500)
	subjects := []string{"données.café", "a-b_c~d!e@f#g%h^&(){}[]|", "$SYS.like.this", "日本.東京", "a:b.c=d", long}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		var subs []*nats.Subscription
		for _, s := range subjects {
			subs = append(subs, subSync(t, nc, s))
		}
		star := subSync(t, nc, "données.*")
		gt := subSync(t, nc, "t.t.>")
		flush(t, nc)
		for _, s := range subjects {
			publish(t, env.Conn(), s, s)
		}
		for i, s := range subjects {
			if m := next(t, subs[i]); m.Subject != s || string(m.Data) != s {
				t.Errorf("subscription %q got %q", s, m.Subject)
			}
		}
		if m := next(t, star); m.Subject != "données.café" {
			t.Errorf("données.* got %q", m.Subject)
		}
		if m := next(t, gt); m.Subject != long {
			t.Errorf("t.t.> got %q", m.Subject)
		}
	})
}

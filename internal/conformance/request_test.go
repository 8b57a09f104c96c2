package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// respond serves subj on a new connection, answering each request with answer(m).
func respond(t *testing.T, env *natstest.Env, subj string, answer func(m *nats.Msg) *nats.Msg) *nats.Subscription {
	t.Helper()
	sub, err := env.Connect().Subscribe(subj, func(m *nats.Msg) {
		if r := answer(m); r != nil {
			_ = m.RespondMsg(r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// echo answers with the request's payload.
func echo(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: m.Data} }

// TestRequestReply: a request reaches the responder with a reply subject in the client's inbox
// space, and the answer comes back to the requester.
func TestRequestReply(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		replies := make(chan string, 1)
		respond(t, env, "svc.echo", func(m *nats.Msg) *nats.Msg { replies <- m.Reply; return echo(m) })
		interest(t, env, "svc.echo", 1)
		resp, err := env.Conn().Request("svc.echo", []byte("ping"), patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Data) != "ping" {
			t.Errorf("answer %q", resp.Data)
		}
		if r := <-replies; !strings.HasPrefix(r, "_INBOX.") || r != resp.Subject {
			t.Errorf("responder saw reply subject %q, answer arrived on %q", r, resp.Subject)
		}
	})
}

// TestRequestReplyHeaders: headers travel with the request to the responder and with the answer
// back to the requester.
func TestRequestReplyHeaders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "svc", func(m *nats.Msg) *nats.Msg {
			r := nats.NewMsg("")
			r.Header.Set("Seen-Id", m.Header.Get("Req-Id"))
			r.Header["Multi"] = append([]string{"x"}, m.Header.Values("Multi")...)
			r.Data = []byte("ok")
			return r
		})
		interest(t, env, "svc", 1)
		req := nats.NewMsg("svc")
		req.Header.Set("Req-Id", "42")
		req.Header.Add("Multi", "a")
		req.Header.Add("Multi", "b")
		resp, err := env.Conn().RequestMsg(req, patience)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Seen-Id") != "42" || strings.Join(resp.Header.Values("Multi"), ",") != "x,a,b" || string(resp.Data) != "ok" {
			t.Errorf("answer headers %v data %q", resp.Header, resp.Data)
		}
	})
}

// TestNoResponders: a request nobody is subscribed to fails at once with nats.ErrNoResponders:
// the server answers the client's inbox with a 503 status instead of letting it time out.
func TestNoResponders(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		start := time.Now()
		_, err := env.Conn().Request("nobody.home", []byte("hello?"), time.Minute)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
		if d := time.Since(start); d > patience {
			t.Errorf("no-responders answer took %v", d)
		}
	})
}

// TestNoRespondersOldStyle: with the old request style (a fresh inbox subscription per request)
// the server still answers 503, and the request fails with nats.ErrNoResponders.
func TestNoRespondersOldStyle(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.UseOldRequestStyle())
		_, err := nc.Request("nobody.home", nil, time.Minute)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestNoRespondersWithContext: RequestWithContext fails the same way.
func TestNoRespondersWithContext(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		_, err := env.Conn().RequestWithContext(waitCtx(t), "nobody.home", nil)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestNoRespondersManualInbox: a client that publishes with a reply subject it subscribes to
// itself (as old-style requests do) receives the server's no-responders message on that
// subscription: header only, no payload, status 503 without a description, and a Nats-Subject
// header naming the subject that had no responders.
func TestNoRespondersManualInbox(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		inbox := nc.NewInbox()
		ch := make(chan *nats.Msg, 4)
		if _, err := nc.ChanSubscribe(inbox, ch); err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishRequest("orders.lookup", inbox, []byte("id=7")); err != nil {
			t.Fatal(err)
		}
		m := await(t, ch, "the no-responders message")
		if m.Subject != inbox || m.Reply != "" || len(m.Data) != 0 {
			t.Errorf("got subject %q reply %q data %q", m.Subject, m.Reply, m.Data)
		}
		want := nats.Header{"Status": {"503"}, "Nats-Subject": {"orders.lookup"}}
		if fmt.Sprint(m.Header) != fmt.Sprint(want) {
			t.Errorf("headers %v, want %v", m.Header, want)
		}
	})
}

// TestNoRespondersSyncInbox: on a synchronous subscription, the no-responders message is
// reported by NextMsg as nats.ErrNoResponders.
func TestNoRespondersSyncInbox(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		inbox := nc.NewInbox()
		sub := subSync(t, nc, inbox)
		if err := nc.PublishRequest("nobody", inbox, nil); err != nil {
			t.Fatal(err)
		}
		_, err := sub.NextMsg(patience)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestNoRespondersOnlyOwnReplySubscription: the server sends the 503 only to a subscription of
// the publisher's own connection on the reply subject; a reply subject that another connection
// subscribes to gets nothing.
func TestNoRespondersOnlyOwnReplySubscription(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		listener := env.Connect()
		replies := subSync(t, listener, "replies.>")
		flush(t, listener)
		pub := env.Connect()
		if err := pub.PublishRequest("nobody", "replies.1", nil); err != nil {
			t.Fatal(err)
		}
		marker(t, pub, "replies.mark", replies)
	})
}

// TestNoRespondersAfterResponderLeaves: once the only responder unsubscribes, requests fail with
// nats.ErrNoResponders.
func TestNoRespondersAfterResponderLeaves(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect()
		sub, err := nc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond(m.Data) })
		if err != nil {
			t.Fatal(err)
		}
		interest(t, env, "svc", 1)
		if _, err := env.Conn().Request("svc", nil, patience); err != nil {
			t.Fatal(err)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		flush(t, nc)
		_, err = env.Conn().Request("svc", nil, patience)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestCustomInboxPrefix: with nats.CustomInboxPrefix, requests carry reply subjects under that
// prefix, the answers are routed back, and no-responders still works.
func TestCustomInboxPrefix(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.CustomInboxPrefix("_APP.replies"))
		seen := make(chan string, 1)
		respond(t, env, "svc", func(m *nats.Msg) *nats.Msg { seen <- m.Reply; return echo(m) })
		interest(t, env, "svc", 1)
		resp, err := nc.Request("svc", []byte("x"), patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Data) != "x" {
			t.Errorf("answer %q", resp.Data)
		}
		if r := <-seen; !strings.HasPrefix(r, "_APP.replies.") {
			t.Errorf("reply subject %q, want it under _APP.replies.", r)
		}
		_, err = nc.Request("nobody", nil, time.Minute)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestCustomInboxPrefixOldStyle: the custom prefix applies to old-style requests as well.
func TestCustomInboxPrefixOldStyle(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.CustomInboxPrefix("_APP"), nats.UseOldRequestStyle())
		seen := make(chan string, 1)
		respond(t, env, "svc", func(m *nats.Msg) *nats.Msg { seen <- m.Reply; return echo(m) })
		interest(t, env, "svc", 1)
		if _, err := nc.Request("svc", nil, patience); err != nil {
			t.Fatal(err)
		}
		if r := <-seen; !strings.HasPrefix(r, "_APP.") || strings.Count(r, ".") != 1 {
			t.Errorf("reply subject %q, want _APP.<one token>", r)
		}
	})
}

// TestOldRequestStyle: with nats.UseOldRequestStyle each request has an inbox of its own, and
// answers come back on it.
func TestOldRequestStyle(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.UseOldRequestStyle())
		seen := make(chan string, 3)
		respond(t, env, "svc", func(m *nats.Msg) *nats.Msg { seen <- m.Reply; return echo(m) })
		interest(t, env, "svc", 1)
		inboxes := map[string]bool{}
		for i := range 3 {
			resp, err := nc.Request("svc", []byte(fmt.Sprint(i)), patience)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Data) != fmt.Sprint(i) {
				t.Errorf("request %d answered %q", i, resp.Data)
			}
			r := <-seen
			if !strings.HasPrefix(r, "_INBOX.") || strings.Count(r, ".") != 1 {
				t.Errorf("reply subject %q, want _INBOX.<one token>", r)
			}
			inboxes[r] = true
		}
		if len(inboxes) != 3 {
			t.Errorf("reply subjects %v: want one per request", inboxes)
		}
	})
}

// TestNewRequestStyleSharesInbox: new-style requests share one wildcard subscription: their
// reply subjects have the same prefix and differ in the last token.
func TestNewRequestStyleSharesInbox(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		seen := make(chan string, 2)
		respond(t, env, "svc", func(m *nats.Msg) *nats.Msg { seen <- m.Reply; return echo(m) })
		interest(t, env, "svc", 1)
		for range 2 {
			if _, err := env.Conn().Request("svc", nil, patience); err != nil {
				t.Fatal(err)
			}
		}
		a, b := <-seen, <-seen
		pa, pb := a[:strings.LastIndexByte(a, '.')], b[:strings.LastIndexByte(b, '.')]
		if a == b || pa != pb || strings.Count(a, ".") != 2 {
			t.Errorf("reply subjects %q and %q: want _INBOX.<mux>.<token> with one mux", a, b)
		}
	})
}

// TestRequestTimeout: a responder that never answers makes the request time out with
// nats.ErrTimeout (the server sends no 503, since the request was delivered).
func TestRequestTimeout(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		got := make(chan struct{}, 1)
		respond(t, env, "silent", func(*nats.Msg) *nats.Msg { got <- struct{}{}; return nil })
		interest(t, env, "silent", 1)
		_, err := env.Conn().Request("silent", nil, 100*time.Millisecond)
		wantIs(t, err, nats.ErrTimeout, "nats: timeout")
		await(t, got, "the request to reach the silent responder")
	})
}

// TestRequestFirstAnswerWins: with two responders both get the request; the requester takes the
// first answer.
func TestRequestFirstAnswerWins(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		served := make(chan string, 2)
		for _, name := range []string{"a", "b"} {
			respond(t, env, "svc", func(m *nats.Msg) *nats.Msg { served <- name; return &nats.Msg{Data: []byte(name)} })
		}
		interest(t, env, "svc", 2)
		resp, err := env.Conn().Request("svc", nil, patience)
		if err != nil {
			t.Fatal(err)
		}
		if d := string(resp.Data); d != "a" && d != "b" {
			t.Errorf("answer %q", d)
		}
		x, y := await(t, served, "a responder"), await(t, served, "the other responder")
		if x == y {
			t.Errorf("served twice by %s", x)
		}
	})
}

// TestRequestWildcardResponder: a responder subscribed with a wildcard sees the subject the
// request was sent to.
func TestRequestWildcardResponder(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "svc.*.get", func(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: []byte(m.Subject)} })
		interest(t, env, "svc.users.get", 1)
		for _, s := range []string{"svc.users.get", "svc.orders.get"} {
			resp, err := env.Conn().Request(s, nil, patience)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Data) != s {
				t.Errorf("responder saw %q, want %q", resp.Data, s)
			}
		}
		_, err := env.Conn().Request("svc.users.put", nil, patience)
		wantIs(t, err, nats.ErrNoResponders, "nats: no responders available for request")
	})
}

// TestRequestsConcurrent: many requests in flight at once on one connection each get their own
// answer.
func TestRequestsConcurrent(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "svc", echo)
		interest(t, env, "svc", 1)
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				want := fmt.Sprint(i)
				resp, err := env.Conn().Request("svc", []byte(want), patience)
				if err == nil && string(resp.Data) != want {
					err = fmt.Errorf("request %s answered %q", want, resp.Data)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestRequestNested: a responder may itself make a request before answering.
func TestRequestNested(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "inner", func(m *nats.Msg) *nats.Msg { return &nats.Msg{Data: append([]byte("inner:"), m.Data...)} })
		mid := env.Connect()
		if _, err := mid.Subscribe("outer", func(m *nats.Msg) {
			r, err := mid.Request("inner", m.Data, patience)
			if err != nil {
				_ = m.Respond([]byte(err.Error()))
				return
			}
			_ = m.Respond(append([]byte("outer:"), r.Data...))
		}); err != nil {
			t.Fatal(err)
		}
		interest(t, env, "inner", 1)
		interest(t, env, "outer", 1)
		resp, err := env.Conn().Request("outer", []byte("x"), patience)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Data) != "outer:inner:x" {
			t.Errorf("answer %q", resp.Data)
		}
	})
}

// TestRequestContextCanceled: a request whose context ends while the responder is silent fails
// with the context's error.
func TestRequestContextCanceled(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		got := make(chan struct{}, 1)
		respond(t, env, "silent", func(*nats.Msg) *nats.Msg { got <- struct{}{}; return nil })
		interest(t, env, "silent", 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			select {
			case <-got:
			case <-ctx.Done():
			}
			cancel()
		}()
		_, err := env.Conn().RequestWithContext(ctx, "silent", nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want %v", err, context.Canceled)
		}
	})
}

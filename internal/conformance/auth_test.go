package conformance

import (
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
	"github.com/natskit/natskit/natstest"
)

// admin is the first user of every auth scenario: the Env's own connections (Conn, the
// recorders) connect as admin, who may do anything.
var admin = fake.User{Name: "admin", Password: "admin-pw"}

// withUser configures admin and u.
func withUser(u fake.User) natstest.Option { return natstest.WithUsers(admin, u) }

// as connects as u, collecting its asynchronous errors.
func as(t *testing.T, env *natstest.Env, u fake.User) (*nats.Conn, <-chan error) {
	t.Helper()
	errOpt, errs := asyncErrs()
	return env.Connect(nats.UserInfo(u.Name, u.Password), errOpt), errs
}

// permViolation is how nats.go reports the server's -ERR for a permissions violation.
func permViolation(serverText string) string {
	return "nats: permissions violation: " + serverText
}

// TestUserPasswordAccepted: each configured user connects with its own password.
func TestUserPasswordAccepted(t *testing.T) {
	bob := fake.User{Name: "bob", Password: "s3cret"}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.UserInfo(bob.Name, bob.Password))
		sub := subSync(t, nc, "hello")
		flush(t, nc)
		publish(t, env.Conn(), "hello", "from admin")
		if d := nextData(t, sub); d != "from admin" {
			t.Errorf("got %q", d)
		}
	}, withUser(bob))
}

// TestAuthRefused: a wrong password, an unknown user or no credentials at all are refused: Dial
// fails with nats.ErrAuthorization, in the server's words "Authorization Violation".
func TestAuthRefused(t *testing.T) {
	bob := fake.User{Name: "bob", Password: "s3cret"}
	cases := []struct {
		name string
		opt  nats.Option
	}{
		{"wrong password", nats.UserInfo("bob", "nope")},
		{"unknown user", nats.UserInfo("mallory", "s3cret")},
		{"no credentials", nats.UserInfo("", "")},
		{"password of another user", nats.UserInfo("bob", admin.Password)},
		{"token instead", func(o *nats.Options) error { o.User, o.Password, o.Token = "", "", "s3cret"; return nil }},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				nc, err := env.Dial(c.opt, nats.NoReconnect())
				if nc != nil {
					t.Fatalf("connected (%v)", nc.ConnectedUrl())
				}
				wantIs(t, err, nats.ErrAuthorization, "nats: Authorization Violation")
			})
		}
	}, withUser(bob))
}

// TestTokenAccepted: with a token configured, a client presenting it connects.
func TestTokenAccepted(t *testing.T) {
	each(t, func(t *testing.T, env *natstest.Env) {
		nc := env.Connect(nats.Token("t0ken"))
		sub := subSync(t, nc, "hello")
		flush(t, nc)
		publish(t, env.Conn(), "hello", "hi")
		if d := nextData(t, sub); d != "hi" {
			t.Errorf("got %q", d)
		}
	}, natstest.WithToken("t0ken"))
}

// TestTokenRefused: a wrong token, no token, or a user and password instead are refused with
// nats.ErrAuthorization.
func TestTokenRefused(t *testing.T) {
	cases := []struct {
		name string
		opt  nats.Option
	}{
		{"wrong token", nats.Token("nope")},
		{"no token", nats.Token("")},
		{"user instead", func(o *nats.Options) error { o.Token, o.User, o.Password = "", "t0ken", "t0ken"; return nil }},
	}
	each(t, func(t *testing.T, env *natstest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				nc, err := env.Dial(c.opt, nats.NoReconnect())
				if nc != nil {
					t.Fatalf("connected (%v)", nc.ConnectedUrl())
				}
				wantIs(t, err, nats.ErrAuthorization, "nats: Authorization Violation")
			})
		}
	}, natstest.WithToken("t0ken"))
}

// TestPublishPermissionDenied: a publish outside the user's allow list is dropped and reported
// asynchronously as a permissions violation naming the subject; the connection stays up and its
// allowed publishes are delivered.
func TestPublishPermissionDenied(t *testing.T) {
	u := fake.User{Name: "pub", Password: "pw", Permissions: &fake.Permissions{
		Publish: &fake.SubjectPermission{Allow: []string{"allowed.>"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		watch := subSync(t, env.Conn(), ">")
		flush(t, env.Conn())
		nc, errs := as(t, env, u)
		publish(t, nc, "forbidden", "no")
		err := nextErr(t, errs)
		wantIs(t, err, nats.ErrPermissionViolation, permViolation(`Permissions Violation for Publish to "forbidden"`))
		publish(t, nc, "allowed.x", "yes")
		if m := next(t, watch); m.Subject != "allowed.x" {
			t.Errorf("first delivered %q, want allowed.x", m.Subject)
		}
		if !nc.IsConnected() {
			t.Error("connection lost after a permissions violation")
		}
	}, withUser(u))
}

// TestPublishDenyOverridesAllow: a subject matching both allow and deny is denied, and deny
// patterns use wildcards token by token.
func TestPublishDenyOverridesAllow(t *testing.T) {
	u := fake.User{Name: "pub", Password: "pw", Permissions: &fake.Permissions{
		Publish: &fake.SubjectPermission{Allow: []string{">"}, Deny: []string{"secret.>", "*.private"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		watch := subSync(t, env.Conn(), ">")
		flush(t, env.Conn())
		nc, errs := as(t, env, u)
		for _, s := range []string{"secret.plans", "secret.a.b", "a.private", "public", "a.b.private", "secret", "private.a"} {
			publish(t, nc, s, s)
		}
		publish(t, nc, "done", "done")
		var got []string
		for {
			m := next(t, watch)
			if m.Subject == "done" {
				break
			}
			got = append(got, m.Subject)
		}
		if want := []string{"public", "a.b.private", "secret", "private.a"}; !slices.Equal(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
		for _, s := range []string{"secret.plans", "secret.a.b", "a.private"} {
			wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Publish to "`+s+`"`))
		}
		flush(t, nc)
		noErr(t, errs)
	}, withUser(u))
}

// TestSubscribePermissionDenied: a subscription outside the user's allow list is reported
// asynchronously as a permissions violation; the subscription gets nothing while allowed ones
// work.
func TestSubscribePermissionDenied(t *testing.T) {
	u := fake.User{Name: "sub", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Allow: []string{"public.>"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		denied := subSync(t, nc, "private")
		allowed := subSync(t, nc, "public.news")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "private"`))
		flush(t, nc)
		publish(t, env.Conn(), "private", "secret")
		marker(t, env.Conn(), "public.news", allowed)
		nothingMore(t, denied)
		noErr(t, errs)
	}, withUser(u))
}

// TestSubscribePermissionErrOnNextMsg: with nats.PermissionErrOnSubscribe, the denied
// subscription itself reports the violation from NextMsg.
func TestSubscribePermissionErrOnNextMsg(t *testing.T) {
	u := fake.User{Name: "sub", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Deny: []string{"private.>"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		errOpt, _ := asyncErrs()
		nc := env.Connect(nats.UserInfo(u.Name, u.Password), nats.PermissionErrOnSubscribe(true), errOpt)
		sub := subSync(t, nc, "private.x")
		_, err := sub.NextMsg(patience)
		wantIs(t, err, nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "private.x"`))
	}, withUser(u))
}

// TestSubscribeAllowMatchesPatternLiterally: the server checks a subscription's subject
// against the allow list as if it were a literal subject, so a wildcard in the allow list
// matches a wildcard token in the subscription: allow "orders.*" accepts "orders.>" (its ">"
// token matches the "*"), which then receives subjects deeper than orders.*, while ">" and
// "*.new" are refused ("orders" does not match their first token).
func TestSubscribeAllowMatchesPatternLiterally(t *testing.T) {
	u := fake.User{Name: "sub", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Allow: []string{"orders.*"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		star := subSync(t, nc, "orders.*")
		lit := subSync(t, nc, "orders.new")
		wide := subSync(t, nc, "orders.>")
		all := subSync(t, nc, ">")
		first := subSync(t, nc, "*.new")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to ">"`))
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "*.new"`))
		flush(t, nc)
		publish(t, env.Conn(), "orders.new", "o")
		publish(t, env.Conn(), "orders.new.deep", "deep")
		if d := nextData(t, star); d != "o" {
			t.Errorf("orders.* got %q", d)
		}
		if d := nextData(t, lit); d != "o" {
			t.Errorf("orders.new got %q", d)
		}
		if got := []string{nextData(t, wide), nextData(t, wide)}; !slices.Equal(got, []string{"o", "deep"}) {
			t.Errorf("orders.> got %q, want o and deep", got)
		}
		marker(t, env.Conn(), "orders.new", lit)
		nothingMore(t, all)
		nothingMore(t, first)
		takeQueued(t, star)
		takeQueued(t, wide)
		noErr(t, errs)
	}, withUser(u))
}

// TestSubscribeDenyFiltersWildcard: a wildcard subscription that overlaps a denied subject is
// accepted, but the server withholds the messages on the denied subjects from it.
func TestSubscribeDenyFiltersWildcard(t *testing.T) {
	u := fake.User{Name: "sub", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Deny: []string{"events.secret"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		all := subSync(t, nc, "events.>")
		exact := subSync(t, nc, "events.secret")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "events.secret"`))
		flush(t, nc)
		for _, s := range []string{"events.public", "events.secret", "events.secret.more"} {
			publish(t, env.Conn(), s, s)
		}
		publish(t, env.Conn(), "events.done", "done")
		var got []string
		for d := ""; d != "done"; {
			d = nextData(t, all)
			got = append(got, d)
		}
		if want := []string{"events.public", "events.secret.more", "done"}; !slices.Equal(got, want) {
			t.Errorf("events.> got %q, want %q", got, want)
		}
		nothingMore(t, exact)
		noErr(t, errs)
	}, withUser(u))
}

// TestSubscribeDenyWildcardPattern: a deny pattern with a wildcard refuses subscriptions to
// the subjects it matches and to itself, not to others.
func TestSubscribeDenyWildcardPattern(t *testing.T) {
	u := fake.User{Name: "sub", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Allow: []string{">"}, Deny: []string{"admin.*"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		subSync(t, nc, "admin.users")
		subSync(t, nc, "admin.*")
		deep := subSync(t, nc, "admin.users.list")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "admin.users"`))
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "admin.*"`))
		flush(t, nc)
		noErr(t, errs)
		publish(t, env.Conn(), "admin.users.list", "ok")
		if d := nextData(t, deep); d != "ok" {
			t.Errorf("got %q", d)
		}
	}, withUser(u))
}

// TestQueueSubscribePermission: a subscribe permission of the form "subject queue" allows
// joining that queue group only: a plain subscription and other groups are refused, naming the
// queue.
func TestQueueSubscribePermission(t *testing.T) {
	u := fake.User{Name: "worker", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Allow: []string{"jobs.* workers"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		ok := queueSync(t, nc, "jobs.run", "workers")
		queueSync(t, nc, "jobs.run", "others")
		subSync(t, nc, "jobs.run")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "jobs.run" using queue "others"`))
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "jobs.run"`))
		flush(t, nc)
		noErr(t, errs)
		publish(t, env.Conn(), "jobs.run", "j")
		if d := nextData(t, ok); d != "j" {
			t.Errorf("got %q", d)
		}
	}, withUser(u))
}

// TestQueueSubscribeDenyPermission: a deny of the form "subject queue" refuses that queue group
// only; the plain subscription and other groups are accepted.
func TestQueueSubscribeDenyPermission(t *testing.T) {
	u := fake.User{Name: "worker", Password: "pw", Permissions: &fake.Permissions{
		Subscribe: &fake.SubjectPermission{Deny: []string{"jobs.* untrusted"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		queueSync(t, nc, "jobs.run", "untrusted")
		q := queueSync(t, nc, "jobs.run", "workers")
		plain := subSync(t, nc, "jobs.run")
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Subscription to "jobs.run" using queue "untrusted"`))
		flush(t, nc)
		noErr(t, errs)
		publish(t, env.Conn(), "jobs.run", "j")
		if d := nextData(t, q); d != "j" {
			t.Errorf("queue got %q", d)
		}
		if d := nextData(t, plain); d != "j" {
			t.Errorf("plain got %q", d)
		}
	}, withUser(u))
}

// TestPermissionViolationRequestReply: a user who may publish only to the service cannot answer
// a request (its reply is a publish to the requester's inbox) but can still send requests and
// get their answers: replies to it need no permission.
func TestPermissionViolationRequestReply(t *testing.T) {
	u := fake.User{Name: "client", Password: "pw", Permissions: &fake.Permissions{
		Publish: &fake.SubjectPermission{Allow: []string{"svc.>"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		respond(t, env, "svc.echo", echo)
		interest(t, env, "svc.echo", 1)
		nc, errs := as(t, env, u)
		resp, err := nc.Request("svc.echo", []byte("x"), patience)
		if err != nil || string(resp.Data) != "x" {
			t.Fatalf("request: %v %v", resp, err)
		}

		reqs := subSync(t, nc, "ask.me")
		flush(t, nc)
		if err := env.Conn().PublishRequest("ask.me", "answers.1", nil); err != nil {
			t.Fatal(err)
		}
		m := next(t, reqs)
		if err := m.Respond([]byte("answer")); err != nil {
			t.Fatal(err)
		}
		wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(`Permissions Violation for Publish to "answers.1"`))
	}, withUser(u))
}

// TestPermissionsAllowNothing: an allow list that matches nothing the user tries refuses every
// publish and subscription, each reported separately, and the connection survives them all.
func TestPermissionsAllowNothing(t *testing.T) {
	u := fake.User{Name: "mute", Password: "pw", Permissions: &fake.Permissions{
		Publish:   &fake.SubjectPermission{Allow: []string{"nothing.here"}},
		Subscribe: &fake.SubjectPermission{Allow: []string{"nothing.here"}},
	}}
	each(t, func(t *testing.T, env *natstest.Env) {
		nc, errs := as(t, env, u)
		publish(t, nc, "a", "")
		subSync(t, nc, "b")
		publish(t, nc, "c", "")
		want := []string{
			`Permissions Violation for Publish to "a"`,
			`Permissions Violation for Subscription to "b"`,
			`Permissions Violation for Publish to "c"`,
		}
		for _, w := range want {
			wantIs(t, nextErr(t, errs), nats.ErrPermissionViolation, permViolation(w))
		}
		flush(t, nc)
		if !nc.IsConnected() {
			t.Error("connection lost")
		}
		if err := nc.LastError(); !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("LastError = %v", err)
		}
	}, withUser(u))
}

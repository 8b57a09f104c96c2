package subject_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/internal/subject"
)

// oracle answers routing questions with the real nats-server: a client subscribes on the
// pattern and the server's own sublist says whether the subject has interest.
type oracle struct {
	nc  *nats.Conn
	acc *server.Account
}

func newOracle(tb testing.TB) *oracle {
	tb.Helper()
	srv, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	srv.Start()
	tb.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	if !srv.ReadyForConnections(10 * time.Second) {
		tb.Fatal("server not ready for connections")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.NoReconnect())
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(nc.Close) // registered last, so it runs before the shutdown
	return &oracle{nc: nc, acc: srv.GlobalAccount()}
}

// subscribe subscribes on pattern, which the server must accept, and returns the unsubscribe.
func (o *oracle) subscribe(tb testing.TB, pattern string) func() {
	tb.Helper()
	sub, err := o.nc.SubscribeSync(pattern)
	if err != nil {
		tb.Fatalf("subscribe %q: %v", pattern, err)
	}
	if err := o.nc.Flush(); err != nil {
		tb.Fatalf("flush after subscribe %q: %v (last error %v)", pattern, err, o.nc.LastError())
	}
	return func() {
		if err := sub.Unsubscribe(); err != nil {
			tb.Fatalf("unsubscribe %q: %v", pattern, err)
		}
	}
}

// routes reports whether the server routes a message published on subj to the current
// subscriptions. A subject with a space, tab, CR or LF cannot be published at all.
func (o *oracle) routes(subj string) bool {
	if strings.ContainsAny(subj, " \t\r\n") {
		return false
	}
	return o.acc.Interest(subj) > 0
}

// matches is the server's answer to subject.Matches(pattern, subj).
func (o *oracle) matches(tb testing.TB, pattern, subj string) bool {
	tb.Helper()
	if !server.IsValidSubject(pattern) {
		return false // the client refuses it, or the server answers -ERR and the client closes
	}
	unsub := o.subscribe(tb, pattern)
	defer unsub()
	return o.routes(subj)
}

// cases builds every subject of one to three tokens from the given tokens, joined by '.'.
func cases(tokens []string) []string {
	var out []string
	var build func(prefix string, n int)
	build = func(prefix string, n int) {
		for _, t := range tokens {
			s := t
			if n > 0 {
				s = prefix + "." + t
			}
			out = append(out, s)
			if n < 2 {
				build(s, n+1)
			}
		}
	}
	build("", 0)
	return append(out, "", ".", "..", " ")
}

func TestAgainstServer(t *testing.T) {
	o := newOracle(t)
	all := cases([]string{"a", "b", "*", ">", "a*", "", "a b", "\f"})
	for _, p := range all {
		if got, want := subject.ValidPattern(p), server.IsValidSubject(p); got != want {
			t.Errorf("ValidPattern(%q) = %v, server.IsValidSubject = %v", p, got, want)
		}
		if got, want := subject.ValidLiteral(p), server.IsValidPublishSubject(p); got != want {
			t.Errorf("ValidLiteral(%q) = %v, server.IsValidPublishSubject = %v", p, got, want)
		}
	}
	patterns := cases([]string{"a", "b", "*", ">", "a*", ""})
	subjects := cases([]string{"a", "b", "*", ">", "a*", "", "a b", "\f"})
	checked, routed := 0, 0
	for _, p := range patterns {
		valid := server.IsValidSubject(p)
		unsub := func() {}
		if valid {
			unsub = o.subscribe(t, p)
		}
		for _, s := range subjects {
			want := valid && o.routes(s)
			if want {
				routed++
			}
			if got := subject.Matches(p, s); got != want {
				t.Errorf("Matches(%q, %q) = %v, server routes = %v", p, s, got, want)
			}
			checked++
		}
		unsub()
	}
	if routed == 0 {
		t.Fatal("the server routed none of the subjects: the oracle is broken")
	}
	t.Logf("checked %d pattern/subject pairs against the server, %d routed", checked, routed)
}

// FuzzMatches checks Matches, ValidPattern and ValidLiteral against nats-server.
func FuzzMatches(f *testing.F) {
	for _, s := range [][2]string{
		{"foo", "foo"}, {"foo.*", "foo.bar"}, {"foo.>", "foo.bar.baz"}, {">", "a"},
		{"wc.>", "wc.*"}, {"wc.*", "wc.>"}, {"wc.foo", "wc.*"}, {"foo*", "foo*"},
		{"foo.>.bar", "foo.x.bar"}, {"a..b", "a..b"}, {"foo bar", "foo bar"}, {">", "foo."},
		{"*.*", "a.b"}, {"*", "a.b"}, {"a.\fb", "a.\fb"}, {">", "a.\fb"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	o := newOracle(f)
	f.Fuzz(func(t *testing.T, pattern, subj string) {
		if len(pattern) > 1024 || len(subj) > 1024 {
			t.Skip("longer than a protocol line allows")
		}
		if got, want := subject.ValidPattern(pattern), server.IsValidSubject(pattern); got != want {
			t.Errorf("ValidPattern(%q) = %v, server.IsValidSubject = %v", pattern, got, want)
		}
		if got, want := subject.ValidLiteral(subj), server.IsValidPublishSubject(subj); got != want {
			t.Errorf("ValidLiteral(%q) = %v, server.IsValidPublishSubject = %v", subj, got, want)
		}
		if got, want := subject.Matches(pattern, subj), o.matches(t, pattern, subj); got != want {
			t.Errorf("Matches(%q, %q) = %v, server routes = %v", pattern, subj, got, want)
		}
	})
}

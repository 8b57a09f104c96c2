package subject_test

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/natskit/natskit/internal/subject"
)

var collideCases = [][2]string{
	{"a", "a"}, {"a", "b"}, {"*.*x", "a.b"}, {"$JS.EVENT.x", "$JS.EVENT.>"}, {"$JS.*.x", "$JS.EVENT.>"}, {"a.b", "a.*"}, {"a.b", "a.>"}, {"a", "a.>"}, {"a.>", "*.b"},
	{"*.b", "a.*"}, {"a.*", "a.*.c"}, {"a.>", "a.*.c"}, {"*", ">"}, {"a.*x", "a.b"}, {"a.*x", "a.*"},
	{"a.>x", "a.b.c"}, {"a.b*", "a.*"}, {"*x.b", "a.*"}, {"a..b", "a.*.b"}, {"", "a"}, {"", ">"},
	{"a.", "a.*"}, {">", ">"}, {"a.*.>", "a.b"}, {"a.*.>", "*.*.c"}, {"foo.*x.bar", "foo.>"},
}

// TestCollideAsServer: Collide answers as nats-server's SubjectsCollide, quirks included.
func TestCollideAsServer(t *testing.T) {
	for _, c := range collideCases {
		for _, p := range [][2]string{c, {c[1], c[0]}} {
			if got, want := subject.Collide(p[0], p[1]), server.SubjectsCollide(p[0], p[1]); got != want {
				t.Errorf("Collide(%q, %q) = %v, nats-server says %v", p[0], p[1], got, want)
			}
		}
	}
}

// TestSubsetMatchAsServer: SubsetMatch answers as nats-server's SubjectMatchesFilter.
func TestSubsetMatchAsServer(t *testing.T) {
	for _, c := range collideCases {
		for _, p := range [][2]string{c, {c[1], c[0]}} {
			if got, want := subject.SubsetMatch(p[0], p[1]), server.SubjectMatchesFilter(p[0], p[1]); got != want {
				t.Errorf("SubsetMatch(%q, %q) = %v, nats-server says %v", p[0], p[1], got, want)
			}
		}
	}
}

// FuzzCollideAsServer: on any two subjects, Collide answers as nats-server's SubjectsCollide.
func FuzzCollideAsServer(f *testing.F) {
	for _, c := range collideCases {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := subject.Collide(a, b), server.SubjectsCollide(a, b); got != want {
			t.Errorf("Collide(%q, %q) = %v, nats-server says %v", a, b, got, want)
		}
		if got, want := subject.SubsetMatch(a, b), server.SubjectMatchesFilter(a, b); got != want {
			t.Errorf("SubsetMatch(%q, %q) = %v, nats-server says %v", a, b, got, want)
		}
	})
}

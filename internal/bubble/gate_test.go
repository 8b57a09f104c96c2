package bubble

import (
	"strings"
	"testing"
	"testing/synctest"
)

func TestIn(t *testing.T) {
	if In() {
		t.Error("In() = true outside a bubble")
	}
	synctest.Test(t, func(t *testing.T) {
		if !In() {
			t.Error("In() = false in a bubble")
		}
	})
}

func TestSameTest(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"TestA", "TestA", true},
		{"TestA", "TestA/sub", true},
		{"TestA/sub", "TestA", true},
		{"TestA", "TestAB", false},
		{"TestA/x", "TestA/y", false},
	} {
		if got := sameTest(c.a, c.b); got != c.want {
			t.Errorf("sameTest(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// A bubble of a test that holds the gate outside the bubble is refused, not left to wait; a
// bubble of another test, and a second entry of the same bubble, get in once it is out.
func TestEnter(t *testing.T) {
	leaveOuter, err := Enter("TestX", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Enter("TestX/sub", true); err == nil || !strings.Contains(err.Error(), "TestX has a server open outside its testing/synctest bubble") {
		t.Fatalf("a bubble inside a test with a server open outside it: %v", err)
	}
	leaveOuter()
	leave1, err := Enter("TestY", true)
	if err != nil {
		t.Fatal(err)
	}
	leave2, err := Enter("TestY/sub", true) // the same bubble's: shares the gate
	if err != nil {
		t.Fatal(err)
	}
	leave2()
	leave1()
	if Queued() != 0 {
		t.Fatalf("Queued() = %d", Queued())
	}
}

// What the gate costs a bubble: the pool is emptied twice, at each end.
func BenchmarkEmptyTimerPool(b *testing.B) {
	for b.Loop() {
		EmptyTimerPool()
	}
}

package natstest_test

import (
	"errors"
	"flag"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/natstest"
)

// In a testing/synctest bubble, New(t) runs the fake in process and every clock, the client's
// included, is the bubble's: a 10-second request timeout passes at once.
func Example_bubble() {
	test := func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			env := natstest.New(t, natstest.WithBackend(natstest.Fake)) // the default, named: the one a bubble can hold
			env.Conn().Subscribe("svc.slow", func(*nats.Msg) {})        // never replies
			env.Conn().Flush()

			start := time.Now()
			_, err := env.Connect().Request("svc.slow", nil, 10*time.Second)
			fmt.Println(errors.Is(err, nats.ErrTimeout), time.Since(start))
		})
	}
	runTest("TestSlowService", test)
	// Output: true 10s
}

// runTest runs f as go test runs a Test, for an Example, which has no *testing.T of its own,
// once, without go test -v's lines about it.
func runTest(name string, f func(t *testing.T)) {
	for name, value := range map[string]string{"test.v": "false", "test.count": "1"} {
		if f := flag.Lookup(name); f != nil {
			old := f.Value.String()
			f.Value.Set(value)
			defer f.Value.Set(old)
		}
	}
	testing.RunTests(func(_, _ string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: name, F: f}})
}

package freeport_test

import (
	"net"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/internal/freeport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoopback(t *testing.T) {
	ports, err := freeport.Loopback(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: want 5 distinct positive ports", ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d is not free once Loopback returns: %v", p, err)
			continue
		}
		l.Close()
	}
}

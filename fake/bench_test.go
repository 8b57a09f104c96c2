package fake

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// BenchmarkStartConnectClose: a server, one connected client, both closed.
func BenchmarkStartConnectClose(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{{"tcp", nil}, {"inprocess", []Option{WithoutListener()}}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				s, err := NewServer(tc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				var nopts []nats.Option
				if s.ClientURL() == "" {
					nopts = append(nopts, nats.InProcessServer(s))
				}
				nc, err := nats.Connect(s.ClientURL(), nopts...)
				if err != nil {
					b.Fatal(err)
				}
				nc.Close()
				s.Close()
			}
		})
	}
}

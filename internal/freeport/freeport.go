// Package freeport finds free TCP ports on 127.0.0.1, for servers that must be told their port
// before they start (cluster routes that name each other, Docker port bindings).
package freeport

import (
	"fmt"
	"net"
)

// Loopback returns n distinct TCP ports on 127.0.0.1 that were free a moment ago: each is held
// until all are chosen, then let go for the caller to bind. Another process may take one in
// between; a caller that cannot bind chooses again.
func Loopback(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

package natstest

import (
	"bufio"
	"net"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
)

// BenchmarkConnectFloor: nats.go's Connect and Close against the least a server can be, over
// net.Pipe: it sends INFO and answers PING with PONG, nothing else. The floor any in-process
// Env's start can be held to (BenchmarkStartClose).
func BenchmarkConnectFloor(b *testing.B) {
	var fs floorServer
	for b.Loop() {
		nc, err := nats.Connect("", nats.InProcessServer(&fs))
		if err != nil {
			b.Fatal(err)
		}
		nc.Close()
		fs.wg.Wait()
	}
}

// floorServer hands nats.go one end of a pipe whose other end sends INFO and answers PINGs.
type floorServer struct{ wg sync.WaitGroup }

const floorInfo = `INFO {"server_id":"floor","server_name":"floor","version":"2.15.2","proto":1,"headers":true,"max_payload":1048576}` + "\r\n"

func (f *floorServer) InProcessConn() (net.Conn, error) {
	client, server := net.Pipe()
	f.wg.Go(func() {
		defer server.Close()
		if _, err := server.Write([]byte(floorInfo)); err != nil {
			return
		}
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "PING\r\n" {
				if _, err := server.Write([]byte("PONG\r\n")); err != nil {
					return
				}
			}
		}
	})
	return client, nil
}

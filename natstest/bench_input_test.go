package natstest

import (
	"bufio"
	"bytes"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// BenchmarkBlanksAfterPub: a client sends PUB, 40 MB of blanks, then the rest of the line, a
// payload and a PING; the server must skip the blanks (nats-server keeps none of them) and
// answer PONG. Over TCP, each op on a connection of its own.
func BenchmarkBlanksAfterPub(b *testing.B) {
	in := []byte("CONNECT {\"verbose\":false}\r\nPUB")
	in = append(in, bytes.Repeat([]byte(" "), 40<<20)...)
	in = append(in, " bench 1\r\nx\r\nPING\r\n"...)
	for _, bc := range benchBackends {
		if !strings.HasSuffix(bc.name, "/tcp") {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			env := New(b, bc.opts...)
			u, err := url.Parse(env.URL())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				conn, err := net.Dial("tcp", u.Host)
				if err != nil {
					b.Fatal(err)
				}
				_ = conn.SetDeadline(time.Now().Add(time.Minute))
				r := bufio.NewReader(conn)
				if _, err := r.ReadString('\n'); err != nil { // INFO
					b.Fatal(err)
				}
				go func() { _, _ = conn.Write(in) }()
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						b.Fatalf("waiting for PONG: %v", err)
					}
					if line == "PONG\r\n" {
						break
					}
					if strings.HasPrefix(line, "-ERR") {
						b.Fatalf("server: %q", line)
					}
				}
				conn.Close()
			}
		})
	}
}

package natstest

import (
	"io"
	"net"
	"sync"

	"github.com/natskit/natskit/fake"
)

// A bridge gives a fake server started without a listener a TCP address, opened when something
// first asks for one (Env.URL): each connection accepted on 127.0.0.1 is joined to a connection
// of the fake's in process. The Env's own connections stay in process, so that by default no
// goroutine waits on a socket and the fake can run in a testing/synctest bubble.
type bridge struct {
	ln  net.Listener
	srv *fake.Server
	wg  sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func listenBridge(srv *fake.Server) (*bridge, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bridge{ln: ln, srv: srv, conns: make(map[net.Conn]struct{})}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

func (b *bridge) url() string { return "nats://" + b.ln.Addr().String() }

func (b *bridge) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		p, err := b.srv.InProcessConn()
		if err != nil { // closed, or refusing connections: the client sees the connection end
			c.Close()
			continue
		}
		if !b.track(c, p) {
			return
		}
		b.wg.Add(1)
		go b.splice(c, p)
	}
}

// track records the pair so that close can end it; it reports false once the bridge is closed.
func (b *bridge) track(c, p net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		c.Close()
		p.Close()
		return false
	}
	b.conns[c], b.conns[p] = struct{}{}, struct{}{}
	return true
}

// splice copies both ways until either side ends, then closes both.
func (b *bridge) splice(c, p net.Conn) {
	defer b.wg.Done()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go cp(c, p)
	go cp(p, c)
	<-done
	<-done
	b.mu.Lock()
	delete(b.conns, c)
	delete(b.conns, p)
	b.mu.Unlock()
}

// close stops listening, ends every bridged connection and waits for the bridge's goroutines.
func (b *bridge) close() {
	b.mu.Lock()
	b.closed = true
	conns := make([]net.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	b.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	b.wg.Wait()
}

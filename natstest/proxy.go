package natstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"
)

// A clientProxy stands between clients and a server it cannot tell to close a connection (a
// container): it listens on 127.0.0.1, forwards every connection byte for byte to the server,
// and learns each one's client ID from the INFO the server greets it with. disconnect then cuts
// a client off as a network failure would: both sides see the connection drop.
type clientProxy struct {
	ln     net.Listener
	target func() string // the server's host:port now; it may move when the server restarts

	mu     sync.Mutex
	byCID  map[uint64]*proxied
	open   map[*proxied]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxied is one client connection and its connection to the server.
type proxied struct {
	client, server net.Conn
	once           sync.Once
}

func (p *proxied) close() {
	p.once.Do(func() {
		p.client.Close()
		p.server.Close()
	})
}

// newClientProxy starts a proxy to the server whose client URL target returns.
func newClientProxy(target func() string) (*clientProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &clientProxy{ln: ln, target: target, byCID: map[uint64]*proxied{}, open: map[*proxied]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// url is the proxy's client URL.
func (p *clientProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *clientProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve forwards one client connection until either side ends it.
func (p *clientProxy) serve(client net.Conn) {
	addr, err := hostPort(p.target())
	var server net.Conn
	if err == nil {
		server, err = net.DialTimeout("tcp", addr, DefaultTimeout)
	}
	if err != nil {
		client.Close()
		return
	}
	pc := &proxied{client: client, server: server}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		pc.close()
		return
	}
	p.open[pc] = struct{}{}
	p.mu.Unlock()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.open, pc)
		for cid, c := range p.byCID {
			if c == pc {
				delete(p.byCID, cid)
			}
		}
		p.mu.Unlock()
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(server, client)
		pc.close()
	}()
	// The server speaks first: its INFO line names the client ID it gave this connection.
	br := bufio.NewReaderSize(server, 32*1024)
	server.SetReadDeadline(time.Now().Add(DefaultTimeout))
	line, err := br.ReadSlice('\n')
	server.SetReadDeadline(time.Time{})
	if err == nil {
		if cid, ok := infoClientID(line); ok {
			p.mu.Lock()
			p.byCID[cid] = pc
			p.mu.Unlock()
		}
		_, err = client.Write(line)
	}
	if err == nil {
		io.Copy(client, br)
	}
	pc.close()
	<-done
}

// infoClientID reads client_id from a server's INFO line.
func infoClientID(line []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("INFO "))
	if !ok {
		return 0, false
	}
	var info struct {
		ClientID uint64 `json:"client_id"`
	}
	if json.Unmarshal(bytes.TrimSpace(rest), &info) != nil || info.ClientID == 0 {
		return 0, false
	}
	return info.ClientID, true
}

// disconnect cuts the connection of client cid off at both ends.
func (p *clientProxy) disconnect(cid uint64) error {
	p.mu.Lock()
	pc := p.byCID[cid]
	p.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("no open connection with client ID %d", cid)
	}
	pc.close()
	return nil
}

// close stops accepting, cuts every connection and waits until each has ended.
func (p *clientProxy) close() {
	p.mu.Lock()
	p.closed = true
	open := make([]*proxied, 0, len(p.open))
	for pc := range p.open {
		open = append(open, pc)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, pc := range open {
		pc.close()
	}
	p.wg.Wait()
}

// hostPort is the host:port of a nats:// URL.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", errors.New("no host in " + raw)
	}
	return u.Host, nil
}

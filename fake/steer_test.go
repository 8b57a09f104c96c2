package fake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func inproc(t *testing.T, s *Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, s, append([]nats.Option{nats.InProcessServer(s)}, opts...)...)
}

// next returns the next message on sub or fails.
func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("next message on %q: %v", sub.Subject, err)
	}
	return m
}

// drained fails if sub has a message waiting once a marker published after everything else has
// arrived on it.
func drained(t *testing.T, nc *nats.Conn, sub *nats.Subscription, marker string) {
	t.Helper()
	if err := nc.Publish(marker, nil); err != nil {
		t.Fatal(err)
	}
	for {
		m := next(t, sub)
		if m.Subject == marker {
			return
		}
		t.Errorf("unexpected message on %q: %q", m.Subject, m.Data)
	}
}

func TestDropDuplicateCompose(t *testing.T) {
	s := Run(t)
	nc := inproc(t, s)
	sub, _ := nc.SubscribeSync(">")
	nc.Flush()
	remove := s.Inject(Drop("a.*", 2), Duplicate("b", 1))
	for _, subj := range []string{"a.1", "a.2", "a.3", "b", "b"} {
		nc.Publish(subj, []byte(subj))
	}
	var got []string
	for range 4 {
		got = append(got, next(t, sub).Subject)
	}
	if want := []string{"a.3", "b", "b", "b"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if f := s.Faults(); len(f) != 0 {
		t.Errorf("faults left after use: %v", f)
	}
	remove() // a no-op once used up
	drained(t, nc, sub, "end")
}

func TestDropEveryUntilRemoved(t *testing.T) {
	s := Run(t)
	nc := inproc(t, s)
	sub, _ := nc.SubscribeSync("x")
	remove := s.Inject(Drop("x", 0))
	if got := s.Faults(); !slices.Equal(got, []string{`drop "x"`}) {
		t.Errorf("Faults() = %q", got)
	}
	for range 10 {
		nc.Publish("x", []byte("lost"))
	}
	nc.Flush()
	remove()
	nc.Publish("x", []byte("kept"))
	if m := next(t, sub); string(m.Data) != "kept" {
		t.Errorf("got %q, want kept", m.Data)
	}
}

func TestDelayLetsLaterMessagesOvertake(t *testing.T) {
	s := Run(t)
	nc := inproc(t, s)
	sub, _ := nc.SubscribeSync("d")
	s.Inject(Delay("d", 1, 50*time.Millisecond))
	nc.Publish("d", []byte("first"))
	nc.Publish("d", []byte("second"))
	if m := next(t, sub); string(m.Data) != "second" {
		t.Errorf("first delivery %q, want second (the first is held back)", m.Data)
	}
	if m := next(t, sub); string(m.Data) != "first" {
		t.Errorf("second delivery %q, want first", m.Data)
	}
}

func TestDelayedMessagesStopAtClose(t *testing.T) {
	s, err := NewServer(WithoutListener())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s.Inject(Delay(">", 0, time.Hour))
	nc.Publish("x", nil)
	nc.Flush()
	s.Close() // does not wait an hour, and leaves no timer behind (goleak)
}

func TestRefuseRequestsOnly(t *testing.T) {
	s := Run(t)
	nc := inproc(t, s)
	sub, _ := nc.SubscribeSync("svc")
	s.Inject(Refuse("svc", 0))
	_, err := nc.Request("svc", nil, 5*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request: %v, want no responders", err)
	}
	nc.Publish("svc", []byte("plain")) // not a request: delivered
	if m := next(t, sub); string(m.Data) != "plain" {
		t.Errorf("got %q", m.Data)
	}
}

func TestDisconnectByNameReconnects(t *testing.T) {
	s := Run(t)
	reconnected := make(chan struct{}, 1)
	nc := connect(t, s, nats.Name("worker"), nats.ReconnectWait(time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	other := connect(t, s, nats.Name("other"))
	sub, _ := nc.SubscribeSync("jobs")
	nc.Flush()
	if n := s.Disconnect("worker"); n != 1 {
		t.Fatalf("Disconnect closed %d clients, want 1", n)
	}
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no reconnect")
	}
	if err := s.WaitForInterest(ctxT(t), "jobs", 1); err != nil {
		t.Fatal(err)
	}
	other.Publish("jobs", []byte("after"))
	if m := next(t, sub); string(m.Data) != "after" {
		t.Errorf("got %q", m.Data)
	}
	if !other.IsConnected() {
		t.Error("the other client was cut off too")
	}
	if err := s.DisconnectClient(9999); err == nil {
		t.Error("DisconnectClient of an unknown ID succeeded")
	}
}

func TestRefuseAndAcceptConnections(t *testing.T) {
	s := Run(t)
	url := s.ClientURL()
	s.RefuseConnections()
	if _, err := nats.Connect(url, nats.Timeout(time.Second)); err == nil {
		t.Fatal("connected while refusing")
	}
	if _, err := s.InProcessConn(); !errors.Is(err, ErrNotAccepting) {
		t.Fatalf("InProcessConn while refusing: %v", err)
	}
	if err := s.AcceptConnections(); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s)
	if nc.ConnectedUrl() != url {
		t.Errorf("connected to %s, want the same address %s", nc.ConnectedUrl(), url)
	}
}

func TestServerRestartByFaults(t *testing.T) {
	s := Run(t)
	disconnected := make(chan struct{}, 1)
	reconnected := make(chan struct{}, 1)
	nc := connect(t, s, nats.ReconnectWait(time.Millisecond), nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { disconnected <- struct{}{} }),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	s.RefuseConnections()
	s.DisconnectAll()
	select {
	case <-disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect")
	}
	if nc.IsConnected() {
		t.Fatal("connected while the server refuses connections")
	}
	if err := s.AcceptConnections(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no reconnect")
	}
}

func TestSlowConsumerIsClosedAndCounted(t *testing.T) {
	s := Run(t, WithMaxPending(64<<10))
	raw, err := s.InProcessConn() // never reads after the handshake
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	buf := make([]byte, 4096)
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(buf); err != nil { // INFO
		t.Fatal(err)
	}
	raw.Write([]byte("CONNECT {\"name\":\"slow\"}\r\nSUB x 1\r\n"))
	raw.Write([]byte("PING\r\n"))
	if _, err := raw.Read(buf); err != nil { // +OK +OK PONG, maybe split
		t.Fatal(err)
	}
	if err := s.WaitForInterest(ctxT(t), "x", 1); err != nil {
		t.Fatal(err)
	}
	pub := inproc(t, s)
	healthy, _ := pub.SubscribeSync("y")
	payload := make([]byte, 1024)
	for i := 0; s.Stats().SlowConsumers == 0; i++ {
		if i > 10000 {
			t.Fatal("no slow consumer after 10 MB queued for a client that does not read")
		}
		pub.Publish("x", payload)
		pub.Flush()
	}
	if _, ok := s.Client("slow"); ok {
		t.Error("the slow consumer is still connected")
	}
	pub.Publish("y", []byte("still here"))
	if m := next(t, healthy); string(m.Data) != "still here" {
		t.Errorf("got %q", m.Data)
	}
}

func TestInspect(t *testing.T) {
	s := Run(t, WithUsers(User{Name: "app", Password: "pw"}))
	nc := inproc(t, s, nats.Name("svc"), nats.UserInfo("app", "pw"))
	nc.QueueSubscribeSync("orders.*", "workers")
	nc.SubscribeSync("audit.>")
	nc.Publish("orders.new", []byte("123"))
	nc.Flush()
	c, ok := s.Client("svc")
	if !ok {
		t.Fatal("client svc not listed")
	}
	id, _ := nc.GetClientID()
	if c.ID != id || c.User != "app" || c.Lang != "go" || c.Version != nats.Version || c.InMsgs != 1 || c.OutMsgs != 1 || c.InBytes != 3 {
		t.Errorf("client = %+v", c)
	}
	var subs []string
	for _, sub := range c.Subscriptions {
		subs = append(subs, sub.Subject+"/"+sub.Queue)
	}
	if want := []string{"audit.>/", "orders.*/workers"}; !slices.Equal(subs, want) {
		t.Errorf("subscriptions %v, want %v", subs, want)
	}
	if got := s.Subscriptions("orders.x"); len(got) != 1 || got[0].Queue != "workers" || got[0].Delivered != 1 {
		t.Errorf("Subscriptions(orders.x) = %+v", got)
	}
	st := s.Stats()
	if st.Connections != 1 || st.Subscriptions != 2 || st.InMsgs != 1 || st.OutMsgs != 1 || st.TotalConnections != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	if n := s.Interest("audit.x.y"); n != 1 {
		t.Errorf("Interest = %d", n)
	}
}

func TestPublishFromTheServer(t *testing.T) {
	s := Run(t)
	nc := inproc(t, s)
	sub, _ := nc.SubscribeSync("events.>")
	nc.Flush()
	if err := s.Publish("events.a", []byte("plain")); err != nil {
		t.Fatal(err)
	}
	h := nats.Header{}
	h.Add("X-Id", "1")
	h.Add("X-Id", "2")
	if err := s.PublishMsg(&nats.Msg{Subject: "events.b", Reply: "r", Header: h, Data: []byte("hdr")}); err != nil {
		t.Fatal(err)
	}
	if m := next(t, sub); string(m.Data) != "plain" {
		t.Errorf("got %q", m.Data)
	}
	m := next(t, sub)
	if m.Reply != "r" || !slices.Equal(m.Header.Values("X-Id"), []string{"1", "2"}) || string(m.Data) != "hdr" {
		t.Errorf("got %+v", m)
	}
	if err := s.Publish("bad..subject", nil); err == nil {
		t.Error("Publish to an invalid subject succeeded")
	}
	if err := s.Publish("big", make([]byte, DefaultMaxPayload+1)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Errorf("oversized Publish: %v", err)
	}
}

func TestSeedRepeatsQueueChoices(t *testing.T) {
	run := func(seed uint64) []int {
		s := Run(t, WithSeed(seed))
		nc := inproc(t, s)
		subs := make([]*nats.Subscription, 3)
		for i := range subs {
			subs[i], _ = nc.QueueSubscribeSync("w", "q")
		}
		for i := range 20 {
			nc.Publish("w", []byte(fmt.Sprint(i)))
		}
		order := make([]int, 20)
		got := 0
		for got < 20 {
			for i, sub := range subs {
				if m, err := sub.NextMsg(time.Millisecond); err == nil {
					var n int
					fmt.Sscan(string(m.Data), &n)
					order[n] = i
					got++
				}
			}
		}
		return order
	}
	a, b := run(7), run(7)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 gave %v, then %v", a, b)
	}
}

func TestCloseTwiceAndAfter(t *testing.T) {
	s, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	s.Close()
	s.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not see the server go")
	}
	if _, err := s.InProcessConn(); !errors.Is(err, ErrServerClosed) {
		t.Errorf("InProcessConn after Close: %v", err)
	}
	if err := s.Publish("x", nil); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("still listening after Close")
	}
}

func TestWaitForInterestTimesOut(t *testing.T) {
	s := Run(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := s.WaitForInterest(ctx, "nobody", 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `1 subscriptions on "nobody", have 0`) {
		t.Errorf("WaitForInterest: %v", err)
	}
}

func TestRunFailsTheTest(t *testing.T) {
	var failed atomic.Bool
	tb := &recTB{fatal: func(string) { failed.Store(true) }}
	func() {
		defer func() { recover() }()
		Run(tb, WithAddr("256.0.0.1:0"))
	}()
	if !failed.Load() || !strings.Contains(tb.msg, "fake: start server: fake: listen on 256.0.0.1:0") {
		t.Errorf("Run with a bad address: failed=%v %q", failed.Load(), tb.msg)
	}
}

type recTB struct {
	msg   string
	fatal func(string)
}

func (r *recTB) Helper()        {}
func (r *recTB) Cleanup(func()) {}
func (r *recTB) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	r.fatal(r.msg)
	panic("fatal")
}

// TestStopAndStartAgain: Stop ends a waiting pull request with 409 Server Shutdown, drops the
// clients and refuses new ones; after AcceptConnections they reconnect to the same stream.
func TestStopAndStartAgain(t *testing.T) {
	s := Run(t)
	reconnected := make(chan struct{}, 1)
	nc := connect(t, s, nats.ReconnectWait(time.Millisecond), nats.MaxReconnects(-1),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	if err := s.CreateStream(jetstream.StreamConfig{Name: "S"}); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateConsumer(ctxT(t), "S", jetstream.ConsumerConfig{Durable: "d"}); err != nil {
		t.Fatal(err)
	}
	sub, err := nc.SubscribeSync("reply")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.S.d", "reply", []byte(`{"batch":2,"expires":60000000000}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the request is in once the server answers the PING
		t.Fatal(err)
	}
	if c, _ := s.Consumer("S", "d"); c.NumWaiting != 1 {
		t.Fatalf("waiting requests %d, want 1", c.NumWaiting)
	}
	s.Stop()
	m := next(t, sub)
	if got := m.Header.Get("Status") + " " + m.Header.Get("Description") + " " + m.Header.Get("Nats-Pending-Messages"); got != "409 Server Shutdown 2" {
		t.Errorf("the waiting request got %q, want 409 Server Shutdown 2", got)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.Timeout(time.Second)); err == nil {
		t.Fatal("connected while stopped")
	}
	if err := s.AcceptConnections(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("no reconnect")
	}
	if c, ok := s.Consumer("S", "d"); !ok || c.NumWaiting != 0 {
		t.Errorf("after the restart the consumer is %+v (found %v), want it with no waiting request", c, ok)
	}
}

// Stop loses what a nats-server restart loses: streams with memory storage, and consumers with
// memory storage on the streams that stay; file-storage streams and their other consumers stay.
func TestStopLosesMemoryState(t *testing.T) {
	s := Run(t, WithoutListener())
	for _, cfg := range []jetstream.StreamConfig{
		{Name: "F", Subjects: []string{"f.>"}, Storage: jetstream.FileStorage},
		{Name: "M", Subjects: []string{"m.>"}, Storage: jetstream.MemoryStorage},
	} {
		if err := s.CreateStream(cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StoreMsg(&nats.Msg{Subject: strings.ToLower(cfg.Name) + ".x", Data: []byte("kept?")}); err != nil {
			t.Fatal(err)
		}
	}
	js := jsOn(t, s)
	for _, cfg := range []jetstream.ConsumerConfig{{Durable: "disk"}, {Durable: "mem", MemoryStorage: true}} {
		if _, err := js.CreateConsumer(ctxT(t), "F", cfg); err != nil {
			t.Fatal(err)
		}
	}
	s.Stop()
	if err := s.AcceptConnections(); err != nil {
		t.Fatal(err)
	}
	if st, ok := s.Stream("F"); !ok || len(st.Messages) != 1 {
		t.Errorf("file stream after the restart: %+v (found %v), want its message", st, ok)
	}
	if _, ok := s.Stream("M"); ok {
		t.Error("memory stream still there after the restart")
	}
	if _, ok := s.Consumer("F", "disk"); !ok {
		t.Error("file consumer gone after the restart")
	}
	if _, ok := s.Consumer("F", "mem"); ok {
		t.Error("memory consumer still there after the restart")
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natskit/natskit/fake"
)

// The request and response shapes of the tester protocol (orbit.go/ntf/api), the fields used.

type createRequest struct {
	Servers     int               `json:"servers"`
	Clusters    int               `json:"clusters"`
	JetStream   bool              `json:"jetstream"`
	Description string            `json:"description,omitempty"`
	Snippets    map[string]string `json:"snippets,omitempty"`
	Template    string            `json:"template,omitempty"`
	TLS         json.RawMessage   `json:"tls,omitempty"`
	Trace       bool              `json:"trace,omitempty"`
	Proxy       bool              `json:"proxy,omitempty"`
}

type managedServer struct {
	Name    string         `json:"name"`
	Cluster string         `json:"cluster"`
	Port    int            `json:"port"`
	Ports   map[string]int `json:"ports,omitempty"`
	Running bool           `json:"running"`
}

type createResponse struct {
	ID          string           `json:"id"`
	Description string           `json:"description,omitempty"`
	Kind        string           `json:"kind"`
	Servers     []*managedServer `json:"servers"`
}

type instanceSummary struct {
	ID          string    `json:"id"`
	Description string    `json:"description,omitempty"`
	Kind        string    `json:"kind"`
	Servers     int       `json:"servers"`
	Created     time.Time `json:"created"`
}

type instanceStatus struct {
	ID          string          `json:"id"`
	Description string          `json:"description,omitempty"`
	Kind        string          `json:"kind"`
	Servers     []managedServer `json:"servers"`
}

type serverState struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Error   string `json:"error,omitempty"`
}

// instance is one created server.
type instance struct {
	id, desc string
	created  time.Time
	name     string
	srv      *fake.Server
	port     int
	running  bool
}

func (in *instance) managed() managedServer {
	return managedServer{Name: in.name, Port: in.port, Running: in.running}
}

// tester is the service: its own fake server carries the tester.* requests.
type tester struct {
	ctl *fake.Server
	nc  *nats.Conn
	log *os.File

	mu    sync.Mutex
	next  int
	insts map[string]*instance
}

func start(addr, logPath string) (*tester, error) {
	ctl, err := fake.NewServer(fake.WithAddr(addr), fake.WithoutJetStream(), fake.WithName("tester"))
	if err != nil {
		return nil, err
	}
	t := &tester{ctl: ctl, insts: map[string]*instance{}}
	if logPath != "" {
		if t.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			ctl.Close()
			return nil, err
		}
	}
	if t.nc, err = nats.Connect(ctl.ClientURL()); err != nil {
		t.close()
		return nil, err
	}
	handlers := map[string]func(*nats.Msg) (any, error){
		"tester.create.server":        t.createServer,
		"tester.create.cluster":       t.refuse("clusters"),
		"tester.create.super-cluster": t.refuse("super-clusters"),
		"tester.destroy":              t.destroy,
		"tester.reset":                t.reset,
		"tester.list":                 t.list,
		"tester.status":               t.status,
		"tester.stop.server":          t.stopServer,
		"tester.start.server":         t.startServer,
		"tester.stop.instance":        t.stopInstance,
		"tester.start.instance":       t.startInstance,
		"tester.update.server":        t.refuse("config updates"),
		"tester.reload.server":        t.refuse("config reloads"),
		"tester.shape.set":            t.refuse("traffic shaping"),
		"tester.shape.clear":          t.refuse("traffic shaping"),
		"tester.shape.report":         t.refuse("traffic shaping"),
	}
	for subj, h := range handlers {
		if _, err := t.nc.Subscribe(subj, t.serve(h)); err != nil {
			t.close()
			return nil, err
		}
	}
	if err := t.nc.Flush(); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *tester) url() string { return t.ctl.ClientURL() }

func (t *tester) close() {
	t.mu.Lock()
	for id, in := range t.insts {
		in.srv.Close()
		delete(t.insts, id)
	}
	t.mu.Unlock()
	if t.nc != nil {
		t.nc.Close()
	}
	t.ctl.Close()
	if t.log != nil {
		t.log.Close()
	}
}

// serve answers a request with h's value as JSON, or with its error in the
// Nats-Service-Error header as a micro service does.
func (t *tester) serve(h func(*nats.Msg) (any, error)) nats.MsgHandler {
	return func(m *nats.Msg) {
		v, err := h(m)
		reply := nats.NewMsg(m.Reply)
		if err != nil {
			reply.Header.Set("Nats-Service-Error", err.Error())
			reply.Header.Set("Nats-Service-Error-Code", "400")
		} else if reply.Data, err = json.Marshal(v); err != nil {
			reply.Header.Set("Nats-Service-Error", err.Error())
			reply.Header.Set("Nats-Service-Error-Code", "500")
		}
		_ = m.RespondMsg(reply)
	}
}

func (t *tester) refuse(what string) func(*nats.Msg) (any, error) {
	return func(m *nats.Msg) (any, error) {
		var req createRequest
		_ = json.Unmarshal(m.Data, &req)
		return nil, t.refused(req.Description, what)
	}
}

// refused logs and returns the error for a request the fake cannot stand for.
func (t *tester) refused(desc, what string) error {
	if t.log != nil {
		fmt.Fprintf(t.log, "%s\t%s\n", desc, what)
	}
	return fmt.Errorf("the fake tester does not serve %s", what)
}

func (t *tester) createServer(m *nats.Msg) (any, error) {
	var req createRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return nil, err
	}
	var asked []string
	if len(req.Snippets) > 0 {
		keys := make([]string, 0, len(req.Snippets))
		for k := range req.Snippets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		asked = append(asked, "config snippets ("+strings.Join(keys, ", ")+")")
	}
	if req.Template != "" {
		asked = append(asked, "config templates")
	}
	if len(req.TLS) > 0 && string(req.TLS) != "null" {
		asked = append(asked, "TLS")
	}
	if req.Trace || req.Proxy {
		asked = append(asked, "trace capture")
	}
	if len(asked) > 0 {
		return nil, t.refused(req.Description, strings.Join(asked, ", "))
	}

	t.mu.Lock()
	t.next++
	n := t.next
	t.mu.Unlock()
	name := "fake-" + strconv.Itoa(n)
	opts := []fake.Option{fake.WithAddr("127.0.0.1:0"), fake.WithName(name)}
	if !req.JetStream {
		opts = append(opts, fake.WithoutJetStream())
	}
	srv, err := fake.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	_, p, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		srv.Close()
		return nil, err
	}
	port, _ := strconv.Atoi(p)
	in := &instance{id: "I" + strconv.Itoa(n), desc: req.Description, created: time.Now(), name: name, srv: srv, port: port, running: true}
	t.mu.Lock()
	t.insts[in.id] = in
	t.mu.Unlock()
	ms := in.managed()
	return createResponse{ID: in.id, Description: in.desc, Kind: "server", Servers: []*managedServer{&ms}}, nil
}

type idRequest struct {
	InstanceID string `json:"instance_id"`
	Name       string `json:"name"`
}

func (t *tester) destroy(m *nats.Msg) (any, error) {
	var req idRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return nil, err
	}
	t.mu.Lock()
	in, ok := t.insts[req.InstanceID]
	delete(t.insts, req.InstanceID)
	t.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("instance %q not found", req.InstanceID)
	}
	in.srv.Close()
	return map[string]bool{"destroyed": true}, nil
}

func (t *tester) reset(*nats.Msg) (any, error) {
	t.mu.Lock()
	insts := t.insts
	t.insts = map[string]*instance{}
	t.mu.Unlock()
	for _, in := range insts {
		in.srv.Close()
	}
	return map[string]bool{"shutdown": true}, nil
}

func (t *tester) sorted() []*instance {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*instance, 0, len(t.insts))
	for _, in := range t.insts {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

func (t *tester) list(*nats.Msg) (any, error) {
	out := []instanceSummary{}
	for _, in := range t.sorted() {
		out = append(out, instanceSummary{ID: in.id, Description: in.desc, Kind: "server", Servers: 1, Created: in.created})
	}
	return map[string]any{"instances": out}, nil
}

func (t *tester) status(m *nats.Msg) (any, error) {
	var req idRequest
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &req); err != nil {
			return nil, err
		}
	}
	out := []instanceStatus{}
	for _, in := range t.sorted() {
		if req.InstanceID != "" && in.id != req.InstanceID {
			continue
		}
		t.mu.Lock()
		ms := in.managed()
		t.mu.Unlock()
		out = append(out, instanceStatus{ID: in.id, Description: in.desc, Kind: "server", Servers: []managedServer{ms}})
	}
	if req.InstanceID != "" && len(out) == 0 {
		return nil, fmt.Errorf("instance %q not found", req.InstanceID)
	}
	return map[string]any{"instances": out}, nil
}

// setRunning stops a server as nats-server shuts down (keeping its state) or starts it again.
func (t *tester) setRunning(in *instance, run bool) error {
	if run {
		if err := in.srv.AcceptConnections(); err != nil {
			return err
		}
	} else {
		in.srv.Stop()
	}
	t.mu.Lock()
	in.running = run
	t.mu.Unlock()
	return nil
}

func (t *tester) byName(name string) (*instance, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, in := range t.insts {
		if in.name == name {
			return in, nil
		}
	}
	return nil, fmt.Errorf("server %q not found", name)
}

func (t *tester) stopServer(m *nats.Msg) (any, error) {
	var req idRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return nil, err
	}
	in, err := t.byName(req.Name)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"shutdown": true}, t.setRunning(in, false)
}

func (t *tester) startServer(m *nats.Msg) (any, error) {
	var req idRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return nil, err
	}
	in, err := t.byName(req.Name)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"started": true}, t.setRunning(in, true)
}

func (t *tester) instanceState(m *nats.Msg, run bool) (any, error) {
	var req idRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return nil, err
	}
	t.mu.Lock()
	in, ok := t.insts[req.InstanceID]
	t.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("instance %q not found", req.InstanceID)
	}
	st := serverState{Name: in.name, Running: run}
	if err := t.setRunning(in, run); err != nil {
		st.Error, st.Running = err.Error(), !run
	}
	return map[string]any{"servers": []serverState{st}}, nil
}

func (t *tester) stopInstance(m *nats.Msg) (any, error)  { return t.instanceState(m, false) }
func (t *tester) startInstance(m *nats.Msg) (any, error) { return t.instanceState(m, true) }

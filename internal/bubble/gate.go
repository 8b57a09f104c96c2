package bubble

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// nats.go keeps one sync.Pool of timers for the whole process (its globalTimerPool, which
// Request, NextMsg and FlushTimeout take from and give back to). A timer belongs to the
// testing/synctest bubble it was made in: one made in a bubble and taken from the pool outside
// it, or in another bubble, kills the test binary ("select on synctest channel from outside
// bubble"); one made outside and taken in a bubble runs on the wall clock, where the bubble
// cannot move it. The pool is not natskit's to switch off, so natskit keeps the users of it
// apart instead, through this gate, which every Env natstest.New makes and every server
// fake.Run starts goes through (an "Env" below is either):
//
//   - A bubbled Env holds the gate alone: it waits until no Env outside a bubble and no other
//     bubble's Env is open, and holds out every Env New would make elsewhere until it closes.
//     Envs of the same bubble (the same test and its subtests) share it.
//   - An Env outside a bubble shares the gate with every other Env outside a bubble, and never
//     waits while one of them is open: a bubble waits for a moment when none is.
//   - When a bubble takes the gate, and again when its last Env has closed (its connections
//     closed, their goroutines ended), the pool is emptied: a sync.Pool drops what it holds in
//     two garbage collections.
//
// What it cannot reach: nats.go used outside them (a connection of the test's own to a server
// neither started, an Env made by natstest.Start, a server from fake.NewServer), while a bubble
// runs.
var poolGate struct {
	// excl is held by the bubble whose Envs are open, or by the Envs outside bubbles together,
	// from the first of them to open to the last to close. A sync.Mutex and not a
	// sync.RWMutex: a second Env of a test outside a bubble must not wait behind a bubble that
	// waits for the first.
	excl     sync.Mutex
	sharedMu sync.Mutex // orders the group's entries and exits
	nShared  int        // open Envs outside bubbles, under sharedMu

	mu     sync.Mutex
	owner  string         // name of the test whose bubble holds excl; "" when none does
	envs   int            // open Envs of the owner's bubble
	queued int            // bubbles waiting for excl
	shared map[string]int // open Envs outside bubbles, by test name
}

// Enter lets an Env of the test named name in or out of a bubble through the gate, and returns
// what lets it out. It refuses what would wait forever: a bubble inside a test (or a
// subtest of one) that still has an Env open outside the bubble.
func Enter(name string, bubbled bool) (leave func(), err error) {
	g := &poolGate
	if !bubbled {
		g.sharedMu.Lock()
		if g.nShared == 0 {
			g.excl.Lock()
		}
		g.nShared++
		g.sharedMu.Unlock()
		g.mu.Lock()
		if g.shared == nil {
			g.shared = make(map[string]int)
		}
		g.shared[name]++
		g.mu.Unlock()
		return func() {
			g.mu.Lock()
			if g.shared[name]--; g.shared[name] == 0 {
				delete(g.shared, name)
			}
			g.mu.Unlock()
			g.sharedMu.Lock()
			if g.nShared--; g.nShared == 0 {
				g.excl.Unlock()
			}
			g.sharedMu.Unlock()
		}, nil
	}
	g.mu.Lock()
	if g.owner != "" && sameTest(g.owner, name) {
		g.envs++
		g.mu.Unlock()
		return leaveBubble, nil
	}
	for outer := range g.shared {
		if sameTest(outer, name) {
			g.mu.Unlock()
			return nil, fmt.Errorf("%s has a server open outside its testing/synctest bubble; close it before the bubble starts, since nats.go's process-wide timer pool cannot be shared between a bubble and the code around it", outer)
		}
	}
	g.queued++
	g.mu.Unlock()
	g.excl.Lock() // a sync.Mutex: a bubble does not take a goroutine waiting on it for idle
	EmptyTimerPool()
	g.mu.Lock()
	g.queued--
	g.owner, g.envs = name, 1
	g.mu.Unlock()
	return leaveBubble, nil
}

func leaveBubble() {
	g := &poolGate
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.envs--; g.envs > 0 {
		return
	}
	EmptyTimerPool()
	g.owner = ""
	g.excl.Unlock()
}

// sameTest reports whether the tests named a and b are one test or one a subtest of the other.
func sameTest(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// EmptyTimerPool drops what nats.go's timer pool holds: a sync.Pool moves its items to a victim
// cache at one garbage collection and drops them at the next.
func EmptyTimerPool() {
	runtime.GC()
	runtime.GC()
}

// Queued is how many bubbles wait for the gate.
func Queued() int {
	g := &poolGate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queued
}

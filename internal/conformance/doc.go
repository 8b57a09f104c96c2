// Package conformance is the conformance suite of natskit's backends: scenarios written once
// against the real nats.go client API, or the raw client protocol, and run by natstest.Each on
// every backend. The real nats-server is the oracle: each scenario asserts what it does, as a
// client sees it, so that every other backend must do the same. Where servers may legitimately
// differ (their ids, names and versions, timing, the member of a queue group a message goes
// to), a scenario says so with a named looser comparison rather than by skipping.
//
// The package has no code of its own outside its tests.
package conformance

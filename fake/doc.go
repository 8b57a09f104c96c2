// Package fake is an in-memory NATS server that speaks the client protocol, over TCP on
// 127.0.0.1 and in process, so an application's real *nats.Conn works on it unmodified.
//
//	s := fake.Run(t)
//	nc, err := nats.Connect("", nats.InProcessServer(s))
//
// It starts in microseconds, and a test can read its state (Clients, Subscriptions, Stats),
// publish without a client (Publish), wait for subscribers (WaitForInterest) and inject faults
// (Drop, Delay, Duplicate, Refuse, Disconnect, Pause).
package fake

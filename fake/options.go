package fake

import (
	"math/rand/v2"
	"time"
)

// An Option configures NewServer and Run.
type Option func(*options)

type options struct {
	addr        string
	noListen    bool
	name        string
	seed        uint64
	seeded      bool
	queuePolicy QueuePolicy
	users       []User
	token       string
	maxPayload  int32
	maxPending  int64
	maxControl  int
	authTimeout time.Duration
	pingEvery   time.Duration
	maxPingsOut int
	ldmGrace    time.Duration
	logf        func(format string, args ...any)
	noJetStream bool
	frozen      bool
	start       time.Time
}

func newOptions(opts []Option) *options {
	o := &options{
		addr:        "127.0.0.1:0",
		maxPayload:  DefaultMaxPayload,
		maxPending:  DefaultMaxPending,
		maxControl:  4096,
		authTimeout: 2 * time.Second,
		pingEvery:   2 * time.Minute,
		maxPingsOut: 2,
		ldmGrace:    10 * time.Second,
	}
	for _, opt := range opts {
		opt(o)
	}
	if !o.seeded {
		o.seed = rand.Uint64()
	}
	return o
}

// DefaultMaxPayload is the largest message payload, headers included, the server accepts unless
// WithMaxPayload says otherwise: 1 MiB, as nats-server.
const DefaultMaxPayload = 1 << 20

// DefaultMaxPending is how many bytes may wait to be written to one connection before it is
// closed as a slow consumer: 64 MiB, as nats-server.
const DefaultMaxPending = 64 << 20

// WithAddr listens on addr ("127.0.0.1:4222"; port 0 picks a free one) instead of 127.0.0.1 on a
// free port.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithoutListener opens no port: clients reach the server only through InProcessConn, and
// ClientURL is "".
func WithoutListener() Option { return func(o *options) { o.noListen = true } }

// WithName sets the server name reported in INFO (server_name). The default is "fake".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithSeed makes every random choice the server makes follow from n, so a run can be repeated:
// the member of a queue group each message goes to, the jitter of PINGs and of lame duck mode, and
// which acks a consumer's sample_freq samples.
// Without it the server draws a seed, which Seed reports (and Run logs when the test fails). The
// same seed gives the same picks for the same order of subscriptions and publishes; in a
// testing/synctest bubble, whose clock and timers are the test's, a whole test repeats.
func WithSeed(n uint64) Option { return func(o *options) { o.seed, o.seeded = n, true } }

// A QueuePolicy is how a queue group's member is chosen for each message.
type QueuePolicy int

const (
	// QueueRandom picks a member at random, as nats-server does. It is the default.
	QueueRandom QueuePolicy = iota
	// QueueRoundRobin takes the members in turn, in the order they subscribed, so that n
	// messages split exactly evenly.
	QueueRoundRobin
)

// WithQueuePolicy sets how queue group members are chosen.
func WithQueuePolicy(p QueuePolicy) Option { return func(o *options) { o.queuePolicy = p } }

// WithMaxPayload sets the largest payload, headers included, that the server advertises and
// accepts. A larger publish is answered with -ERR 'Maximum Payload Violation' and the
// connection is closed, as nats-server does.
func WithMaxPayload(n int32) Option { return func(o *options) { o.maxPayload = n } }

// WithMaxPending sets how many bytes may wait to be written to a connection before the server
// closes it as a slow consumer.
func WithMaxPending(n int64) Option { return func(o *options) { o.maxPending = n } }

// WithLogf receives the server's log lines: connections, errors, slow consumers.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithUsers requires every client to connect as one of users, with its password. Each user's
// Permissions limit what it may publish and subscribe to.
func WithUsers(users ...User) Option {
	return func(o *options) { o.users = append(o.users, users...) }
}

// WithToken requires every client to connect with token (nats.Token).
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// A User may connect with a name and password, as a user of nats-server's authorization block.
type User struct {
	Name     string
	Password string
	// Permissions limit what the user may publish and subscribe to; nil allows everything.
	Permissions *Permissions
}

// Permissions are a user's publish and subscribe rights, as in nats-server's configuration.
type Permissions struct {
	Publish   *SubjectPermission
	Subscribe *SubjectPermission
}

// A SubjectPermission allows the subjects matching Allow (everything if Allow is empty) except
// those matching Deny. Patterns may use the wildcards * and >.
type SubjectPermission struct {
	Allow []string
	Deny  []string
}

// WithoutJetStream turns JetStream off: INFO says so, the $JS.API subjects have no responders and
// the client's JetStream calls fail with nats.ErrJetStreamNotEnabled, as against a nats-server
// without JetStream. JetStream is on by default.
func WithoutJetStream() Option { return func(o *options) { o.noJetStream = true } }

// WithFrozenClock starts the server's clock at start and stops it there: time moves only when the
// test calls FastForward, so every timestamp and every timer (ack wait, back-off, max age) is
// exactly where the test put it. Without it the clock follows real time, and FastForward moves it
// ahead of real time. Pull request expiries and idle heartbeats, which the client measures on its
// own clock too, come on a frozen clock when it reaches them or when their time has passed in
// real time, whichever is first: a client never waits on a server that stopped.
func WithFrozenClock(start time.Time) Option {
	return func(o *options) { o.frozen, o.start = true, start }
}

// WithPingInterval sets how often the server PINGs each client (nats-server's ping_interval; 2
// minutes by default). The first PING after CONNECT comes sooner: at most 2 seconds, plus up to
// 20% at random, as nats-server measures the round trip early. A client heard from (a publish, a
// subscription change, a PING) within the interval is not pinged. Timers run on the server's
// clock: FastForward or a testing/synctest bubble moves them. d <= 0 keeps the default.
func WithPingInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pingEvery = d
		}
	}
}

// WithMaxPingsOut sets how many PINGs may go unanswered (nats-server's ping_max; 2 by default):
// when the next one would exceed it, the server sends -ERR 'Stale Connection' and closes the
// connection. n <= 0 keeps the default.
func WithMaxPingsOut(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxPingsOut = n
		}
	}
}

// WithAuthTimeout sets how long a connection may go without CONNECT when authentication is
// required (WithUsers, WithToken): past it the server sends -ERR 'Authentication Timeout' and
// closes the connection. 2 seconds by default, as nats-server; without authentication there is
// no such timeout, as in nats-server. d <= 0 keeps the default.
func WithAuthTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.authTimeout = d
		}
	}
}

// WithLameDuckGracePeriod sets how long LameDuck waits, after telling the clients, before it
// starts closing them (nats-server's lame_duck_grace_period; 10 seconds by default). d < 0 is 0.
func WithLameDuckGracePeriod(d time.Duration) Option {
	return func(o *options) { o.ldmGrace = max(d, 0) }
}

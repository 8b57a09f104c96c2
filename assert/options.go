package assert

import (
	"time"

	"github.com/google/go-cmp/cmp"
)

// DefaultWithin is how long a helper waits when no Within option is given.
const DefaultWithin = 2 * time.Second

// Option shapes one assertion: its deadline, the payload comparison, required headers.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	within    time.Duration
	hasWithin bool
	cmpOpts   []cmp.Option
	headers   []header
	members   []string // QueueGroup
	tolerance float64
	even      bool

	delivery   int            // OnDelivery; 0 for any
	nakDelay   *time.Duration // NakDelay
	termReason *string        // TermReason
	info       Consumer       // WithInfo
}

type header struct{ key, value string }

func collect(opts []Option) options {
	o := options{within: DefaultWithin}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	return o
}

// Within sets how long to wait (default DefaultWithin). With d <= 0 nothing is waited for:
// only what has already arrived is looked at.
func Within(d time.Duration) Option {
	return optionFunc(func(o *options) { o.within, o.hasWithin = d, true })
}

// Cmp adds go-cmp options to the payload comparison, such as cmpopts.IgnoreFields.
func Cmp(opts ...cmp.Option) Option {
	return optionFunc(func(o *options) { o.cmpOpts = append(o.cmpOpts, opts...) })
}

// WithHeader requires the message to carry value among its values for key. Keys are
// case-sensitive, as in nats.Header.
func WithHeader(key, value string) Option {
	return optionFunc(func(o *options) { o.headers = append(o.headers, header{key, value}) })
}

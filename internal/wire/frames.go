// Package wire splits a NATS client connection's byte stream, either way, into protocol frames:
// what natstest's proxy needs to know which message went to which client and subscription, and
// to hold back, drop or repeat a frame. It parses only what it must and keeps every frame's
// bytes as they came, so that forwarding frames forwards the stream unchanged.
package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
)

// An Op is a protocol operation.
type Op int

// The operations of the client protocol, both ways.
const (
	OpUnknown Op = iota
	OpInfo
	OpConnect
	OpPub
	OpHPub
	OpSub
	OpUnsub
	OpMsg
	OpHMsg
	OpPing
	OpPong
	OpOK
	OpErr
)

var opNames = [...]string{"?", "INFO", "CONNECT", "PUB", "HPUB", "SUB", "UNSUB", "MSG", "HMSG", "PING", "PONG", "+OK", "-ERR"}

func (o Op) String() string {
	if o < 0 || int(o) >= len(opNames) {
		return "?"
	}
	return opNames[o]
}

// A Frame is one operation and, for PUB, HPUB, MSG and HMSG, its payload.
type Frame struct {
	Op Op
	// Raw is the frame's bytes as read: control line, and payload with its CRLF.
	Raw []byte
	// Subject, Reply, Queue and SID are the operation's arguments, where it has them.
	Subject, Reply, Queue, SID string
	// Max is UNSUB's message count, 0 if none.
	Max int
	// HeaderLen is the length of the headers at the start of Payload (HPUB, HMSG).
	HeaderLen int
	// Payload is the headers and data of a message (a slice of Raw).
	Payload []byte
	// Arg is the rest of the control line for INFO, CONNECT and -ERR (JSON, or the error text).
	Arg []byte
}

// Data is the message's data, after its headers.
func (f *Frame) Data() []byte { return f.Payload[f.HeaderLen:] }

// Header is the message's header block, or nil.
func (f *Frame) Header() []byte {
	if f.HeaderLen == 0 {
		return nil
	}
	return f.Payload[:f.HeaderLen]
}

// ErrMalformed is a frame the reader cannot parse. The Frame returned with it holds the bytes
// read for it; the stream cannot be split further, but what follows may still be forwarded as it
// is (the server then answers the bad frame as it always does).
var ErrMalformed = errors.New("wire: malformed frame")

// maxLine bounds a control line: nats-server's 4096 bytes for a client's, and room for the
// longest INFO a server sends.
const maxLine = 64 << 10

// A Reader reads frames from a stream.
type Reader struct {
	br         *bufio.Reader
	maxPayload atomic.Int64
}

// NewReader reads frames from r, refusing payloads over maxPayload bytes (a malformed frame).
func NewReader(r io.Reader, maxPayload int) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, maxLine)}
	rd.SetMaxPayload(maxPayload)
	return rd
}

// SetMaxPayload changes the largest payload the reader accepts, from the next frame on: a proxy
// learns the server's limit from its INFO, and hands a larger PUB on to the server at once, whose
// error for it comes before any payload is read.
func (r *Reader) SetMaxPayload(n int) { r.maxPayload.Store(int64(n)) }

// Buffered is the bytes read from the stream but not yet returned in a frame: after
// ErrMalformed, the caller forwards them before the rest of the stream.
func (r *Reader) Buffered() []byte {
	b, _ := r.br.Peek(r.br.Buffered())
	return b
}

// Next reads the next frame. At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF with the partial frame's bytes in Raw; a frame it cannot parse is
// ErrMalformed with its bytes in Raw.
func (r *Reader) Next() (*Frame, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		f := &Frame{Raw: append([]byte(nil), line...)}
		if err == bufio.ErrBufferFull {
			return f, ErrMalformed
		}
		return f, io.ErrUnexpectedEOF
	}
	f := &Frame{}
	ctl := bytes.TrimRight(line, "\r\n")
	op, args := splitOp(ctl)
	f.Op = parseOp(op)
	need := -1 // payload bytes to read after the line
	switch f.Op {
	case OpInfo, OpConnect, OpErr:
		f.Arg = args
	case OpPing, OpPong, OpOK:
	case OpPub, OpMsg:
		need, err = f.messageArgs(fields(args), false)
	case OpHPub, OpHMsg:
		need, err = f.messageArgs(fields(args), true)
	case OpSub:
		a := fields(args)
		switch len(a) {
		case 2:
			f.Subject, f.SID = string(a[0]), string(a[1])
		case 3:
			f.Subject, f.Queue, f.SID = string(a[0]), string(a[1]), string(a[2])
		default:
			err = ErrMalformed
		}
	case OpUnsub:
		a := fields(args)
		switch len(a) {
		case 1:
			f.SID = string(a[0])
		case 2:
			f.SID = string(a[0])
			f.Max, err = strconv.Atoi(string(a[1]))
		default:
			err = ErrMalformed
		}
	default:
		err = ErrMalformed
	}
	if err == nil && int64(need) > r.maxPayload.Load() {
		err = fmt.Errorf("%w: payload of %d bytes", ErrMalformed, need)
	}
	if err != nil {
		f.Raw = append([]byte(nil), line...)
		if !errors.Is(err, ErrMalformed) {
			err = fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return f, err
	}
	if need < 0 {
		f.Raw = append([]byte(nil), line...)
		if f.Arg != nil { // args ends where the control line does
			f.Arg = f.Raw[len(ctl)-len(args) : len(ctl)]
		}
		return f, nil
	}
	raw := make([]byte, len(line)+need+2)
	copy(raw, line)
	n, err := io.ReadFull(r.br, raw[len(line):])
	if err != nil {
		f.Raw = raw[:len(line)+n]
		return f, io.ErrUnexpectedEOF
	}
	f.Raw = raw
	f.Payload = raw[len(line) : len(line)+need]
	if raw[len(raw)-2] != '\r' || raw[len(raw)-1] != '\n' {
		return f, fmt.Errorf("%w: payload not followed by CRLF", ErrMalformed)
	}
	return f, nil
}

// messageArgs reads PUB/MSG (subject [sid] [reply] size) or HPUB/HMSG (subject [sid] [reply]
// header-size total-size) arguments, and returns the payload size.
func (f *Frame) messageArgs(a [][]byte, headers bool) (int, error) {
	sizes := 1
	if headers {
		sizes = 2
	}
	withSID := f.Op == OpMsg || f.Op == OpHMsg
	fixed := 1 + sizes
	if withSID {
		fixed++
	}
	if len(a) != fixed && len(a) != fixed+1 {
		return 0, ErrMalformed
	}
	f.Subject = string(a[0])
	i := 1
	if withSID {
		f.SID = string(a[i])
		i++
	}
	if len(a) == fixed+1 {
		f.Reply = string(a[i])
		i++
	}
	total, err := size(a[len(a)-1])
	if err != nil {
		return 0, err
	}
	if headers {
		hdr, err := size(a[len(a)-2])
		if err != nil || hdr > total {
			return 0, ErrMalformed
		}
		f.HeaderLen = hdr
	}
	return total, nil
}

func size(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 10 {
		return 0, ErrMalformed
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrMalformed
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// splitOp splits a control line into its operation and the rest, without leading blanks.
func splitOp(ctl []byte) (op, args []byte) {
	i := bytes.IndexAny(ctl, " \t")
	if i < 0 {
		return ctl, nil
	}
	return ctl[:i], bytes.TrimLeft(ctl[i:], " \t")
}

func parseOp(op []byte) Op {
	for o := OpInfo; o <= OpErr; o++ {
		if bytes.EqualFold(op, []byte(opNames[o])) {
			return o
		}
	}
	return OpUnknown
}

// fields splits arguments on runs of blanks.
func fields(b []byte) [][]byte {
	return bytes.FieldsFunc(b, func(r rune) bool { return r == ' ' || r == '\t' })
}

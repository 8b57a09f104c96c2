package fake

import (
	"bytes"
	"errors"
)

// The protocol reader: it splits a client's byte stream into control lines and payloads, the
// way nats-server's parser does, and reports the errors nats-server reports for malformed input.

// op is a protocol operation a client may send.
type op uint8

const (
	opNone op = iota
	opPub
	opHPub
	opSub
	opUnsub
	opConnect
	opInfo
	opPing
	opPong
	opOK
	opErr
)

var opNames = [...]string{"", "PUB", "HPUB", "SUB", "UNSUB", "CONNECT", "INFO", "PING", "PONG", "+OK", "-ERR"}

func (o op) String() string { return opNames[o] }

// argOp reports whether the op's word must be followed by a space or tab and arguments.
func (o op) argOp() bool { return o != opPing && o != opPong && o != opOK }

// Errors the reader reports; the connection answers each as nats-server does and closes.
var (
	errUnknownOp   = errors.New("Unknown Protocol Operation")
	errMaxControl  = errors.New("maximum control line exceeded")
	errAuthFirst   = errors.New("Authorization Violation")
	errClientClose = errors.New("client sent -ERR")
)

// A handler receives what the reader parses.
type handler interface {
	// control handles a control line. For PUB and HPUB it returns the payload size to read next
	// (headers included), otherwise -1.
	control(o op, arg []byte) (payload int, err error)
	// payload handles the payload announced by the last control line, without its CRLF.
	payload(p []byte) error
}

type readState uint8

const (
	stOp      readState = iota // at the start of a line, or inside its op word or arguments
	stSkip                     // inside a PING, PONG or +OK line: everything up to LF is ignored
	stPayload                  // inside a payload and its closing CRLF
)

// maxSpare is the largest payload storage a connection keeps for reuse.
const maxSpare = 256 << 10

// reader is the parse state of one connection.
type reader struct {
	state     readState
	line      []byte // the current control line so far, when it spans reads
	wordOnly  bool   // line is an op word and at most one blank: more blanks are skipped
	skipOp    op
	need      int    // payload bytes still to come, CRLF included
	msg       []byte // the payload so far, when it spans reads
	spare     []byte // msg's storage once its payload is handled, for the next one to reuse
	size      int    // the payload size, CRLF excluded
	maxLine   int    // the longest argument list allowed (nats-server's max_control_line)
	authFirst bool   // the next op must be CONNECT (authorization required and not yet given)
}

// feed parses buf, calling h for each complete control line and payload. It stops at the first
// error. Payload slices passed to h may point into buf.
func (r *reader) feed(buf []byte, h handler) error {
	for len(buf) > 0 {
		switch r.state {
		case stSkip:
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				return nil
			}
			buf = buf[i+1:]
			r.state = stOp
			if _, err := h.control(r.skipOp, nil); err != nil {
				return err
			}
		case stPayload:
			if r.msg == nil && len(buf) >= r.need {
				p := buf[:r.need]
				buf = buf[r.need:]
				if err := r.endPayload(p, h); err != nil {
					return err
				}
				continue
			}
			n := min(r.need, len(buf))
			if r.msg == nil {
				if cap(r.spare) >= r.size+2 {
					r.msg, r.spare = r.spare[:0], nil
				} else {
					r.msg = make([]byte, 0, r.size+2)
				}
			}
			r.msg = append(r.msg, buf[:n]...)
			r.need -= n
			buf = buf[n:]
			if r.need == 0 {
				p := r.msg
				r.msg = nil
				r.need = len(p)
				err := r.endPayload(p, h)
				// The handler keeps no part of a payload (it cannot keep one that lies in the
				// read buffer either), so the next payload that spans reads may reuse p.
				if cap(p) <= maxSpare {
					r.spare = p
				}
				if err != nil {
					return err
				}
			}
		case stOp:
			i := bytes.IndexByte(buf, '\n')
			var chunk []byte
			if i < 0 {
				chunk = buf
			} else {
				chunk = buf[:i]
			}
			if r.wordOnly {
				// More blanks after the op word: skipped, as nats-server skips them.
				k := 0
				for k < len(chunk) && isBlank(chunk[k]) {
					k++
				}
				if k > 0 && !isBlank(r.line[len(r.line)-1]) {
					r.line = append(r.line, ' ')
				}
				chunk = chunk[k:]
			}
			line := chunk
			if r.line != nil {
				r.line = append(r.line, chunk...)
				line = r.line
			}
			o, argStart, err := r.classify(line)
			if err != nil {
				return err
			}
			if i < 0 {
				// The line goes on in a later read.
				switch {
				case o != opNone && !o.argOp():
					r.line, r.state, r.skipOp = nil, stSkip, o
				case o != opNone && argStart >= 0 && len(line)-argStart > r.maxLine:
					return errMaxControl
				case o != opNone && argStart < 0:
					// The op word and blanks at most: nats-server skips the blanks without keeping
					// them, so however many come, the line keeps the word and one blank.
					w := min(len(line), len(o.String())+1)
					if r.line == nil {
						r.line = append(make([]byte, 0, 64), line[:w]...)
					} else {
						r.line = r.line[:w]
					}
					r.wordOnly = true
					return nil
				case r.line == nil:
					r.line = append(make([]byte, 0, 2*len(chunk)+16), chunk...)
				}
				r.wordOnly = false
				return nil
			}
			buf = buf[i+1:]
			r.line, r.wordOnly = nil, false
			if o == opNone || (argStart < 0 && o.argOp() && o != opConnect && o != opInfo && len(line) <= len(o.String())) {
				return errUnknownOp // an empty line, or an op word cut short by the line's end
			}
			var arg []byte
			if argStart >= 0 {
				arg = line[argStart:]
				if n := len(arg); n > 0 && arg[n-1] == '\r' {
					arg = arg[:n-1]
				}
				if len(arg) > r.maxLine {
					return errMaxControl
				}
			}
			size, err := h.control(o, arg)
			if err != nil {
				return err
			}
			if size >= 0 {
				r.state, r.size, r.need = stPayload, size, size+2
			}
		}
	}
	return nil
}

// endPayload checks the CRLF after a payload and hands the payload to h.
func (r *reader) endPayload(p []byte, h handler) error {
	n := len(p)
	r.state = stOp
	if p[n-2] != '\r' || p[n-1] != '\n' {
		return errUnknownOp
	}
	return h.payload(p[:n-2])
}

// classify finds the op at the start of line, which may be incomplete. It returns opNone with no
// error when more bytes are needed to tell, and the offset of the arguments (after the spaces
// that follow the op word) or -1 if they have not started.
func (r *reader) classify(line []byte) (op, int, error) {
	if len(line) == 0 {
		return opNone, -1, nil
	}
	if r.authFirst && line[0] != 'C' && line[0] != 'c' {
		return opNone, -1, errAuthFirst
	}
	for o := opPub; o <= opErr; o++ {
		w := opNames[o]
		if !prefixFold(line, w) {
			continue
		}
		if len(line) < len(w) { // still inside the word
			return opNone, -1, nil
		}
		if !o.argOp() {
			return o, -1, nil
		}
		if len(line) == len(w) {
			return o, -1, nil
		}
		if c := line[len(w)]; c != ' ' && c != '\t' && o != opConnect && o != opInfo {
			return opNone, -1, errUnknownOp
		}
		j := len(w)
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if j == len(line) {
			return o, -1, nil
		}
		return o, j, nil
	}
	return opNone, -1, errUnknownOp
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// prefixFold reports whether line and word agree, ignoring ASCII case, over their common length.
func prefixFold(line []byte, word string) bool {
	n := min(len(line), len(word))
	for i := 0; i < n; i++ {
		c := line[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}

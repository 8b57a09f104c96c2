package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReaderSplitsFrames(t *testing.T) {
	stream := "INFO {\"server_id\":\"X\",\"client_id\":7}\r\n" +
		"CONNECT {\"name\":\"worker-1\"}\r\n" +
		"sub orders.* workers 1\r\n" +
		"SUB\tevents.>\t2\r\n" +
		"PUB orders.new _INBOX.a 5\r\nhello\r\n" +
		"HPUB orders.new 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
		"MSG orders.new 1 _INBOX.a 5\r\nhello\r\n" +
		"HMSG orders.new 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
		"UNSUB 1 10\r\nUNSUB 2\r\nPING\r\nPONG\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n" +
		"PUB empty 0\r\n\r\n"
	r := NewReader(strings.NewReader(stream), 1<<20)
	var got []Frame
	var raw bytes.Buffer
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(got), err)
		}
		raw.Write(f.Raw)
		got = append(got, *f)
	}
	if raw.String() != stream {
		t.Errorf("frames' bytes do not add up to the stream:\n%q\n%q", raw.String(), stream)
	}
	want := []Frame{
		{Op: OpInfo, Arg: []byte(`{"server_id":"X","client_id":7}`)},
		{Op: OpConnect, Arg: []byte(`{"name":"worker-1"}`)},
		{Op: OpSub, Subject: "orders.*", Queue: "workers", SID: "1"},
		{Op: OpSub, Subject: "events.>", SID: "2"},
		{Op: OpPub, Subject: "orders.new", Reply: "_INBOX.a", Payload: []byte("hello")},
		{Op: OpHPub, Subject: "orders.new", HeaderLen: 12, Payload: []byte("NATS/1.0\r\n\r\nhi")},
		{Op: OpMsg, Subject: "orders.new", SID: "1", Reply: "_INBOX.a", Payload: []byte("hello")},
		{Op: OpHMsg, Subject: "orders.new", SID: "2", HeaderLen: 12, Payload: []byte("NATS/1.0\r\n\r\nhi")},
		{Op: OpUnsub, SID: "1", Max: 10},
		{Op: OpUnsub, SID: "2"},
		{Op: OpPing}, {Op: OpPong}, {Op: OpOK},
		{Op: OpErr, Arg: []byte("'Unknown Protocol Operation'")},
		{Op: OpPub, Subject: "empty", Payload: []byte{}},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Frame{}, "Raw"), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
	if d := string(got[5].Data()); d != "hi" || string(got[5].Header()) != "NATS/1.0\r\n\r\n" || got[4].Header() != nil {
		t.Errorf("HPUB data %q header %q", d, got[5].Header())
	}
}

func TestReaderMalformed(t *testing.T) {
	for _, in := range []string{
		"FOO bar\r\n",
		"PUB\r\n",
		"PUB a b c d\r\n",
		"PUB a -1\r\n",
		"HPUB a 5 3\r\nabc\r\n",
		"SUB a\r\n",
		"UNSUB 1 x\r\n",
		"PUB a 3\r\nabcXY",
		"PUB a 2000000\r\n",
	} {
		r := NewReader(strings.NewReader(in+"PING\r\n"), 1<<20)
		f, err := r.Next()
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", in, err)
			continue
		}
		if rest := string(f.Raw) + string(r.Buffered()); !strings.HasPrefix(in+"PING\r\n", rest) && !strings.HasSuffix(in+"PING\r\n", rest) {
			t.Errorf("%q: the frame's bytes and what is buffered (%q) are not the stream", in, rest)
		}
	}
	r := NewReader(strings.NewReader("PUB a 5\r\nhello\r\nPUB a 5\r\nhello\r\n"), 1<<20)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.SetMaxPayload(4)
	if f, err := r.Next(); !errors.Is(err, ErrMalformed) || string(f.Raw) != "PUB a 5\r\n" {
		t.Errorf("a payload over a lowered limit: %v, %q", err, f.Raw)
	}
	r = NewReader(strings.NewReader("PUB a 10\r\nabc"), 1<<20)
	if f, err := r.Next(); err != io.ErrUnexpectedEOF || string(f.Raw) != "PUB a 10\r\nabc" {
		t.Errorf("a cut payload: %v, %q", err, f.Raw)
	}
}

// FuzzReader: whatever the bytes, the reader never panics, and the frames it returns, then what
// it reports as read but unparsed, are the stream's bytes in order.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"INFO {}\r\nPING\r\n", "PUB a 1\r\nx\r\n", "HMSG a 1 r 2 3\r\n\r\nx\r\n", "SUB a q 1\r\nUNSUB 1 2\r\n",
		"MSG a 1 5\r\nhel", "-ERR 'x'\r\n+OK\r\n", "hpub a 0 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 1<<16)
		var out bytes.Buffer
		for {
			fr, err := r.Next()
			if fr != nil {
				out.Write(fr.Raw)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				out.Write(r.Buffered())
				if !bytes.HasPrefix(in, out.Bytes()) {
					t.Fatalf("frames then buffered bytes %q are not a prefix of the stream %q", out.Bytes(), in)
				}
				return
			}
			if fr.Payload != nil && fr.HeaderLen > len(fr.Payload) {
				t.Fatalf("header length %d beyond the payload's %d", fr.HeaderLen, len(fr.Payload))
			}
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("frames %q are not the stream %q", out.Bytes(), in)
		}
	})
}

package fake

import (
	"bytes"
	"testing"
)

// hdrFindBySplit is hdrFind written the plain way: the lines after the first CRLF, split at CRLF.
func hdrFindBySplit(hdr []byte, key string) ([]byte, bool) {
	i := bytes.Index(hdr, []byte("\r\n"))
	if i < 0 {
		return nil, false
	}
	for _, line := range bytes.Split(hdr[i+2:], []byte("\r\n")) {
		if len(line) > len(key) && string(line[:len(key)]) == key && line[len(key)] == ':' {
			return line[len(key)+1:], true
		}
	}
	return nil, false
}

func FuzzHdrFind(f *testing.F) {
	for _, s := range []string{
		"NATS/1.0\r\nNats-TTL: 1h\r\n\r\n",
		"NATS/1.0\r\nA:1\nNats-TTL:2\r\nNats-TTL: 3\r\n\r\n",
		"NATS/1.0\n\r\nNats-TTL:x",
		"\r\n\r\nNats-TTL:\r",
		"NATS/1.0\r\n\r\nNats-TTL:4\r\n",
	} {
		f.Add([]byte(s), "Nats-TTL")
	}
	f.Fuzz(func(t *testing.T, hdr []byte, key string) {
		got, gotOK := hdrFind(hdr, key)
		want, wantOK := hdrFindBySplit(hdr, key)
		if gotOK != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("hdrFind(%q, %q) = %q, %v; want %q, %v", hdr, key, got, gotOK, want, wantOK)
		}
	})
}

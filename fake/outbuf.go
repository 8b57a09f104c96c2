package fake

import (
	"net"
	"strconv"
	"sync"
)

// A connection's outbound data is a list of fixed-size chunks from a pool, the last one filling:
// a message is copied once, into place, however much is queued (it used to be one slice grown
// by append, copied whole at each growth), and the write loop hands the chunks to the connection
// in one vectored write (net.Buffers), then returns them to the pool.

// outChunkSize is the size of an outbound chunk.
const outChunkSize = 32 << 10

var outChunks = sync.Pool{New: func() any {
	b := make([]byte, 0, outChunkSize)
	return &b
}}

// outBuf is a connection's queued outbound data.
type outBuf struct {
	chunks [][]byte
	n      int
}

func (o *outBuf) len() int { return o.n }

// room is the last chunk, with space for at least one byte.
func (o *outBuf) room() *[]byte {
	if k := len(o.chunks); k > 0 && len(o.chunks[k-1]) < cap(o.chunks[k-1]) {
		return &o.chunks[k-1]
	}
	o.chunks = append(o.chunks, (*outChunks.Get().(*[]byte))[:0])
	return &o.chunks[len(o.chunks)-1]
}

func (o *outBuf) write(p []byte)       { writeOut(o, p) }
func (o *outBuf) writeString(s string) { writeOut(o, s) }

// writeOut copies p to the end of o's chunks, taking new chunks as they fill.
func writeOut[T string | []byte](o *outBuf, p T) {
	o.n += len(p)
	for len(p) > 0 {
		last := o.room()
		m := copy((*last)[len(*last):cap(*last)], p)
		*last = (*last)[:len(*last)+m]
		p = p[m:]
	}
}

func (o *outBuf) writeByte(c byte) {
	o.n++
	last := o.room()
	*last = append(*last, c)
}

func (o *outBuf) writeInt(v int) {
	var tmp [20]byte
	o.write(strconv.AppendInt(tmp[:0], int64(v), 10))
}

// take hands over the queued chunks and leaves the queue empty, reusing spare for its list.
func (o *outBuf) take(spare [][]byte) ([][]byte, int) {
	ch, n := o.chunks, o.n
	o.chunks, o.n = spare[:0], 0
	return ch, n
}

// chunkWriter writes a connection's chunks with net.Buffers: over TCP one vectored write, over
// an in-process pipe one write per chunk (gathering them into one buffer first measured slower
// in process, and the throughput benchmark failed in 2 of 8 runs with it).
type chunkWriter struct {
	vec [][]byte // the write's list, reused
}

// write writes chunks to nc and returns them to the pool.
func (w *chunkWriter) write(nc net.Conn, chunks [][]byte) error {
	defer releaseChunks(chunks)
	w.vec = append(w.vec[:0], chunks...)
	bufs := net.Buffers(w.vec)
	_, err := bufs.WriteTo(nc)
	clear(w.vec)
	return err
}

// releaseChunks returns chunks to the pool.
func releaseChunks(chunks [][]byte) {
	for i, b := range chunks {
		b = b[:0]
		outChunks.Put(&b)
		chunks[i] = nil
	}
}

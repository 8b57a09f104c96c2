package fake

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
)

// Strict decoding. nats-server (strict mode, its default) decodes an API request with
// json.Decoder.DisallowUnknownFields into its own request types. The fake decodes into nats.go's
// types (what its handlers use), non-strictly, and checks the keys apart against the keys the
// server's types know: those of the fake's type, found by reflection, with the differences
// between nats.go's types and the server's declared below (a test compares the result with the
// server's types, so a nats.go or nats-server upgrade that moves a field fails it).

// keyDelta is where nats.go's types and the server's differ: keys the server knows that the
// fake's type lacks (accepted, as the server accepts them), and keys of the fake's type the
// server does not know (refused, as the server refuses them).
var keyDelta = map[reflect.Type]struct{ serverOnly, clientOnly []string }{
	reflect.TypeFor[jetstream.StreamConfig]():   {clientOnly: []string{"template_owner"}},
	reflect.TypeFor[jetstream.Placement]():      {serverOnly: []string{"preferred"}},
	reflect.TypeFor[jetstream.ConsumerConfig](): {serverOnly: []string{"direct", "sourcing"}},
}

// serverTypeNames names the server's type for each request type of the fake, for the decoder's
// type errors ("json: cannot unmarshal string into Go struct field StreamConfigRequest.max_msgs
// of type int64").
var serverTypeNames = map[reflect.Type]string{
	reflect.TypeFor[streamConfigRequest]():   "StreamConfigRequest",
	reflect.TypeFor[createConsumerRequest](): "CreateConsumerRequest",
	reflect.TypeFor[streamInfoRequest]():     "JSApiStreamInfoRequest",
	reflect.TypeFor[purgeRequest]():          "JSApiStreamPurgeRequest",
	reflect.TypeFor[msgGetRequest]():         "JSApiMsgGetRequest",
	reflect.TypeFor[msgDeleteRequest]():      "JSApiMsgDeleteRequest",
	reflect.TypeFor[streamNamesRequest]():    "JSApiStreamNamesRequest",
	reflect.TypeFor[streamListRequest]():     "JSApiStreamListRequest",
	reflect.TypeFor[consumersRequest]():      "JSApiConsumersRequest",
	reflect.TypeFor[pauseRequest]():          "JSApiConsumerPauseRequest",
	reflect.TypeFor[resetRequest]():          "JSApiConsumerResetRequest",
}

// serverFieldPaths renames a type error's field where the server's type nests it in an embedded
// struct (ApiPagedRequest) that the fake's does not have.
var serverFieldPaths = map[reflect.Type]map[string]string{
	reflect.TypeFor[streamInfoRequest]():  {"offset": "ApiPagedRequest.offset"},
	reflect.TypeFor[streamNamesRequest](): {"offset": "ApiPagedRequest.offset"},
	reflect.TypeFor[streamListRequest]():  {"offset": "ApiPagedRequest.offset"},
	reflect.TypeFor[consumersRequest]():   {"offset": "ApiPagedRequest.offset"},
}

// streamConfigRequest is the body of STREAM.CREATE and STREAM.UPDATE.
type streamConfigRequest struct {
	jetstream.StreamConfig
	// Pedantic asks the server to refuse a configuration it would otherwise adjust.
	Pedantic bool `json:"pedantic,omitempty"`
}

// consumerAction is a CONSUMER.CREATE request's action: "create", "update", or "" (either),
// decoded as nats-server decodes it.
type consumerAction string

func (a *consumerAction) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `"create"`, `"update"`, `""`:
		*a = consumerAction(data[1 : len(data)-1])
		return nil
	}
	return fmt.Errorf("unknown consumer action: %v", string(data))
}

// streamNamesRequest is the body of STREAM.NAMES and STREAM.LIST.
type streamNamesRequest struct {
	Offset  int    `json:"offset"`
	Subject string `json:"subject,omitempty"`
}

// streamListRequest is the body of STREAM.LIST, named apart for the decoder's messages.
type streamListRequest streamNamesRequest

// consumersRequest is the body of CONSUMER.NAMES and CONSUMER.LIST: no subject filter.
type consumersRequest struct {
	Offset int `json:"offset"`
}

// decodeStrict reads body into v as nats-server's strict mode does: a stream of JSON values
// (none is fine, null leaves v as it is, each later value decoded over the earlier), with the
// decoder's error messages, refusing a key the server's type does not know.
func decodeStrict(body []byte, v any) error {
	if z, ok := v.(serverZeroer); ok {
		z.serverZero()
	}
	schema := schemaOf(reflect.TypeOf(v))
	if json.Valid(body) { // one value, the usual body: no decoder needed to find it
		return decodeStrictValue(bytes.TrimSpace(body), v, schema)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if err == io.EOF {
				return nil
			}
			var syntaxErr *json.SyntaxError
			if errors.As(err, &syntaxErr) {
				err = fmt.Errorf("%w at offset %d", err, syntaxErr.Offset)
			}
			return err
		}
		if err := decodeStrictValue(raw, v, schema); err != nil {
			return err
		}
	}
}

// decodeStrictValue decodes raw, one JSON value, into v as decodeStrict does.
func decodeStrictValue(raw []byte, v any, schema *keySchema) error {
	var sc scan
	sc.value(schema, raw)
	if sc.valueErr != nil {
		// The error of a type's own decoding ends the decoding where it happens: it wins.
		return sc.valueErr
	}
	raw = sc.rewritten(raw)
	err := json.Unmarshal(raw, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err != nil && !errors.As(err, &typeErr):
		return err
	case sc.found && (err == nil || typeErr.Offset > sc.unknownAt):
		return fmt.Errorf("json: unknown field %q", sc.unknown)
	case err != nil:
		return serverTypeError(typeErr, reflect.TypeOf(v))
	}
	return nil
}

// A serverZeroer sets the fields whose zero value means one thing in nats.go's type and another
// in nats-server's to the server's, so that a request that leaves them out means what it means
// to the server.
type serverZeroer interface{ serverZero() }

// serverZero: nats-server's zero AckPolicy acks none; nats.go's is explicit.
func (r *createConsumerRequest) serverZero() { r.Config.AckPolicy = jetstream.AckNonePolicy }

// serverTypeError is the decoder's type error with the server's type names for the fake's.
func serverTypeError(e *json.UnmarshalTypeError, top reflect.Type) error {
	for top.Kind() == reflect.Pointer {
		top = top.Elem()
	}
	typ := e.Type.String()
	if name, ok := serverTypeNames[e.Type]; ok {
		typ = "server." + name
	}
	typ = strings.NewReplacer("jetstream.", "server.", "fake.", "server.").Replace(typ)
	if e.Struct == "" && e.Field == "" {
		return fmt.Errorf("json: cannot unmarshal %s into Go value of type %s", e.Value, typ)
	}
	st, field := e.Struct, e.Field
	if name, ok := serverTypeNames[top]; ok && st == top.Name() {
		st = name
		if p, ok := serverFieldPaths[top][field]; ok {
			field = p
		}
	}
	return fmt.Errorf("json: cannot unmarshal %s into Go struct field %s.%s of type %s", e.Value, st, field, typ)
}

// An ownType is a nats.go type that decodes itself (an enumeration), as nats-server's type for
// the same field decodes: the server's words for a value it refuses, the values the server takes
// that nats.go spells otherwise, and the values nats.go takes that the server refuses (a test
// compares both types' values).
type ownType struct {
	serverErr func(data []byte) error
	rewrite   map[string]string
	refuse    []string
}

var ownTypes = map[reflect.Type]ownType{
	reflect.TypeFor[jetstream.RetentionPolicy](): {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.DiscardPolicy]():   {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.StorageType]():     {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.PersistModeType](): {serverErr: canNotUnmarshal, rewrite: map[string]string{`""`: `"default"`}},
	reflect.TypeFor[jetstream.DeliverPolicy]():   {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.AckPolicy]():       {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.ReplayPolicy]():    {serverErr: canNotUnmarshal},
	reflect.TypeFor[jetstream.PriorityPolicy](): {
		serverErr: func(data []byte) error { return fmt.Errorf("unknown priority policy: %v", string(data)) },
		rewrite:   map[string]string{`"none"`: `""`},
		refuse:    []string{`""`},
	},
}

func canNotUnmarshal(data []byte) error { return fmt.Errorf("can not unmarshal %q", data) }

// serverValue checks data, a value of type t, as nats-server's type for the field does: it is
// the server's error if the server refuses data, or else the bytes t decodes the same way.
func serverValue(t reflect.Type, data []byte) ([]byte, error) {
	o := ownTypes[t]
	if slices.Contains(o.refuse, string(data)) {
		return nil, o.serverErr(data)
	}
	if r, ok := o.rewrite[string(data)]; ok {
		return []byte(r), nil
	}
	if reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data) != nil {
		return nil, o.serverErr(data)
	}
	return data, nil
}

// A scan is what reading one JSON value against a keySchema found, in document order: the first
// key the schema does not know (and the offset just after it), the first value nats-server's
// type refuses (where the decoding stops), and the values to respell for nats.go's types.
type scan struct {
	unknown   string
	unknownAt int64
	found     bool
	valueErr  error
	spans     []respell
}

type respell struct {
	start, end int64
	with       []byte
}

// value reads raw, one valid JSON value, against s, as encoding/json's decoder would meet its
// keys and values, by walking its bytes.
func (sc *scan) value(s *keySchema, raw []byte) {
	w := walker{b: raw, sc: sc}
	w.value(s)
}

// A walker walks a valid JSON value's bytes for a scan; offsets are into b.
type walker struct {
	b  []byte
	i  int
	sc *scan
}

func (w *walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value reads one value against s. It reports false when the decoding stops there.
func (w *walker) value(s *keySchema) bool {
	w.space()
	start := w.i
	if s == nil {
		w.skip()
		return true
	}
	if s.own != nil {
		w.skip()
		data := w.b[start:w.i]
		with, err := serverValue(s.own, data)
		if err != nil {
			w.sc.valueErr = err
			return false
		}
		if !bytes.Equal(with, data) {
			w.sc.spans = append(w.sc.spans, respell{int64(start), int64(w.i), with})
		}
		return true
	}
	open := w.b[w.i]
	if open != '{' && open != '[' {
		w.skip()
		return true
	}
	// Where the decoder finds another type than the schema's, it reads nothing inside.
	var elem *keySchema
	if open == '{' && s.isMap || open == '[' && s.keys == nil && !s.isMap {
		elem = s.elem
	}
	for w.i++; ; {
		w.space()
		switch w.b[w.i] {
		case '}', ']':
			w.i++
			return true
		case ',':
			w.i++
			w.space()
		}
		sub := elem
		if open == '{' {
			ks := w.i
			w.skip()
			kraw, keyEnd := w.b[ks:w.i], w.i
			w.space()
			w.i++ // the colon
			if s.keys != nil {
				k := unquoteKey(kraw)
				var known bool
				if sub, known = s.keys[foldKey(k)]; !known && !w.sc.found {
					w.sc.unknown, w.sc.unknownAt, w.sc.found = k, int64(keyEnd), true
				}
			}
		}
		if !w.value(sub) {
			return false
		}
	}
}

// skip moves past one value (or an object's key) that starts at w.i.
func (w *walker) skip() {
	switch c := w.b[w.i]; c {
	case '"':
		for w.i++; w.i < len(w.b); w.i++ {
			switch w.b[w.i] {
			case '\\':
				w.i++
			case '"':
				w.i++
				return
			}
		}
	case '{', '[':
		depth := 0
		for ; w.i < len(w.b); w.i++ {
			switch w.b[w.i] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					w.i++
					return
				}
			case '"':
				w.skip()
				w.i--
			}
		}
	default: // a number, true, false or null
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			w.i++
		}
	}
}

// unquoteKey is a key's string, its quotes and escapes read.
func unquoteKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var k string
	_ = json.Unmarshal(raw, &k)
	return k
}

// rewritten is raw with the values respelled, and the unknown key's offset moved with them.
func (sc *scan) rewritten(raw []byte) []byte {
	if len(sc.spans) == 0 {
		return raw
	}
	var out []byte
	var last, shift int64
	for _, r := range sc.spans {
		out = append(append(out, raw[last:r.start]...), r.with...)
		if r.end <= sc.unknownAt {
			shift += int64(len(r.with)) - (r.end - r.start)
		}
		last = r.end
	}
	sc.unknownAt += shift
	return append(out, raw[last:]...)
}

// A keySchema is what keys a JSON value may hold: an object's keys (folded as the decoder
// folds them) with their values' schemas, or an array's or a map's elements'; or, for one of
// ownTypes, what values. A nil schema checks nothing: scalars, and other types that decode
// themselves.
type keySchema struct {
	keys  map[string]*keySchema
	elem  *keySchema
	isMap bool         // elem is the schema of an object's values, not of a list's elements
	own   reflect.Type // a type that decodes itself: no keys checked, its values checked
}

var schemas sync.Map // reflect.Type -> *keySchema

func schemaOf(t reflect.Type) *keySchema {
	if s, ok := schemas.Load(t); ok {
		return s.(*keySchema)
	}
	s := buildSchema(t, map[reflect.Type]*keySchema{})
	schemas.Store(t, s)
	return s
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func buildSchema(t reflect.Type, seen map[reflect.Type]*keySchema) *keySchema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		if _, ok := ownTypes[t]; ok {
			return &keySchema{own: t}
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &keySchema{keys: map[string]*keySchema{}}
		seen[t] = s
		addFields(s, t, seen)
		return s
	case reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		if e := buildSchema(t.Elem(), seen); e != nil {
			return &keySchema{elem: e, isMap: t.Kind() == reflect.Map}
		}
	}
	return nil
}

// addFields adds t's JSON keys to s as encoding/json names them, embedded structs flattened,
// and the keyDelta for t applied.
func addFields(s *keySchema, t reflect.Type, seen map[reflect.Type]*keySchema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(s, ft, seen)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.keys[foldKey(name)] = buildSchema(f.Type, seen)
	}
	d := keyDelta[t]
	for _, k := range d.serverOnly {
		s.keys[foldKey(k)] = nil
	}
	for _, k := range d.clientOnly {
		delete(s.keys, foldKey(k))
	}
}

// foldKey folds a key as encoding/json matches keys with names: ASCII letters to upper case,
// other runes to the upper case of their lower case.
func foldKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
		} else {
			r = unicode.ToUpper(unicode.ToLower(r))
		}
		b.WriteRune(r)
	}
	return b.String()
}

// emptyRequest is nats-server's isEmptyRequest: no body, or a JSON object with no keys.
func emptyRequest(body []byte) bool {
	if len(body) == 0 || string(body) == "{}" {
		return true
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return false
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// objectOrArray is nats-server's isJSONObjectOrArray: the body's first non-space byte opens a
// JSON object or array. NAMES and LIST requests decode only such a body, and ignore any other.
func objectOrArray(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

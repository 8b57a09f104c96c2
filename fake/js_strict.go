package fake

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
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
		unknownAt, unknown := schema.unknownKey(raw)
		err := json.Unmarshal(raw, v)
		var typeErr *json.UnmarshalTypeError
		switch {
		case err != nil && !errors.As(err, &typeErr):
			// An error of a type's own decoding ends the decoding where it happens: it wins.
			return schema.valueError(raw, err)
		case unknown != "" && (err == nil || typeErr.Offset > unknownAt):
			return fmt.Errorf("json: unknown field %q", unknown)
		case err != nil:
			return serverTypeError(typeErr, reflect.TypeOf(v))
		}
	}
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

// serverValueErrors is, for each nats.go type that decodes itself, the error nats-server's type
// for the same field gives a value it does not know (nats.go's words differ).
var serverValueErrors = map[reflect.Type]func(data []byte) error{
	reflect.TypeFor[jetstream.RetentionPolicy](): canNotUnmarshal,
	reflect.TypeFor[jetstream.DiscardPolicy]():   canNotUnmarshal,
	reflect.TypeFor[jetstream.StorageType]():     canNotUnmarshal,
	reflect.TypeFor[jetstream.PersistModeType](): canNotUnmarshal,
	reflect.TypeFor[jetstream.DeliverPolicy]():   canNotUnmarshal,
	reflect.TypeFor[jetstream.AckPolicy]():       canNotUnmarshal,
	reflect.TypeFor[jetstream.ReplayPolicy]():    canNotUnmarshal,
	reflect.TypeFor[jetstream.PriorityPolicy](): func(data []byte) error {
		return fmt.Errorf("unknown priority policy: %v", string(data))
	},
}

func canNotUnmarshal(data []byte) error { return fmt.Errorf("can not unmarshal %q", data) }

// valueError is err, the error a type's own decoding gave for raw, in nats-server's words: the
// first value in raw that its nats.go type refuses gets the server's error for it.
func (s *keySchema) valueError(raw []byte, err error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if e := s.firstBadValue(dec); e != nil {
		return e
	}
	return err
}

// firstBadValue reads one value from dec against s and returns the server's error for the first
// value of a self-decoding type that refuses it.
func (s *keySchema) firstBadValue(dec *json.Decoder) error {
	if s != nil && s.own != nil {
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return nil
		}
		if reflect.New(s.own).Interface().(json.Unmarshaler).UnmarshalJSON(raw) != nil {
			return serverValueErrors[s.own](raw)
		}
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	for dec.More() {
		sub := (*keySchema)(nil)
		if s != nil {
			sub = s.elem
		}
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return nil
			}
			if s != nil && s.keys != nil {
				k, _ := kt.(string)
				sub = s.keys[foldKey(k)]
			}
		}
		if e := sub.firstBadValue(dec); e != nil {
			return e
		}
	}
	_, _ = dec.Token()
	return nil
}

// A keySchema is what keys a JSON value may hold: an object's keys (folded as the decoder
// folds them) with their values' schemas, or an array's or a map's elements'. A nil schema
// checks nothing: scalars, and types that decode themselves.
type keySchema struct {
	keys map[string]*keySchema
	elem *keySchema
	own  reflect.Type // a type that decodes itself: no keys checked
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
		if _, ok := serverValueErrors[t]; ok {
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
			return &keySchema{elem: e}
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

// unknownKey is the first key in raw (a valid JSON value) that s does not know, in document
// order, and the offset of the value that follows it ("" when there is none).
func (s *keySchema) unknownKey(raw []byte) (int64, string) {
	if s == nil {
		return 0, ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	off, key, _ := s.walk(dec)
	return off, key
}

// walk reads one value from dec against s, reporting the first unknown key.
func (s *keySchema) walk(dec *json.Decoder) (int64, string, error) {
	if s != nil && s.own != nil {
		var raw json.RawMessage
		return 0, "", dec.Decode(&raw)
	}
	tok, err := dec.Token()
	if err != nil {
		return 0, "", err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return 0, "", nil
	}
	switch {
	case d == '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return 0, "", err
			}
			k, _ := kt.(string)
			off := dec.InputOffset()
			var sub *keySchema
			known := true
			if s != nil {
				if s.keys != nil {
					sub, known = s.keys[foldKey(k)]
				} else {
					sub = s.elem
				}
			}
			if !known {
				return off, k, nil
			}
			if o, u, err := sub.walk(dec); u != "" || err != nil {
				return o, u, err
			}
		}
	case d == '[':
		var sub *keySchema
		if s != nil {
			sub = s.elem
		}
		for dec.More() {
			if o, u, err := sub.walk(dec); u != "" || err != nil {
				return o, u, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return 0, "", err
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

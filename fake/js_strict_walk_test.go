package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// scanByTokens is scan.value written with encoding/json's Decoder.Token: the reference the byte
// walker is held to.
func (sc *scan) scanByTokens(s *keySchema, dec *json.Decoder) bool {
	if s != nil && s.own != nil {
		var data json.RawMessage
		if dec.Decode(&data) != nil {
			return false
		}
		with, err := serverValue(s.own, data)
		if err != nil {
			sc.valueErr = err
			return false
		}
		if !bytes.Equal(with, data) {
			end := dec.InputOffset()
			sc.spans = append(sc.spans, respell{end - int64(len(data)), end, with})
		}
		return true
	}
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return true
	}
	for dec.More() {
		var sub *keySchema
		if s != nil && (d == '[' && s.keys == nil && !s.isMap || d == '{' && s.isMap) {
			sub = s.elem
		}
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return false
			}
			if s != nil && s.keys != nil {
				k, _ := kt.(string)
				var known bool
				if sub, known = s.keys[foldKey(k)]; !known && !sc.found {
					sc.unknown, sc.unknownAt, sc.found = k, dec.InputOffset(), true
				}
			}
		}
		if !sc.scanByTokens(sub, dec) {
			return false
		}
	}
	_, err = dec.Token()
	return err == nil
}

// FuzzScanAsTokens: for every request type and any valid JSON value, the byte walker finds the
// unknown key at the offset, the refused value and the respellings the Decoder's tokens find.
func FuzzScanAsTokens(f *testing.F) {
	for _, p := range strictPairs {
		for i, body := range slices.Concat(strictCommon, strictBodies[p.what]) {
			f.Add(uint8(i), []byte(body))
		}
	}
	f.Add(uint8(0), []byte(` { "config" : { "name" : "a\"b" , "x\u00e9" : [ 1 , {"y":2} ] , "retention" : "limits" } } `))
	f.Add(uint8(1), []byte(`{"config":{"ack_policy":"all","filter_subjects":["a","b"],"metadata":{"k":"v"},"zz\xff":1}}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		var raw json.RawMessage
		if json.NewDecoder(bytes.NewReader(body)).Decode(&raw) != nil {
			return
		}
		p := strictPairs[int(which)%len(strictPairs)]
		schema := schemaOf(reflect.PointerTo(p.fake))
		var want, got scan
		want.scanByTokens(schema, json.NewDecoder(bytes.NewReader(raw)))
		got.value(schema, raw)
		if g, w := got.String(), want.String(); g != w {
			t.Errorf("%s %q:\n walker: %s\n tokens: %s", p.what, raw, g, w)
		}
	})
}

func (sc scan) String() string {
	return fmt.Sprintf("unknown %q at %d (%v), value error %v, respelled %v",
		sc.unknown, sc.unknownAt, sc.found, sc.valueErr, sc.spans)
}

func (r respell) String() string { return fmt.Sprintf("%d-%d:%s", r.start, r.end, r.with) }

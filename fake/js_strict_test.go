package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// strictPairs pairs each request type the fake decodes strictly with the server's type for the
// same request.
var strictPairs = []struct {
	what         string
	fake, server reflect.Type
}{
	{"STREAM.CREATE, STREAM.UPDATE", reflect.TypeFor[streamConfigRequest](), reflect.TypeFor[server.StreamConfigRequest]()},
	{"CONSUMER.CREATE", reflect.TypeFor[createConsumerRequest](), reflect.TypeFor[server.CreateConsumerRequest]()},
	{"STREAM.INFO", reflect.TypeFor[streamInfoRequest](), reflect.TypeFor[server.JSApiStreamInfoRequest]()},
	{"STREAM.PURGE", reflect.TypeFor[purgeRequest](), reflect.TypeFor[server.JSApiStreamPurgeRequest]()},
	{"STREAM.MSG.GET", reflect.TypeFor[msgGetRequest](), reflect.TypeFor[server.JSApiMsgGetRequest]()},
	{"STREAM.MSG.DELETE", reflect.TypeFor[msgDeleteRequest](), reflect.TypeFor[server.JSApiMsgDeleteRequest]()},
	{"STREAM.NAMES", reflect.TypeFor[streamNamesRequest](), reflect.TypeFor[server.JSApiStreamNamesRequest]()},
	{"STREAM.LIST", reflect.TypeFor[streamListRequest](), reflect.TypeFor[server.JSApiStreamListRequest]()},
	{"CONSUMER.NAMES, CONSUMER.LIST", reflect.TypeFor[consumersRequest](), reflect.TypeFor[server.JSApiConsumersRequest]()},
}

// schemaDiff lists the key paths one schema accepts and the other does not.
func schemaDiff(path string, fake, srv *keySchema, out *[]string) {
	if fake != nil && fake.own != nil {
		fake = nil // decodes itself: no keys
	}
	switch {
	case fake == nil && srv == nil:
		return
	case fake == nil || srv == nil:
		*out = append(*out, fmt.Sprintf("%s: keys checked by %s only", path, map[bool]string{true: "the server", false: "the fake"}[fake == nil]))
		return
	}
	if (fake.keys == nil) != (srv.keys == nil) || fake.isMap != srv.isMap {
		*out = append(*out, path+": an object on one side, a list or map on the other")
		return
	}
	if fake.keys == nil {
		schemaDiff(path+"[]", fake.elem, srv.elem, out)
		return
	}
	for k, fs := range fake.keys {
		ss, ok := srv.keys[k]
		if !ok {
			*out = append(*out, fmt.Sprintf("%s.%s: the fake accepts it, the server refuses it", path, k))
			continue
		}
		schemaDiff(path+"."+k, fs, ss, out)
	}
	for k := range srv.keys {
		if _, ok := fake.keys[k]; !ok {
			*out = append(*out, fmt.Sprintf("%s.%s: the server accepts it, the fake refuses it", path, k))
		}
	}
}

// TestStrictKeysAsServer checks by reflection that the keys the fake's strict decoding accepts
// in each request are exactly those of the server's type for it, at every depth.
func TestStrictKeysAsServer(t *testing.T) {
	for _, p := range strictPairs {
		var diffs []string
		schemaDiff("", schemaOf(reflect.PointerTo(p.fake)), buildSchema(p.server, map[reflect.Type]*keySchema{}), &diffs)
		sort.Strings(diffs)
		for _, d := range diffs {
			t.Errorf("%s (%v, server.%s) %s", p.what, p.fake, p.server.Name(), d)
		}
	}
}

// TestPullRequestKeys: nats-server decodes a pull request (CONSUMER.MSG.NEXT) non-strictly, so
// no key is refused there; every key the fake reads must still be one the server knows.
func TestPullRequestKeys(t *testing.T) {
	var diffs []string
	schemaDiff("", schemaOf(reflect.TypeFor[*nextRequest]()), buildSchema(reflect.TypeFor[server.JSApiConsumerGetNextRequest](), map[reflect.Type]*keySchema{}), &diffs)
	for _, d := range diffs {
		if bytes.Contains([]byte(d), []byte("the fake accepts it")) {
			t.Errorf("pull request %s", d)
		} else {
			t.Logf("pull request %s (the fake does not read it)", d)
		}
	}
}

// serverDecode decodes body as nats-server's unmarshalRequest does in strict mode.
func serverDecode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	for {
		if err := dec.Decode(v); err != nil {
			if err == io.EOF {
				return nil
			}
			var syntaxErr *json.SyntaxError
			if errors.As(err, &syntaxErr) {
				err = fmt.Errorf("%w at offset %d", err, syntaxErr.Offset)
			}
			return err
		}
	}
}

// strictCommon are bodies tried on every request type.
var strictCommon = []string{
	"", " ", "null", "{}", " {} ", "{} {}", "{}}", "{} x", `{"x":1}`, `{"X":1}`, "[]", "[1]", "1", `"s"`,
	"true", `{"a"`, "{", `{"offset":1,"zz":{"a":1}}`, `{"zz":1} {"yy":1}`, `{} {"yy":1}`, "null null",
}

// strictBodies are bodies tried on one request type.
var strictBodies = map[string][]string{
	"STREAM.CREATE, STREAM.UPDATE": {
		`{"name":"S","foo":1}`, `{"NAME":"S"}`, `{"Name":"S","Subjects":["a"]}`,
		`{"name":"S","placement":{"cluster":"c","bogus":1}}`, `{"name":"S","placement":{"preferred":"p"}}`,
		`{"name":"S","template_owner":"t"}`, `{"name":"S","pedantic":true}`,
		`{"name":"S","max_msgs":"x"}`, `{"name":"S","max_msgs":"x","foo":1}`, `{"foo":1,"max_msgs":"x"}`,
		`{"name":"S","sources":[{"name":"a","nope":1}]}`, `{"name":"S","sources":[{"name":"a","external":{"api":"x","deliver":"y"}}]}`,
		`{"name":"S","mirror":{"name":"m","external":{"api":"a","q":1}}}`,
		`{"name":"S","metadata":{"a":"b"}}`, `{"name":"S","metadata":{"a":1}}`,
		`{"name":"S","subject_transform":{"src":"a","dest":"b","x":1}}`, `{"name":"S","consumer_limits":{"zzz":1}}`,
		`{"name":"S","republish":{"src":">","dest":"x","headers_only":true,"bad":1}}`,
		`{"name":"S","subjects":"a"}`, `{"name":"S","subjects":[1]}`, `{"name":"S","max_age":"1s"}`,
		`{"name":"S","allow_msg_ttl":true,"subject_delete_marker_ttl":1000000000}`,
		`{"name":"S","compression":"s2"}`, `{"name":"S","retention":"bogus"}`, `{"name":"S","storage":"x"}`,
		`{"name":"S","discard":"x"}`, `{"name":"S","compression":"x"}`, `{"name":"S","persist_mode":"x"}`, `{"name":"S","retention":1}`, `{"name":"S","sealed":1}`, `{"name":"S","replicas":1.5}`,
	},
	"CONSUMER.CREATE": {
		`{"stream_name":"S","config":{"durable_name":"C","bogus":1}}`, `{"config":{"direct":true,"sourcing":true}}`,
		`{"pedantic":true}`, `{"stream_name":"S","config":{}}`, `{"action":"bogus"}`, `{"action":"create"}`, `{"action":1}`,
		`{"config":{"deliver_policy":"x"}}`, `{"config":{"ack_policy":"x"}}`, `{"config":{"replay_policy":"x"}}`, `{"config":{"priority_policy":"x"}}`, `{"config":{"ack_wait":"1s"}}`,
		`{"config":{"filter_subjects":["a"],"metadata":{"a":"b"},"backoff":[1,2]}}`,
		`{"config":{"priority_groups":["a"],"priority_policy":"pinned_client","x":1}}`,
		`{"config":{"pause_until":"2020-01-01T00:00:00Z"}}`, `{"config":null}`, `{"config":[]}`,
		`{"config":{"name":1}}`, `{"stream_name":1,"x":2}`, `{"stream_name":"S","x":2,"config":{"name":1}}`,
	},
	"STREAM.INFO":                   {`{"deleted_details":true,"subjects_filter":">","offset":1}`, `{"deleted_details":1}`, `{"offset":"a"}`, `{"subjects_filter":1}`},
	"STREAM.PURGE":                  {`{"filter":"a","seq":1,"keep":1}`, `{"filter":1}`, `{"keep":-1}`},
	"STREAM.MSG.GET":                {`{"seq":1,"x":1}`, `{"seq":"1"}`, `{"batch":1,"max_bytes":2,"multi_last":["a"],"up_to_seq":1,"no_hdr":true}`, `{"start_time":"2020-01-01T00:00:00Z","up_to_time":"2020-01-01T00:00:00Z"}`, `{"start_time":"bad"}`, `{"seq":-1}`},
	"STREAM.MSG.DELETE":             {`{"seq":1,"no_erase":true}`, `{"seq":1,"x":1}`, `{"seq":true}`},
	"STREAM.NAMES":                  {`{"offset":1,"subject":"a"}`, `{"offset":"a"}`},
	"STREAM.LIST":                   {`{"offset":1,"subject":"a"}`, `{"offset":"a"}`},
	"CONSUMER.NAMES, CONSUMER.LIST": {`{"offset":"1"}`, `{"offset":1}`, `{"offset":1,"subject":"a"}`},
}

// TestStrictDecodeAsServer decodes bodies as the fake does and as nats-server's strict mode
// does, into the server's own types, and wants the same outcome: no error, or the same text.
func TestStrictDecodeAsServer(t *testing.T) {
	for _, p := range strictPairs {
		for _, body := range slices.Concat(strictCommon, strictBodies[p.what]) {
			want := serverDecode([]byte(body), reflect.New(p.server).Interface())
			got := decodeStrict([]byte(body), reflect.New(p.fake).Interface())
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %q:\n fake:   %v\n server: %v", p.what, body, got, want)
			}
		}
	}
}

// TestConsumerAckPolicyDefault: a consumer config that leaves out ack_policy acks none, as
// nats-server's zero AckPolicy means, through every value of a body.
func TestConsumerAckPolicyDefault(t *testing.T) {
	for _, body := range []string{
		`{"config":{}}`, `{"config":{"ack_policy":"all"}}`, `{"config":{"ack_policy":"all"}} {"config":{}}`,
		`{"config":{"ack_policy":"all"}} {"stream_name":"S"} {"config":{}}`,
		`{"config":{"ack_policy":"all"}} {"config":null} {"config":{}}`, `{"CONFIG":{"Ack_Policy":"explicit"}}`,
	} {
		var want server.CreateConsumerRequest
		if err := serverDecode([]byte(body), &want); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		var got createConsumerRequest
		if err := decodeStrict([]byte(body), &got); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		w, _ := json.Marshal(want.Config.AckPolicy)
		g, _ := json.Marshal(got.Config.AckPolicy)
		if string(w) != string(g) {
			t.Errorf("%q: ack policy %s, server %s", body, g, w)
		}
	}
}

// FuzzStrictDecodeAsServer: whatever the body, the fake's strict decoding of each request
// fails as nats-server's does, with the same words, or succeeds as it does.
func FuzzStrictDecodeAsServer(f *testing.F) {
	for _, p := range strictPairs {
		for i, body := range slices.Concat(strictCommon, strictBodies[p.what]) {
			f.Add(uint8(i), []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		p := strictPairs[int(which)%len(strictPairs)]
		want := serverDecode(body, reflect.New(p.server).Interface())
		got := decodeStrict(body, reflect.New(p.fake).Interface())
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %q:\n fake:   %v\n server: %v", p.what, body, got, want)
		}
	})
}

// TestOwnTypesAsServer: each enumeration nats.go's types decode themselves takes a value as
// nats-server's type for the field does: the same refusals in the same words, and the same
// meaning for what both take.
func TestOwnTypesAsServer(t *testing.T) {
	servers := map[reflect.Type]reflect.Type{
		reflect.TypeFor[jetstream.RetentionPolicy](): reflect.TypeFor[server.RetentionPolicy](),
		reflect.TypeFor[jetstream.DiscardPolicy]():   reflect.TypeFor[server.DiscardPolicy](),
		reflect.TypeFor[jetstream.StorageType]():     reflect.TypeFor[server.StorageType](),
		reflect.TypeFor[jetstream.PersistModeType](): reflect.TypeFor[server.PersistModeType](),
		reflect.TypeFor[jetstream.DeliverPolicy]():   reflect.TypeFor[server.DeliverPolicy](),
		reflect.TypeFor[jetstream.AckPolicy]():       reflect.TypeFor[server.AckPolicy](),
		reflect.TypeFor[jetstream.ReplayPolicy]():    reflect.TypeFor[server.ReplayPolicy](),
		reflect.TypeFor[jetstream.PriorityPolicy]():  reflect.TypeFor[server.PriorityPolicy](),
	}
	values := []string{`""`, `null`, `0`, `1`, `{}`, `[]`, `true`, `"x"`, `"Limits"`, `"ALL"`, `"limits"`, `"interest"`,
		`"workqueue"`, `"old"`, `"new"`, `"file"`, `"memory"`, `"default"`, `"async"`, `"all"`, `"last"`,
		`"by_start_sequence"`, `"by_start_time"`, `"last_per_subject"`, `"none"`, `"explicit"`, `"instant"`,
		`"original"`, `"overflow"`, `"pinned_client"`, `"prioritized"`}
	for fake, srv := range servers {
		if _, ok := ownTypes[fake]; !ok {
			t.Errorf("%v is not in ownTypes", fake)
		}
		for _, v := range values {
			sv := reflect.New(srv)
			want := json.Unmarshal([]byte(v), sv.Interface())
			with, got := serverValue(fake, []byte(v))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%v %s: fake %v, server %v", fake, v, got, want)
				continue
			}
			if got != nil {
				continue
			}
			fv := reflect.New(fake)
			if err := json.Unmarshal(with, fv.Interface()); err != nil {
				t.Errorf("%v %s: read as %s: %v", fake, v, with, err)
				continue
			}
			fj, _ := json.Marshal(fv.Interface())
			sj, _ := json.Marshal(sv.Interface())
			// nats.go writes no priority policy as "", the server as "none".
			noPolicy := fake == reflect.TypeFor[jetstream.PriorityPolicy]() && string(fj) == `""` && string(sj) == `"none"`
			if string(fj) != string(sj) && !noPolicy {
				t.Errorf("%v %s: the fake reads %s, the server %s", fake, v, fj, sj)
			}
		}
	}
}

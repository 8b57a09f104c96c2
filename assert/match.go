package assert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
)

// maxPayload is how many bytes of a payload a report shows.
const maxPayload = 200

type wantKind int

const (
	wantAny wantKind = iota
	wantBytes
	wantString
	wantJSON
)

// matcher decides whether a message carries the wanted payload and headers.
type matcher struct {
	want    any
	kind    wantKind
	cmpOpts []cmp.Option
	headers []header
}

func newMatcher(want any, o options) *matcher {
	m := &matcher{want: want, cmpOpts: o.cmpOpts, headers: o.headers}
	switch want.(type) {
	case nil:
		m.kind = wantAny
	case []byte:
		m.kind = wantBytes
	case string:
		m.kind = wantString
	default:
		m.kind = wantJSON
	}
	return m
}

// compareCheck reports an error if go-cmp cannot compare want with itself under the options,
// for example a struct with unexported fields and no cmp option for them.
func (m *matcher) compareCheck() (err error) {
	if m.kind != wantJSON {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot compare %T values: %v", m.want, r)
		}
	}()
	cmp.Equal(m.want, m.want, m.cmpOpts...)
	return nil
}

// verdict is how one message compared with what was wanted.
type verdict struct {
	msg      *nats.Msg
	index    int      // position among the recorded or read messages, from 0
	diff     string   // (-want +got) payload diff; empty if the payload matched
	problem  string   // why the payload could not be compared, if it could not
	badHeads []string // the required headers the message lacks
	score    int      // lower is closer to want
}

func (v verdict) ok() bool { return v.diff == "" && v.problem == "" && len(v.badHeads) == 0 }

func (m *matcher) check(msg *nats.Msg, index int) (v verdict) {
	v = verdict{msg: msg, index: index}
	for _, h := range m.headers {
		if got := msg.Header[h.key]; !slices.Contains(got, h.value) {
			if got == nil {
				v.badHeads = append(v.badHeads, fmt.Sprintf("header %q: want %q, missing", h.key, h.value))
			} else {
				v.badHeads = append(v.badHeads, fmt.Sprintf("header %q: want %q, got %q", h.key, h.value, got))
			}
		}
	}
	v.score = len(v.badHeads)
	defer func() {
		if r := recover(); r != nil {
			v.diff, v.problem, v.score = "", fmt.Sprintf("cannot compare: %v", r), 1<<30
		}
	}()
	switch m.kind {
	case wantAny:
	case wantBytes:
		want, got := m.want.([]byte), msg.Data
		if len(want) == 0 && len(got) == 0 {
			break
		}
		if len(m.cmpOpts) == 0 && bytes.Equal(want, got) {
			break
		}
		v.diff = cmp.Diff(want, got, m.cmpOpts...)
	case wantString:
		v.diff = cmp.Diff(m.want.(string), string(msg.Data), m.cmpOpts...)
	case wantJSON:
		ptr := reflect.New(reflect.TypeOf(m.want))
		if err := json.Unmarshal(msg.Data, ptr.Interface()); err != nil {
			v.problem = fmt.Sprintf("payload does not decode as %T: %v; payload %s", m.want, err, payload(msg.Data))
			v.score = 1 << 30
			return v
		}
		v.diff = cmp.Diff(m.want, ptr.Elem().Interface(), m.cmpOpts...)
	}
	v.score += changedLines(v.diff)
	return v
}

// changedLines counts the lines of a cmp diff that differ.
func changedLines(diff string) int {
	n := 0
	for line := range strings.Lines(diff) {
		if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
			n++
		}
	}
	return n
}

// describe says what a helper waits for: the payload and the required headers.
func (m *matcher) describe() string {
	var b strings.Builder
	switch m.kind {
	case wantAny:
		b.WriteString("any payload")
	case wantBytes:
		b.WriteString("[]byte " + payload(m.want.([]byte)))
	case wantString:
		b.WriteString(payload([]byte(m.want.(string))))
	default:
		b.WriteString(truncate(fmt.Sprintf("%T %+v", m.want, m.want)))
	}
	for _, h := range m.headers {
		fmt.Fprintf(&b, ", header %q: %q", h.key, h.value)
	}
	return b.String()
}

// closest writes up to n verdicts, closest to want first, each with its diff or problems.
func closest(b *strings.Builder, vs []verdict, n int, what string) {
	sorted := slices.Clone(vs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].score < sorted[j].score })
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	for _, v := range sorted {
		fmt.Fprintf(b, "\n\t%s %d, %s:", what, v.index+1, v.msg.Subject)
		if v.problem != "" {
			fmt.Fprintf(b, "\n\t\t%s", v.problem)
		}
		if v.diff != "" {
			b.WriteString(" payload (-want +got):\n")
			b.WriteString(indent(clip(strings.TrimRight(v.diff, "\n")), "\t\t"))
		}
		if v.problem == "" && v.diff == "" {
			b.WriteString(" payload equal")
		}
		for _, h := range v.badHeads {
			fmt.Fprintf(b, "\n\t\t%s", h)
		}
	}
	if len(vs) > n {
		fmt.Fprintf(b, "\n\t... and %d more", len(vs)-n)
	}
}

// maxDiffLines is how many lines of one diff a report shows.
const maxDiffLines = 40

// clip cuts a diff to maxDiffLines lines.
func clip(diff string) string {
	n := 0
	for i := range len(diff) {
		if diff[i] != '\n' {
			continue
		}
		if n++; n == maxDiffLines {
			return fmt.Sprintf("%s\n... (%d more lines)", diff[:i], strings.Count(diff[i+1:], "\n")+1)
		}
	}
	return diff
}

func indent(s, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString(prefix + line)
	}
	return b.String()
}

// payload quotes data, cut to maxPayload bytes.
func payload(data []byte) string {
	if len(data) <= maxPayload {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%q... (%d bytes)", data[:maxPayload], len(data))
}

// truncate cuts s to about maxPayload bytes.
func truncate(s string) string {
	if len(s) <= maxPayload {
		return s
	}
	return s[:maxPayload] + "..."
}

// message renders one message for a report: subject, reply, headers and payload.
func message(m *nats.Msg) string {
	var b strings.Builder
	b.WriteString(m.Subject)
	if m.Reply != "" {
		fmt.Fprintf(&b, " reply %s", m.Reply)
	}
	if len(m.Header) > 0 {
		keys := make([]string, 0, len(m.Header))
		for k := range m.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" header {")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: %q", k, m.Header[k])
		}
		b.WriteString("}")
	}
	b.WriteString(" payload " + payload(m.Data))
	return b.String()
}

// maxSubjects is how many distinct subjects a report lists.
const maxSubjects = 10

// subjects summarizes the subjects of msgs, in order of first arrival, with counts.
func subjects(msgs []*nats.Msg) string {
	if len(msgs) == 0 {
		return "nothing"
	}
	var order []string
	count := map[string]int{}
	for _, m := range msgs {
		if count[m.Subject] == 0 {
			order = append(order, m.Subject)
		}
		count[m.Subject]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s on %d %s:", len(msgs), plural(len(msgs), "message"), len(order), plural(len(order), "subject"))
	for i, s := range order {
		if i == maxSubjects {
			fmt.Fprintf(&b, " ... and %d more %s", len(order)-i, plural(len(order)-i, "subject"))
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s ×%d", s, count[s])
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

package fake

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// The consumer index finds, for a subject, exactly the consumers whose filters take it, through
// consumers made, changed and deleted: the index against each consumer's own matches.
func TestConsumerIndexMatchesAsFilters(t *testing.T) {
	s := Run(t, WithoutListener())
	js := jsOn(t, s)
	st, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"a.>", "b.>"}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	toks := []string{"a", "b", "c", "*"}
	filter := func() []string {
		switch rng.IntN(5) {
		case 0:
			return nil
		case 1:
			return []string{"a.>", "b.c"}
		}
		parts := []string{[]string{"a", "b"}[rng.IntN(2)]}
		for range 1 + rng.IntN(2) {
			parts = append(parts, toks[rng.IntN(len(toks))])
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, ">")
		}
		return []string{strings.Join(parts, ".")}
	}
	published := func() string {
		parts := []string{[]string{"a", "b"}[rng.IntN(2)]}
		for range 1 + rng.IntN(3) {
			parts = append(parts, []string{"a", "b", "c", "d"}[rng.IntN(4)])
		}
		return strings.Join(parts, ".")
	}
	live := map[string]bool{}
	for round := range 300 {
		name := fmt.Sprintf("c%d", rng.IntN(40))
		if live[name] && rng.IntN(3) == 0 {
			if err := st.DeleteConsumer(ctxT(t), name); err != nil {
				t.Fatal(err)
			}
			delete(live, name)
		} else {
			if _, err := st.CreateOrUpdateConsumer(ctxT(t), jetstream.ConsumerConfig{Durable: name, FilterSubjects: filter()}); err != nil {
				continue // an update that changes what it may not is refused
			}
			live[name] = true
		}
		j := s.js
		j.lock()
		stream := j.streams["S"]
		for range 5 {
			subj := published()
			var want, got []string
			for _, c := range stream.consumers {
				if c.matches(subj) {
					want = append(want, c.name)
				}
			}
			hits := stream.consumersFor(subj)
			for _, c := range hits {
				got = append(got, c.name)
			}
			stream.doneWithConsumers(hits)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				j.unlock()
				t.Fatalf("round %d: %s is taken by %v, want %v", round, subj, got, want)
			}
		}
		j.unlock()
	}
}

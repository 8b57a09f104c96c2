package mesh_test

import (
	"slices"
	"testing"

	"github.com/natskit/natskit/internal/mesh"
)

// routes is n pooled routes to each peer and one for each pinned account.
func routes(pool int, pinned []string, peers ...string) []mesh.Route {
	var out []mesh.Route
	for _, p := range peers {
		for range pool {
			out = append(out, mesh.Route{RemoteName: p})
		}
		for _, a := range pinned {
			out = append(out, mesh.Route{RemoteName: p, Account: a})
		}
	}
	return out
}

func TestMissing(t *testing.T) {
	sys := []string{"$SYS"}
	peers := []string{"n1", "n2", "n3"}
	full := routes(3, sys, "n2", "n3")
	for _, tc := range []struct {
		name   string
		routes []mesh.Route
		pool   int
		pinned []string
		want   string
	}{
		{"full mesh", full, 3, sys, ""},
		{"no pooling", routes(1, nil, "n2", "n3"), -1, nil, ""},
		{"pool of one", routes(1, nil, "n2", "n3"), 0, nil, ""},
		{"more than the pool (a duplicate still closing)", append(routes(3, sys, "n2", "n3"), mesh.Route{RemoteName: "n2"}), 3, sys, ""},
		{"a pooled route short", full[1:], 3, sys, "node n1 has 2 of 3 pooled routes to n2"},
		{"no route to a peer", routes(3, sys, "n2"), 3, sys, "node n1 has 0 of 3 pooled routes to n3, no route for account $SYS to n3"},
		{"no pinned route", routes(3, nil, "n2", "n3"), 3, sys, "node n1 has no route for account $SYS to n2, no route for account $SYS to n3"},
		{"a pinned route counts for its account only", append(routes(2, sys, "n2"), routes(3, sys, "n3")...), 3, sys, "node n1 has 2 of 3 pooled routes to n2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mesh.Missing("n1", tc.routes, peers, tc.pool, tc.pinned)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Missing = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPinned(t *testing.T) {
	got := mesh.Pinned(routes(3, []string{"$SYS"}, "n2"), routes(3, []string{"ORDERS", "$SYS"}, "n1"), nil)
	if want := []string{"$SYS", "ORDERS"}; !slices.Equal(got, want) {
		t.Errorf("Pinned = %q, want %q", got, want)
	}
}

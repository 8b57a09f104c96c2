// Package mesh says whether the nodes of a nats-server cluster have every route they need between
// them. Routes are one hop: a message that one node sends for an account reaches another node
// only over the route that carries that account between the two. Since nats-server 2.10, a pair
// of nodes is joined by a pool of route connections (the cluster's pool_size, 3 by default;
// accounts are spread over the pool by a hash) and by one dedicated route for each pinned account
// (the system account among them, unless pooling is off). While a new cluster forms, duplicate
// routes are closed and solicited again: a node can list a route to every peer and still lack the
// one that carries an account's traffic, so a reply sent across it is lost.
package mesh

import (
	"fmt"
	"slices"
	"strings"
)

// A Route is one route connection, as nats-server's /routez lists it.
type Route struct {
	RemoteName string `json:"remote_name"`
	Account    string `json:"account,omitempty"` // set on a pinned account's dedicated route
}

// Pinned is the accounts that have a dedicated route in any of the lists, sorted.
func Pinned(lists ...[]Route) []string {
	var out []string
	for _, routes := range lists {
		for _, r := range routes {
			if r.Account != "" && !slices.Contains(out, r.Account) {
				out = append(out, r.Account)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Missing returns nil if node self, with the given routes, is joined to every peer by pool
// pooled routes (pool is the cluster's pool_size; below 1, pooling is off and one route is
// enough) and by a dedicated route for each account in pinned; otherwise it says what is
// missing. A peer equal to self is passed over.
func Missing(self string, routes []Route, peers []string, pool int, pinned []string) error {
	pool = max(pool, 1)
	var missing []string
	for _, peer := range peers {
		if peer == self {
			continue
		}
		pooled := 0
		for _, r := range routes {
			if r.RemoteName == peer && r.Account == "" {
				pooled++
			}
		}
		if pooled < pool {
			missing = append(missing, fmt.Sprintf("%d of %d pooled routes to %s", pooled, pool, peer))
		}
		for _, acc := range pinned {
			if !slices.ContainsFunc(routes, func(r Route) bool { return r.RemoteName == peer && r.Account == acc }) {
				missing = append(missing, fmt.Sprintf("no route for account %s to %s", acc, peer))
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("node %s has %s", self, strings.Join(missing, ", "))
}

// Package monitor reads nats-server's HTTP monitoring endpoints (/varz, /routez, /jsz, ...).
package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Get decodes the JSON that a server's monitoring endpoint answers into v: base is the
// server's monitoring URL (http://host:port), path the endpoint with its query.
func Get(ctx context.Context, hc *http.Client, base, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	endpoint, _, _ := strings.Cut(path, "?")
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("monitoring %s: %s", endpoint, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("monitoring %s: %w", endpoint, err)
	}
	return nil
}

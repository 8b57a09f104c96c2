package monitor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/internal/monitor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/varz":
			if r.URL.Query().Get("x") != "1" {
				http.Error(w, "no query", http.StatusBadRequest)
				return
			}
			w.Write([]byte(`{"cluster":{"pool_size":3}}`))
		case "/broken":
			w.Write([]byte(`{"cluster":`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	ctx := context.Background()

	var vz struct {
		Cluster struct {
			PoolSize int `json:"pool_size"`
		} `json:"cluster"`
	}
	if err := monitor.Get(ctx, hc, srv.URL, "/varz?x=1", &vz); err != nil || vz.Cluster.PoolSize != 3 {
		t.Errorf("Get /varz = %v, pool size %d; want nil and 3", err, vz.Cluster.PoolSize)
	}
	for path, want := range map[string]string{
		"/nothere":  "monitoring /nothere: 404 Not Found",
		"/varz?y=2": "monitoring /varz: 400 Bad Request",
		"/broken":   "monitoring /broken: unexpected EOF",
	} {
		var v any
		err := monitor.Get(ctx, hc, srv.URL, path, &v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Get %s = %v, want an error saying %q", path, err, want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var v any
	if err := monitor.Get(cctx, hc, srv.URL, "/varz?x=1", &v); err == nil {
		t.Error("Get with a canceled context: no error")
	}
}

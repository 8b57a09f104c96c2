package containers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// A container whose owning process has gone is removed by the next process that starts one; a
// container of a live process is left alone.
func TestRemoveOrphans(t *testing.T) {
	SkipIfUnavailable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cli, err := dockerClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	img, err := resolveImage(ctx, cli, newOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	start := func(ownerValue string) *Server {
		o := newOptions([]Option{WithJetStream(false)})
		o.labels = map[string]string{LabelOwner: ownerValue}
		s, err := run(ctx, img, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Terminate(context.Background()) })
		return s
	}
	orphan := start(fmt.Sprintf("%s/%d", host, gone.Process.Pid))
	elsewhere := start(fmt.Sprintf("another-%s/%d", host, gone.Process.Pid))
	mine := start(owner())

	orphansOnce = sync.Once{}
	removeOrphans(ctx, cli)

	exists := func(s *Server) bool {
		_, err := cli.ContainerInspect(ctx, s.ContainerID(), client.ContainerInspectOptions{})
		return err == nil
	}
	if exists(orphan) {
		t.Error("the container of a process that has gone is still there")
	}
	if !exists(elsewhere) || !exists(mine) {
		t.Errorf("a container of another host (%v) or of this process (%v) was removed", exists(elsewhere), exists(mine))
	}
}

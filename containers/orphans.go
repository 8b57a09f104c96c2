package containers

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/client"
)

// LabelOwner is the label naming the process that started a container or network: the host's
// name and the process ID, "host/pid".
const LabelOwner = Label + ".owner"

// owner is this process's LabelOwner value.
var owner = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
})

// ownerLabels are the labels every container and network natskit starts carries.
func ownerLabels(kind string) map[string]string {
	return map[string]string{Label: kind, LabelOwner: owner()}
}

var orphansOnce sync.Once

// removeOrphans removes, once per process, the containers and networks that a process of this
// host started and that outlived it: one killed, or one whose test panicked while Envs shared
// containers. A process on another host, or one still running, keeps its own.
func removeOrphans(ctx context.Context, cli *client.Client) {
	orphansOnce.Do(func() {
		host, _ := os.Hostname()
		orphaned := func(labels map[string]string) bool {
			h, p, ok := strings.Cut(labels[LabelOwner], "/")
			pid, err := strconv.Atoi(p)
			return ok && err == nil && h == host && pid != os.Getpid() && !processAlive(pid)
		}
		filters := client.Filters{}.Add("label", LabelOwner)
		cl, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
		if err != nil {
			return
		}
		for _, c := range cl.Items {
			if orphaned(c.Labels) {
				cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
		nl, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
		if err != nil {
			return
		}
		for _, n := range nl.Items {
			if orphaned(n.Labels) {
				cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
			}
		}
	})
}

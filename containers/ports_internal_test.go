package containers

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/natskit/natskit/internal/freeport"
)

// A host port that another process takes between run's choice and Docker's bind is chosen again.
func TestRunChoosesPortsAgainWhenOneIsTaken(t *testing.T) {
	SkipIfUnavailable(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	picks := 0
	pickPorts = func(n int) ([]int, error) {
		picks++
		ports, err := freeport.Loopback(n)
		if picks == 1 && err == nil {
			ports[0] = takenPort
		}
		return ports, err
	}
	defer func() { pickPorts = freeport.Loopback }()

	s := RunT(t, WithJetStream(false))
	if picks != 2 {
		t.Errorf("ports chosen %d times, want 2 (the first choice held a taken port)", picks)
	}
	if strings.HasSuffix(s.ClientURL(), ":"+strconv.Itoa(takenPort)) {
		t.Errorf("client URL %s is on the port another process holds", s.ClientURL())
	}
	if err := ping(context.Background(), s.ClientURL(), nil); err != nil {
		t.Error(err)
	}
}

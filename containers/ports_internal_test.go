package containers

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// A host port that another process takes between run's choice and Docker's bind is chosen again.
func TestRunChoosesPortsAgainWhenOneIsTaken(t *testing.T) {
	SkipIfUnavailable(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	picks := 0
	pickPorts = func(n int) ([]string, error) {
		picks++
		ports, err := freePorts(n)
		if picks == 1 && err == nil {
			ports[0] = takenPort
		}
		return ports, err
	}
	defer func() { pickPorts = freePorts }()

	s := RunT(t, WithJetStream(false))
	if picks != 2 {
		t.Errorf("ports chosen %d times, want 2 (the first choice held a taken port)", picks)
	}
	if strings.HasSuffix(s.ClientURL(), ":"+takenPort) {
		t.Errorf("client URL %s is on the port another process holds", s.ClientURL())
	}
	if err := ping(context.Background(), s.ClientURL(), nil); err != nil {
		t.Error(err)
	}
}

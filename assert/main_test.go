package assert_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/natskit/natskit/natstest"
)

// Envs on the container backend (NATSTEST_BACKEND=container) share containers.
func TestMain(m *testing.M) { goleak.VerifyTestMain(natstest.ReuseContainers(m)) }

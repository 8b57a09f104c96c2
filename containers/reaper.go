package containers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// ryukImage is the image of testcontainers' reaper (Ryuk) in testcontainers-go v0.45.0.
const ryukImage = "testcontainers/ryuk:0.14.0"

// EnvRyukDisabled is testcontainers' switch for its reaper.
const EnvRyukDisabled = "TESTCONTAINERS_RYUK_DISABLED"

var reaperOnce sync.Once

// settleReaper turns testcontainers' reaper off when its image is neither here nor pullable
// (behind a firewall, with no registry), unless the user has configured the reaper either way.
// natskit removes its containers and networks itself; the reaper is only a safety net for a test
// process that is killed, and it cannot run without its image. It must run before testcontainers
// reads its configuration, which it does once per process.
func settleReaper() {
	reaperOnce.Do(func() {
		if _, set := os.LookupEnv(EnvRyukDisabled); set || reaperConfigured() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), pullTimeout)
		defer cancel()
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return
		}
		defer cli.Close()
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = cli.Ping(pctx, client.PingOptions{})
		pcancel()
		if err != nil || imageExists(ctx, cli, ryukImage) {
			return
		}
		if pullImage(ctx, cli, ryukImage) != nil {
			os.Setenv(EnvRyukDisabled, "true")
		}
	})
}

// reaperConfigured reports whether the testcontainers properties file or environment say
// anything about the reaper (its switch, its image's registry prefix).
func reaperConfigured() bool {
	if os.Getenv("TESTCONTAINERS_HUB_IMAGE_NAME_PREFIX") != "" {
		return true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(home, ".testcontainers.properties"))
	return err == nil && (strings.Contains(string(b), "ryuk.disabled") || strings.Contains(string(b), "hub.image.name.prefix"))
}

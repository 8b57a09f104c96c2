package containers

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// EnvImage is the environment variable that overrides the image: a reference ("nats:2.15.2",
// "registry.example.com/nats:2.15.2"), or "local" for the image natskit builds from the
// nats-server module pinned in go.mod.
const EnvImage = "NATSTEST_NATS_IMAGE"

// LocalImageRepo is the repository of the image natskit builds locally.
const LocalImageRepo = "natskit/nats-server"

// fallbackVersion is the nats-server version natskit is tested with, used when the build
// information of the running binary does not name one.
const fallbackVersion = "2.15.2"

// pullTimeout bounds a pull: with no registry reachable it must fail fast.
const pullTimeout = 20 * time.Second

// ServerVersion is the nats-server version the default image runs: the one the running
// binary was built with (from go.mod), else the version natskit is tested with.
func ServerVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/nats-io/nats-server/v2" {
				if d.Replace != nil && d.Replace.Version != "" {
					return strings.TrimPrefix(d.Replace.Version, "v")
				}
				if d.Version != "" && d.Version != "(devel)" {
					return strings.TrimPrefix(d.Version, "v")
				}
			}
		}
	}
	return fallbackVersion
}

// DefaultImage is the official image of ServerVersion: nats:<version>.
func DefaultImage() string { return "nats:" + ServerVersion() }

// LocalImage is the tag of the image natskit builds locally: natskit/nats-server:<version>.
func LocalImage() string { return LocalImageRepo + ":" + ServerVersion() }

var (
	buildMu    sync.Mutex // one local build at a time in this process
	pullFailed sync.Map   // image reference -> the error its pull failed with, in this process
)

// resolveImage returns an image present in the Docker engine for the options: the one asked
// for, pulled if need be; the default one, or else the locally built one.
func resolveImage(ctx context.Context, cli *client.Client, o *options) (string, error) {
	ref, explicit := o.image, o.image != ""
	if !explicit {
		if v := strings.TrimSpace(os.Getenv(EnvImage)); v != "" {
			ref, explicit = v, true
		}
	}
	if o.localImage || ref == "local" {
		return ensureLocalImage(ctx, cli)
	}
	if ref == "" {
		ref = DefaultImage()
	}
	if imageExists(ctx, cli, ref) {
		return ref, nil
	}
	var pullErr error
	if prev, ok := pullFailed.Load(ref); ok {
		pullErr = prev.(error) // tried once in this process: no registry, or no such image
	} else if pullErr = pullImage(ctx, cli, ref); pullErr != nil {
		pullFailed.Store(ref, pullErr)
	}
	if pullErr == nil {
		return ref, nil
	}
	if explicit {
		return "", fmt.Errorf("image %s is not present and cannot be pulled: %w (set %s=local to build one from the nats-server module)", ref, pullErr, EnvImage)
	}
	img, err := ensureLocalImage(ctx, cli)
	if err != nil {
		return "", fmt.Errorf("image %s cannot be pulled (%v), and building %s failed: %w", ref, pullErr, LocalImage(), err)
	}
	return img, nil
}

func imageExists(ctx context.Context, cli *client.Client, ref string) bool {
	_, err := cli.ImageInspect(ctx, ref)
	return err == nil
}

// pullImage pulls ref, giving up after pullTimeout.
func pullImage(ctx context.Context, cli *client.Client, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	resp, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return err
	}
	if !imageExists(ctx, cli, ref) {
		return errors.New("not present after pull")
	}
	return nil
}

// ensureLocalImage returns LocalImage, building it first if the engine does not have it. The
// build is guarded by a mutex in the process and a file lock between processes (test binaries
// of several packages run in parallel); whoever gets the lock second finds the image built.
func ensureLocalImage(ctx context.Context, cli *client.Client) (string, error) {
	tag := LocalImage()
	if imageExists(ctx, cli, tag) {
		return tag, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	unlock, err := lockFile(filepath.Join(os.TempDir(), "natskit-nats-server-image.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if imageExists(ctx, cli, tag) {
		return tag, nil
	}
	if err := buildLocalImage(ctx, cli, tag); err != nil {
		return "", err
	}
	return tag, nil
}

// buildLocalImage compiles nats-server from the module (the version go.mod pins) and builds a
// FROM scratch image of it tagged tag.
func buildLocalImage(ctx context.Context, cli *client.Client, tag string) error {
	dir, err := os.MkdirTemp("", "natskit-nats-server-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "nats-server")
	if err := goBuildServer(ctx, bin); err != nil {
		return err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	dockerfile := "FROM scratch\nCOPY nats-server /nats-server\nEXPOSE 4222 6222 8222\nENTRYPOINT [\"/nats-server\"]\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"nats-server", 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Now()}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{Label: "image", "org.opencontainers.image.version": ServerVersion()},
	})
	if err != nil {
		return fmt.Errorf("docker build %s: %w", tag, err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("docker build %s: %w", tag, err)
		}
		if m.Error != "" {
			return fmt.Errorf("docker build %s: %s", tag, m.Error)
		}
	}
	if !imageExists(ctx, cli, tag) {
		return fmt.Errorf("docker build %s: no image after the build", tag)
	}
	return nil
}

// goBuildServer compiles nats-server into bin for Linux. It builds in the module of the running
// test (go env GOMOD), so that the version go.mod pins is the one built; if that module does not
// require nats-server, in a temporary module that requires ServerVersion.
func goBuildServer(ctx context.Context, bin string) error {
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=-mod=mod")
	run := func(dir string, args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	build := []string{"build", "-trimpath", "-o", bin, "github.com/nats-io/nats-server/v2"}
	if gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output(); err == nil {
		if p := strings.TrimSpace(string(gomod)); p != "" && p != os.DevNull {
			if err := run(filepath.Dir(p), build...); err == nil {
				return nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "natskit-nats-server-mod-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := run(tmp, "mod", "init", "natskit.local/natsserver"); err != nil {
		return err
	}
	if err := run(tmp, "get", "github.com/nats-io/nats-server/v2@v"+ServerVersion()); err != nil {
		return err
	}
	return run(tmp, build...)
}

// dockerClient is a client of the Docker engine testcontainers uses (DOCKER_HOST, the
// testcontainers configuration, the default socket).
func dockerClient(ctx context.Context) (*client.Client, error) {
	settleReaper()
	c, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	return c.Client, nil
}

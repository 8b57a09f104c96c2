package natstest

import (
	"os"
	"syscall"
)

const tmpfsMagic = 0x01021994

// memoryDir makes a directory on /dev/shm when that is a memory file system with at least 1 GiB
// free, and returns "" otherwise.
func memoryDir() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic || uint64(st.Bavail)*uint64(st.Bsize) < 1<<30 {
		return ""
	}
	dir, err := os.MkdirTemp("/dev/shm", "natstest-")
	if err != nil {
		return ""
	}
	return dir
}

//go:build !linux

package natstest

// memoryDir returns "": only Linux's /dev/shm is used for memory-backed stores.
func memoryDir() string { return "" }

// Package scenarios holds realistic application tests written with natstest and assert only: a
// worker pool on a queue group, an order pipeline over a work-queue stream with a poison
// message, a config service driven by a Key-Value watch, a file store on the Object Store. Each
// runs on every backend through natstest.Each, and a deliberately broken variant of each shows
// the failure a user would read. The applications are in the test files, next to their tests.
package scenarios

// Package testfs provides file systems for tests: a small tmpfs that
// fills up, for the paths that must stay loud when a disk is full. Only
// tests import it.
package testfs

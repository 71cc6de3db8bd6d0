//go:build !race

package warden

const raceEnabled = false

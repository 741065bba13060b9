package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestQueueKeyUsesPrefix(t *testing.T) {
	if got := queueKey("rdev:team:shop:"); got != "rdev:team:shop:jobs" {
		t.Fatalf("queueKey = %q", got)
	}
}

func TestDecodeJob(t *testing.T) {
	job, err := decodeJob([]byte(`{"type":"echo","payload":{"message":"hi"}}`))
	if err != nil || job.Type != "echo" {
		t.Fatalf("got %+v, %v", job, err)
	}
	for _, bad := range []string{`not json`, `{}`, `{"payload":{}}`} {
		if _, err := decodeJob([]byte(bad)); err == nil {
			t.Errorf("decodeJob(%s): no error", bad)
		}
	}
}

func TestProcess(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if err := process(context.Background(), logger, []byte(`{"type":"echo","payload":{"message":"hi"}}`)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "message=hi") {
		t.Fatalf("echo did not log its message: %s", logs.String())
	}
	if err := process(context.Background(), logger, []byte(`{"type":"nope"}`)); err == nil {
		t.Fatal("an unknown job type was accepted")
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type fakeStore struct {
	now time.Time
	err error
}

func (f fakeStore) Ping(context.Context) error             { return f.err }
func (f fakeStore) Now(context.Context) (time.Time, error) { return f.now, f.err }

func get(t *testing.T, store Store, path string) (*http.Response, map[string]any) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(newServer("test", store, logger).routes())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp, body
}

func TestHealthz(t *testing.T) {
	resp, body := get(t, nil, "/healthz")
	if resp.StatusCode != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
}

func TestStatusWithoutDatabase(t *testing.T) {
	resp, body := get(t, nil, "/api/v1/status")
	if resp.StatusCode != http.StatusOK || body["database"] != "not configured" || body["name"] != "test" {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
}

func TestStatusWithDatabase(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	resp, body := get(t, fakeStore{now: now}, "/api/v1/status")
	if resp.StatusCode != http.StatusOK || body["database"] != "ok" || body["time"] != now.Format(time.RFC3339) {
		t.Fatalf("got %d %v", resp.StatusCode, body)
	}
}

func TestDatabaseDown(t *testing.T) {
	down := fakeStore{err: errors.New("connection refused")}
	for _, path := range []string{"/readyz", "/api/v1/status"} {
		if resp, body := get(t, down, path); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s: got %d %v, want 503", path, resp.StatusCode, body)
		}
	}
}

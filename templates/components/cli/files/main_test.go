package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"version"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if got := out.String(); got != name+" dev\n" {
		t.Fatalf("version printed %q", got)
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"nope"}, &out, &errs); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errs.String(), `unknown command "nope"`) {
		t.Fatalf("stderr: %s", errs.String())
	}
}

func TestHealth(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer healthy.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer broken.Close()

	var out, errs bytes.Buffer
	if code := run([]string{"health", "-url", healthy.URL + "/"}, &out, &errs); code != 0 {
		t.Fatalf("healthy server: exit %d: %s", code, errs.String())
	}
	if code := run([]string{"health", "-url", broken.URL}, &out, &errs); code != 1 {
		t.Fatalf("broken server: exit %d, want 1", code)
	}
}

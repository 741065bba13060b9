package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

type server struct {
	name   string
	store  Store // nil without a database
	logger *slog.Logger
}

func newServer(name string, store Store, logger *slog.Logger) *server {
	return &server{name: name, store: store, logger: logger}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/v1/status", s.status)
	return mux
}

// healthz says the process is alive; it never looks at dependencies.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the API can serve: the database answers, if there is one.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			s.logger.Warn("database unreachable", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type statusResponse struct {
	Name     string     `json:"name"`
	Database string     `json:"database"`
	Time     *time.Time `json:"time,omitempty"`
}

// status reports the service and its database, with the database's clock when there is one.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	resp := statusResponse{Name: s.name, Database: "not configured"}
	if s.store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		now, err := s.store.Now(ctx)
		if err != nil {
			s.logger.Error("query database", "error", err)
			resp.Database = "unavailable"
			writeJSON(w, http.StatusServiceUnavailable, resp)
			return
		}
		resp.Database = "ok"
		resp.Time = &now
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Job is what producers enqueue: a type naming its handler, and the handler's payload.
type Job struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type handler func(ctx context.Context, logger *slog.Logger, payload json.RawMessage) error

// handlers maps job types to their handlers; add new job types here.
var handlers = map[string]handler{
	"echo": echo,
}

func decodeJob(raw []byte) (Job, error) {
	var job Job
	if err := json.Unmarshal(raw, &job); err != nil {
		return Job{}, fmt.Errorf("decode job: %w", err)
	}
	if job.Type == "" {
		return Job{}, errors.New("decode job: no type")
	}
	return job, nil
}

func process(ctx context.Context, logger *slog.Logger, raw []byte) error {
	job, err := decodeJob(raw)
	if err != nil {
		return err
	}
	h, ok := handlers[job.Type]
	if !ok {
		return fmt.Errorf("no handler for job type %q", job.Type)
	}
	if err := h(ctx, logger.With("job", job.Type), job.Payload); err != nil {
		return fmt.Errorf("job %s: %w", job.Type, err)
	}
	return nil
}

// echo logs its payload's message: an example handler.
func echo(_ context.Context, logger *slog.Logger, payload json.RawMessage) error {
	var p struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("decode payload: %w", err)
	}
	logger.Info("echo", "message", p.Message)
	return nil
}

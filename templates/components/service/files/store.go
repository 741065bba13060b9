package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is what the handlers need from the database.
type Store interface {
	Ping(ctx context.Context) error
	Now(ctx context.Context) (time.Time, error)
}

type postgresStore struct {
	pool *pgxpool.Pool
}

func (s postgresStore) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

func (s postgresStore) Now(ctx context.Context) (time.Time, error) {
	var now time.Time
	err := s.pool.QueryRow(ctx, "SELECT now()").Scan(&now)
	return now, err
}

package main

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

var errEmpty = errors.New("no job queued")

// queue is a Redis list: producers LPUSH jobs onto key, the worker BRPOPs them, and jobs that
// fail go to key + ":failed" for a person to look at.
type queue struct {
	client *redis.Client
	key    string
}

func newQueue(client *redis.Client, prefix string) queue {
	return queue{client: client, key: queueKey(prefix)}
}

func queueKey(prefix string) string {
	return prefix + "jobs"
}

// next waits up to timeout for a job; errEmpty when none came.
func (q queue) next(ctx context.Context, timeout time.Duration) ([]byte, error) {
	res, err := q.client.BRPop(ctx, timeout, q.key).Result()
	if errors.Is(err, redis.Nil) {
		return nil, errEmpty
	}
	if err != nil {
		return nil, err
	}
	return []byte(res[1]), nil
}

func (q queue) fail(ctx context.Context, raw []byte) error {
	return q.client.LPush(ctx, q.key+":failed", raw).Err()
}

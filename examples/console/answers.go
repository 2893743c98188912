package main

import (
	"log/slog"

	"github.com/appealkit/appealkit/examples/console/web"
)

// newAnswers wires the answer loop (appeal/answer) for the console.
func newAnswers(c *console, logger *slog.Logger) (*web.Answers, error) {
	return nil, nil
}

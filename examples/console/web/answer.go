package web

import (
	"context"

	"github.com/appealkit/appealkit/appeal"
)

// Answers runs the answer loop for the console (appeal/answer).
type Answers struct{}

type answerView struct{}

func (s *Server) answerRoutes() {}

func (s *Server) answerViewOf(q *req, a *appeal.Appeal) (*answerView, error) { return nil, nil }

func (an *Answers) ratings(ctx context.Context, all []appeal.Appeal, s *Server) any { return nil }

package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/examples/console/web"
	"github.com/appealkit/appealkit/source/vk"
)

//go:embed answers.yaml
var answerTemplates []byte

// policies are the choices of -approve.
var policies = map[string]answer.Policy{
	"all":   {All: true},
	"final": {Kinds: []appeal.AnswerKind{appeal.AnswerFinal}},
	"none":  {},
}

// newAnswers wires the answer loop: the workflow over the store's outbox,
// a publisher into the stand-in VK (the only network the demo publishes
// to; answers to other networks go back to the operator with the reason),
// draining every few seconds in the background, and the reaction watcher.
func newAnswers(ctx context.Context, c *console, o options, logger *slog.Logger, out io.Writer) (*web.Answers, error) {
	outbox, ok := appeal.Store(c.Store).(appeal.Outbox)
	if !ok {
		fmt.Fprintf(out, "Хранилище %T не ведёт очередь публикации (appeal.Outbox): экраны ответа отключены.\n", c.Store)
		return nil, nil
	}
	data, name := answerTemplates, "examples/console/answers.yaml"
	if o.answers != "" {
		var err error
		if data, err = os.ReadFile(o.answers); err != nil {
			return nil, fmt.Errorf("-answers: %w", err)
		}
		name = o.answers
	}
	tmpl, err := answer.ParseTemplates(bytes.NewReader(data), name, c.Engine.DefaultCalendar())
	if err != nil {
		return nil, err
	}
	policy, ok := policies[o.approve]
	if !ok {
		return nil, fmt.Errorf("-approve: %q is not all, final or none", o.approve)
	}
	wf, err := answer.New(answer.Config{Store: c.Store, Outbox: outbox, Templates: tmpl, Rules: c.Engine, Policy: policy})
	if err != nil {
		return nil, err
	}
	replier, err := vk.NewReplier(vk.API{Token: c.StandIn.Token, TokenKind: vk.GroupToken, URL: c.StandIn.URL(), Logger: logger})
	if err != nil {
		return nil, err
	}
	pub, err := answer.NewPublisher(answer.PublisherConfig{Store: c.Store, Outbox: outbox, Actor: "публикация",
		Channels: map[string]answer.Channel{string(appeal.NetworkVK): {Replier: replier, Idempotent: true}}})
	if err != nil {
		return nil, err
	}

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = pub.Run(bg, o.publishEvery)
	}()
	go func() {
		defer wg.Done()
		watchReactions(bg, c, wf, logger)
	}()
	c.closers = append(c.closers, func() { cancel(); wg.Wait() })
	return &web.Answers{Workflow: wf, Publisher: pub, Policy: policy, Outbox: outbox}, nil
}

// watchReactions reads every appeal the live pipeline stored and, when it
// is the author's next message in the thread of an answered appeal, records
// the citizen's reaction on that appeal.
func watchReactions(ctx context.Context, c *console, wf *answer.Workflow, logger *slog.Logger) {
	for {
		var id appeal.ID
		select {
		case <-ctx.Done():
			return
		case id = <-c.stored:
		}
		next, err := c.Store.Get(ctx, id)
		if err != nil {
			logger.Warn("console: reaction: read the new message", "id", id, "err", err)
			continue
		}
		prev, err := wf.FindAnswered(ctx, &next)
		if errors.Is(err, answer.ErrNoAnswered) {
			continue
		}
		if err != nil {
			logger.Warn("console: reaction: find the answered appeal", "id", id, "err", err)
			continue
		}
		if _, _, err := wf.React(ctx, prev.ID, next); err != nil {
			logger.Warn("console: reaction", "id", prev.ID, "err", err)
		}
	}
}

// storedHook hands the IDs of appeals the live pipeline stored to the
// reaction watcher without slowing the pipeline: when the watcher lags
// behind by a full buffer, the reaction is left for an operator.
func (c *console) storedHook() appealkit.Hooks {
	return appealkit.Hooks{Processed: func(r appealkit.Result) {
		if r.Status == "" {
			return
		}
		select {
		case c.stored <- r.ID:
		default:
		}
	}}
}

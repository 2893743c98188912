package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

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
// and a publisher into the stand-in VK (the only network the demo
// publishes to; answers to other networks go back to the operator with the
// reason), draining every few seconds in the background. The citizens'
// reactions are read by the live sources' sinks (see startLive).
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = pub.Run(bg, o.publishEvery)
	}()
	c.closers = append(c.closers, func() { cancel(); wg.Wait() })
	return &web.Answers{Workflow: wf, Publisher: pub, Policy: policy, Outbox: outbox}, nil
}

package appealkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Classifier fills in what classification learns about an appeal: Topics,
// Urgent, Municipality, Place. It must be safe for concurrent use. An error
// means the appeal could not be classified; the pipeline then refuses it (the
// source keeps it for redelivery).
type Classifier interface {
	ClassifyAppeal(ctx context.Context, a *appeal.Appeal) error
}

// ClassifierFunc adapts a function to Classifier.
type ClassifierFunc func(ctx context.Context, a *appeal.Appeal) error

// ClassifyAppeal calls f.
func (f ClassifierFunc) ClassifyAppeal(ctx context.Context, a *appeal.Appeal) error { return f(ctx, a) }

// Decision is what a Router decided for one appeal.
type Decision struct {
	// Assignment names the executor, the deadline and the priority. It is
	// required unless Reject is set.
	Assignment *appeal.Assignment
	// Reject marks the message as not an appeal (spam, noise, off-topic):
	// it is stored and moved to rejected instead of routed.
	Reject bool
	// Note is written to the history event, e.g. the rule that matched or
	// why the message was rejected.
	Note string
}

// Router decides who answers an appeal and by when. now is the pipeline's
// clock, so that deadlines are reproducible in tests. It must be safe for
// concurrent use.
type Router interface {
	RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (Decision, error)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(ctx context.Context, a *appeal.Appeal, now time.Time) (Decision, error)

// RouteAppeal calls f.
func (f RouterFunc) RouteAppeal(ctx context.Context, a *appeal.Appeal, now time.Time) (Decision, error) {
	return f(ctx, a, now)
}

// Input is one source the pipeline runs, with the name hooks and errors
// report it by.
type Input struct {
	Name   string
	Source source.Source
}

// Stage names a step of processing one appeal.
type Stage string

// Stages in processing order.
const (
	StageQueue    Stage = "queue"    // waiting for a worker
	StageValidate Stage = "validate" // appeal.Appeal.Normalize
	StageClassify Stage = "classify"
	StageRoute    Stage = "route"
	StageStore    Stage = "store" // Put, Get and Transition
)

// Outcome says what processing did with an appeal.
type Outcome string

// Outcomes of processing one appeal.
const (
	// OutcomeRouted: stored and moved to routed.
	OutcomeRouted Outcome = "routed"
	// OutcomeRejected: stored and moved to rejected (Decision.Reject).
	OutcomeRejected Outcome = "rejected"
	// OutcomeStored: stored as it came, not routed: there is no Router,
	// or the appeal arrived with a status other than new (an import).
	OutcomeStored Outcome = "stored"
	// OutcomeDuplicate: already stored and past routing; nothing changed.
	// Redelivery after a restart gives this.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeFailed: not accepted; Result.Err says why. The source keeps
	// the appeal for redelivery.
	OutcomeFailed Outcome = "failed"
)

// Result describes the processing of one appeal, for metrics hooks. It
// carries no personal data.
type Result struct {
	Source  string
	ID      appeal.ID
	Outcome Outcome
	// Status is the appeal's status in the store afterwards ("" when it
	// failed before being stored).
	Status appeal.Status
	// Resumed is set when the appeal was stored by an earlier, interrupted
	// delivery and this one finished its routing.
	Resumed bool
	// Err is nil unless Outcome is OutcomeFailed; it is a *StageError.
	Err error
	// Queued is how long the appeal waited for a worker: the backpressure
	// signal. The other durations are the time spent in each stage.
	Queued, Classify, Route, Store time.Duration
}

// StageError is why the pipeline refused an appeal. Sinks return it, so a
// source sees which stage failed; it unwraps to the cause.
type StageError struct {
	Stage Stage
	ID    appeal.ID // "" when the appeal had no valid ID
	Err   error
}

// Error names the stage, the appeal and the cause.
func (e *StageError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("appealkit: %s: %v", e.Stage, e.Err)
	}
	return fmt.Sprintf("appealkit: %s %s: %v", e.Stage, e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// Hooks observe the pipeline, e.g. for metrics. Every hook is optional, is
// called from the pipeline's goroutines (so must be safe for concurrent use)
// and should return quickly: a slow hook slows processing.
type Hooks struct {
	// Processed is called once per appeal handed to a sink, after its
	// processing ended, successfully or not.
	Processed func(Result)
	// SourceStopped is called when an input's Run returns, with its error
	// (nil when the input ended normally or the pipeline was stopped).
	SourceStopped func(name string, err error)
}

// Config configures a Pipeline. Store is required; everything else has a
// default.
type Config struct {
	// Store keeps the appeals. Required.
	Store appeal.Store
	// Classifier fills topics, urgency, municipality and place; nil stores
	// appeals unclassified.
	Classifier Classifier
	// Router assigns an executor and a deadline; nil leaves appeals in
	// status new, for a later routing pass or an operator.
	Router Router
	// Inputs are the sources Run runs, each in its own goroutine.
	Inputs []Input

	// Workers is how many appeals are processed at once (default 4). A
	// source whose sink call finds every worker busy and the queue full
	// waits: that is the backpressure on upstream reads. A source that
	// calls its sink from one goroutine (the shipped ones do) has one
	// appeal in flight at a time, since the sink returns only once the
	// appeal is stored; workers serve several inputs, sources that
	// document concurrent sink calls, and Sink callers.
	Workers int
	// Queue is how many appeals may wait for a worker (default Workers).
	Queue int
	// ShutdownGrace is how long appeals already being processed get to
	// finish after Run's context is cancelled (default 10s). After it
	// their store calls are cancelled, and they are reported as not
	// accepted, so the source redelivers them.
	ShutdownGrace time.Duration
	// OneWrite stores each appeal already routed (or rejected) with a
	// single Store.Put instead of Put (status new) then Transition: the
	// step is checked with appeal.Appeal.Apply and its history event is
	// written together with the appeal. That halves the writes per appeal
	// and leaves no moment where an appeal is stored but not routed; the
	// stored appeal then starts at Version 1 instead of 2. Leave it off
	// when something watches the store's Transition calls.
	OneWrite bool
	// Actor is written to history events (default "pipeline").
	Actor string
	// Now is the clock for routing and history (default time.Now).
	Now func() time.Time
	// Hooks observe processing.
	Hooks Hooks
}

// Errors from Pipeline.
var (
	// ErrStopped: a sink was called while the pipeline was not running
	// (before Run, after it returned, or while it shuts down). The appeal
	// was not accepted.
	ErrStopped = errors.New("appealkit: pipeline is not running")
	// ErrAlreadyRunning: Run was called while another Run is active.
	ErrAlreadyRunning = errors.New("appealkit: pipeline is already running")
	// ErrBadDecision: the Router returned neither an assignment nor a
	// rejection.
	ErrBadDecision = errors.New("appealkit: router decision has no assignment and no rejection")
)

// Pipeline runs sources and sends every appeal they deliver through the
// classifier and the router into the store:
//
//	classify → route → Store.Put (status new) → Store.Transition (routed or rejected)
//
// A sink call returns nil only after the appeal is stored in its final
// status, so a source's checkpoint never runs ahead of the store. Processing
// is idempotent: a redelivered appeal is recognised by its ID (Put reports
// it was already stored); if an earlier delivery was interrupted between Put
// and Transition, the redelivery finishes the routing.
//
// A Pipeline is safe for concurrent use. Create it with New.
type Pipeline struct {
	cfg Config

	mu      sync.Mutex
	running bool
	run     *runState
}

// runState is what one Run shares with its sinks and workers.
type runState struct {
	jobs chan *job
	// proc is the context of processing: it survives the cancellation of
	// Run's context for ShutdownGrace, so that in-flight appeals finish.
	proc context.Context

	mu       sync.Mutex
	stopping bool
	sinks    sync.WaitGroup // sink calls in progress
}

type job struct {
	ctx    context.Context // the source's; a job not yet started is dropped when it ends
	source string
	a      appeal.Appeal
	queued time.Time
	done   chan error
}

// New checks cfg, fills defaults and returns a Pipeline. It starts nothing:
// call Run.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Store == nil {
		return nil, errors.New("appealkit: Config.Store is required")
	}
	if cfg.Workers < 0 || cfg.Queue < 0 || cfg.ShutdownGrace < 0 {
		return nil, fmt.Errorf("appealkit: Config: Workers (%d), Queue (%d) and ShutdownGrace (%s) must not be negative",
			cfg.Workers, cfg.Queue, cfg.ShutdownGrace)
	}
	names := make(map[string]bool, len(cfg.Inputs))
	for i, in := range cfg.Inputs {
		if in.Source == nil {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d] (%q): Source is nil", i, in.Name)
		}
		if in.Name == "" {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d]: Name is empty", i)
		}
		if names[in.Name] {
			return nil, fmt.Errorf("appealkit: Config.Inputs[%d]: name %q is used twice", i, in.Name)
		}
		names[in.Name] = true
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Queue == 0 {
		cfg.Queue = cfg.Workers
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Actor == "" {
		cfg.Actor = "pipeline"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Inputs = append([]Input(nil), cfg.Inputs...)
	return &Pipeline{cfg: cfg}, nil
}

// Run starts the workers and every input, and returns when all inputs have
// returned (a finite source reached its end) or ctx is cancelled. With no
// inputs it serves Sink calls until ctx is cancelled.
//
// Shutdown is graceful: when ctx is cancelled, appeals already being
// processed get ShutdownGrace to finish; appeals still queued are refused
// (not acknowledged, so the source redelivers them). Run returns nil after
// a normal end or a cancellation, and otherwise the inputs' errors joined.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return ErrAlreadyRunning
	}
	proc, cancelProc := context.WithCancel(context.WithoutCancel(ctx))
	rs := &runState{jobs: make(chan *job, p.cfg.Queue), proc: proc}
	p.running, p.run = true, rs
	p.mu.Unlock()

	// After ctx ends, in-flight work gets the grace period.
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		select {
		case <-ctx.Done():
		case <-proc.Done():
			return
		}
		t := time.NewTimer(p.cfg.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelProc()
		case <-proc.Done():
		}
	}()

	var workers sync.WaitGroup
	quit := make(chan struct{})
	for range p.cfg.Workers {
		workers.Go(func() { p.work(rs, quit) })
	}

	errs := make([]error, len(p.cfg.Inputs))
	var inputs sync.WaitGroup
	for i, in := range p.cfg.Inputs {
		inputs.Go(func() {
			err := in.Source.Run(ctx, p.sink(rs, in.Name))
			if errors.Is(err, source.ErrEndOfInput) || (err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())) {
				err = nil
			}
			if err != nil {
				errs[i] = fmt.Errorf("appealkit: input %q: %w", in.Name, err)
			}
			if h := p.cfg.Hooks.SourceStopped; h != nil {
				h(in.Name, err)
			}
		})
	}
	if len(p.cfg.Inputs) == 0 {
		<-ctx.Done()
	}
	inputs.Wait()

	// No new sink calls; wait for those in progress (their jobs finish or
	// fail), then stop the workers.
	rs.mu.Lock()
	rs.stopping = true
	rs.mu.Unlock()
	rs.sinks.Wait()
	close(quit)
	workers.Wait()
	cancelProc()
	<-graceDone

	p.mu.Lock()
	p.running, p.run = false, nil
	p.mu.Unlock()
	return errors.Join(errs...)
}

// Sink returns a sink that feeds the running pipeline, for sources that
// push (a webhook handler) rather than being run by the pipeline. The
// sink refuses appeals with ErrStopped while the pipeline is not running;
// name labels its appeals in hooks.
func (p *Pipeline) Sink(name string) source.Sink {
	return func(ctx context.Context, a appeal.Appeal) error {
		p.mu.Lock()
		rs := p.run
		p.mu.Unlock()
		if rs == nil {
			return ErrStopped
		}
		return p.sink(rs, name)(ctx, a)
	}
}

// sink hands an appeal to a worker and waits until it is processed. It
// may be called concurrently.
func (p *Pipeline) sink(rs *runState, name string) source.Sink {
	return func(ctx context.Context, a appeal.Appeal) error {
		rs.mu.Lock()
		if rs.stopping {
			rs.mu.Unlock()
			return ErrStopped
		}
		rs.sinks.Add(1)
		rs.mu.Unlock()
		defer rs.sinks.Done()

		j := &job{ctx: ctx, source: name, a: a, queued: time.Now(), done: make(chan error, 1)}
		select {
		case rs.jobs <- j:
		case <-ctx.Done():
			err := &StageError{Stage: StageQueue, ID: a.ID, Err: ctx.Err()}
			if h := p.cfg.Hooks.Processed; h != nil {
				h(Result{Source: name, ID: a.ID, Outcome: OutcomeFailed, Err: err, Queued: time.Since(j.queued)})
			}
			return err
		}
		// Once queued, the job always answers: a worker either drops it
		// (its ctx ended before it started) or processes it under the
		// grace-bounded processing context.
		return <-j.done
	}
}

func (p *Pipeline) work(rs *runState, quit <-chan struct{}) {
	for {
		select {
		case j := <-rs.jobs:
			p.handle(rs, j)
		case <-quit:
			return
		}
	}
}

func (p *Pipeline) handle(rs *runState, j *job) {
	res := Result{Source: j.source, ID: j.a.ID, Queued: time.Since(j.queued)}
	var err error
	if cerr := j.ctx.Err(); cerr != nil {
		// Not started before the source gave up: refuse it, the source
		// redelivers it.
		err = &StageError{Stage: StageQueue, ID: j.a.ID, Err: cerr}
	} else if perr := rs.proc.Err(); perr != nil {
		err = &StageError{Stage: StageQueue, ID: j.a.ID, Err: perr}
	} else {
		err = p.process(rs.proc, &j.a, &res)
	}
	if err != nil {
		res.Outcome, res.Err = OutcomeFailed, err
	}
	if h := p.cfg.Hooks.Processed; h != nil {
		h(res)
	}
	j.done <- err
}

// maxConflicts bounds how often one appeal's routing is retried when
// another writer moved it at the same moment.
const maxConflicts = 3

// process classifies, routes and stores one appeal, filling res.
func (p *Pipeline) process(ctx context.Context, a *appeal.Appeal, res *Result) error {
	if err := a.Normalize(); err != nil {
		return &StageError{Stage: StageValidate, ID: a.ID, Err: err}
	}
	res.ID = a.ID
	now := p.cfg.Now()
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = now
	}
	fresh := a.Status == appeal.StatusNew
	if p.cfg.Classifier != nil && fresh {
		t := time.Now()
		err := p.cfg.Classifier.ClassifyAppeal(ctx, a)
		res.Classify = time.Since(t)
		if err != nil {
			return &StageError{Stage: StageClassify, ID: a.ID, Err: err}
		}
	}
	var dec Decision
	route := p.cfg.Router != nil && fresh
	if route {
		var err error
		if dec, err = p.decide(ctx, a, now, res); err != nil {
			return err
		}
	}

	t := time.Now()
	defer func() { res.Store += time.Since(t) }()
	toStore := *a
	if route && p.cfg.OneWrite {
		// Route in memory (Apply enforces the lifecycle) and store the
		// result with its history event in one write.
		toStore = a.Clone()
		if err := toStore.Apply(p.change(dec, now, 0)); err != nil {
			return &StageError{Stage: StageRoute, ID: a.ID, Err: err}
		}
	}
	created, err := p.cfg.Store.Put(ctx, toStore)
	if err != nil {
		return &StageError{Stage: StageStore, ID: a.ID, Err: err}
	}
	if created && route && p.cfg.OneWrite {
		res.Outcome, res.Status = outcomeOf(toStore.Status), toStore.Status
		return nil
	}
	if !route {
		if !created {
			res.Outcome = OutcomeDuplicate
		} else {
			res.Outcome = OutcomeStored
		}
		res.Status = a.Status
		return nil
	}
	version := int64(1)
	if !created {
		// Stored before: finish its routing if an earlier delivery was
		// interrupted, otherwise leave it alone.
		stored, err := p.cfg.Store.Get(ctx, a.ID)
		if err != nil {
			return &StageError{Stage: StageStore, ID: a.ID, Err: err}
		}
		if stored.Status != appeal.StatusNew {
			res.Outcome, res.Status = OutcomeDuplicate, stored.Status
			return nil
		}
		res.Resumed = true
		version = stored.Version
		// Route what is stored: the routing must agree with the stored
		// classification.
		if dec, err = p.decide(ctx, &stored, now, res); err != nil {
			return err
		}
	}
	for attempt := 1; ; attempt++ {
		after, err := p.cfg.Store.Transition(ctx, a.ID, p.change(dec, now, version))
		if err == nil {
			res.Outcome, res.Status = outcomeOf(after.Status), after.Status
			return nil
		}
		if !errors.Is(err, appeal.ErrConflict) || attempt == maxConflicts {
			return &StageError{Stage: StageStore, ID: a.ID, Err: err}
		}
		// Someone moved it meanwhile (a concurrent duplicate delivery or
		// an operator): if it is routed now, our work is done.
		stored, gerr := p.cfg.Store.Get(ctx, a.ID)
		if gerr != nil {
			return &StageError{Stage: StageStore, ID: a.ID, Err: gerr}
		}
		if stored.Status != appeal.StatusNew {
			res.Outcome, res.Status = OutcomeDuplicate, stored.Status
			return nil
		}
		version = stored.Version
	}
}

// change is the lifecycle step a decision asks for.
func (p *Pipeline) change(dec Decision, now time.Time, version int64) appeal.Change {
	c := appeal.Change{To: appeal.StatusRouted, Actor: p.cfg.Actor, Note: dec.Note, At: now,
		Assignment: dec.Assignment, ExpectedVersion: version}
	if dec.Reject {
		c.To, c.Assignment = appeal.StatusRejected, nil
	}
	return c
}

func outcomeOf(s appeal.Status) Outcome {
	if s == appeal.StatusRejected {
		return OutcomeRejected
	}
	return OutcomeRouted
}

// decide runs the router and checks its decision.
func (p *Pipeline) decide(ctx context.Context, a *appeal.Appeal, now time.Time, res *Result) (Decision, error) {
	t := time.Now()
	dec, err := p.cfg.Router.RouteAppeal(ctx, a, now)
	res.Route += time.Since(t)
	if err != nil {
		return Decision{}, &StageError{Stage: StageRoute, ID: a.ID, Err: err}
	}
	if !dec.Reject && (dec.Assignment == nil || dec.Assignment.Executor == "") {
		return Decision{}, &StageError{Stage: StageRoute, ID: a.ID, Err: ErrBadDecision}
	}
	return dec, nil
}

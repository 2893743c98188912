package jetstream_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/jetstream"
)

// An intake replica publishes an appeal; a worker replica's pipeline reads
// it from the shared consumer, routes and stores it, and only then
// acknowledges it. (An embedded NATS server stands in for the cluster.)
func Example() {
	dir, _ := os.MkdirTemp("", "appealkit-example")
	defer os.RemoveAll(dir)
	srv, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	go srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(5 * time.Second)

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, _ := natsjs.New(nc)
	ctx := context.Background()
	var cfg jetstream.Config // APPEALS, appeals.<network>.<municipality>, consumer "workers"
	if err := jetstream.Setup(ctx, js, cfg); err != nil {
		fmt.Println(err)
		return
	}

	// Intake: a source's sink. Its checkpoint may move once this returns.
	pub, _ := jetstream.NewPublisher(js, cfg)
	err = pub.Sink()(ctx, appeal.Appeal{Network: appeal.NetworkVK, Kind: appeal.KindComment, ExternalID: "-1_2_c3", Text: "Во дворе не горят фонари"})
	fmt.Println("published:", err == nil)

	// Worker: the JetStream source is an input of an ordinary pipeline.
	src, _ := jetstream.NewSource(js, cfg)
	store := appeal.NewMemoryStore()
	p, _ := appealkit.New(appealkit.Config{
		Store:      store,
		Inputs:     []appealkit.Input{{Name: "jetstream", Source: src}},
		Classifier: appealkit.NoClassification{},
		Router: appealkit.AppealRouterFunc(func(_ context.Context, a *appeal.Appeal, now time.Time) (appeal.Change, error) {
			return appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: "ЖКХ", Deadline: now.Add(24 * time.Hour)}}, nil
		}),
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- p.Run(runCtx) }()
	for src.Stats().Acked == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	stored, _ := store.List(ctx, appeal.Filter{})
	fmt.Println(stored[0].Status, stored[0].Assignment.Executor)
	// Output:
	// published: true
	// routed ЖКХ
}

// Each intake replica runs this with its own member name: the communities
// are spread over the live replicas, and escalation runs on one of them.
func ExampleLeases_Run() {
	run := func(ctx context.Context, js natsjs.JetStream, member string, communities []string) error {
		leases, err := jetstream.OpenLeases(ctx, js, jetstream.LeasesConfig{TTL: 15 * time.Second, Replicas: 3})
		if err != nil {
			return err
		}
		go func() {
			_ = leases.Singleton(ctx, member, "escalate", func(ctx context.Context) error {
				// a ticker calling appealkit.Escalate until ctx ends
				<-ctx.Done()
				return nil
			})
		}()
		return leases.Run(ctx, jetstream.Work{
			Group: "vk-walls", Member: member, Keys: communities,
			Run: func(ctx context.Context, community string) error {
				// build a vk.Monitor for this community and Run it into
				// the Publisher's sink until ctx ends
				<-ctx.Done()
				return nil
			},
		})
	}
	_ = run
}

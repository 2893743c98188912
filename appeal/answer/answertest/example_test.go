package answertest_test

import (
	"context"
	"fmt"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer/answertest"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/vk"
)

// The stand-in drops a repeated comment with the same guid, as VK does.
func ExampleNewVK() {
	v := answertest.NewVK()
	defer v.Close()
	r, _ := vk.NewReplier(vk.API{Token: v.Token, URL: v.URL(), HTTPClient: v.Server.Client(), RequestsPerSecond: 1000})
	a := appeal.Appeal{ID: "vk:-100_4000_c9000", Network: appeal.NetworkVK, ExternalID: "-100_4000_c9000"}
	ctx := source.WithReplyKey(context.Background(), "answer-1")
	first, _ := r.Reply(ctx, a, "Яму заделают до 3 декабря.")
	again, _ := r.Reply(ctx, a, "Яму заделают до 3 декабря.")
	fmt.Println(len(v.Posts()), v.Calls(), first.ExternalID == again.ExternalID)
	// Output: 1 2 true
}

package answer

import (
	"context"
	"fmt"

	"github.com/appealkit/appealkit/appeal"
)

// QueueItem is one draft in a queue, with its appeal.
type QueueItem struct {
	Appeal appeal.Appeal
	Draft  appeal.Draft
}

// Queue lists the drafts in state among the appeals that match f (on
// review for a moderator's queue, returned for an operator's), oldest
// appeal first. It reads the store page by page; f.Limit caps the drafts
// returned (0: all).
func (w *Workflow) Queue(ctx context.Context, state appeal.AnswerState, f appeal.Filter) ([]QueueItem, error) {
	limit := f.Limit
	var out []QueueItem
	for {
		page := f
		page.Limit = 500
		list, err := w.store.List(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("answer: queue %s: %w", state, err)
		}
		for _, a := range list {
			for _, d := range a.Drafts {
				if d.State == state {
					out = append(out, QueueItem{Appeal: a, Draft: d})
					if limit > 0 && len(out) == limit {
						return out, nil
					}
				}
			}
		}
		if len(list) < page.Limit {
			return out, nil
		}
		last := list[len(list)-1]
		f.AfterCreated, f.AfterID = last.CreatedAt, last.ID
	}
}

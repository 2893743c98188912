package vk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/SevereCloud/vksdk/v2/api"
	"github.com/SevereCloud/vksdk/v2/object"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/incident"
	"github.com/appealkit/appealkit/source"
)

// A «прямая линия» (live Q&A) is announced by one post — on the
// administration's wall or the governor's own page — and residents ask
// their questions in its comments, for hours, often the same question many
// times. CollectLiveQA reads every comment and reply under the post and
// turns them into a ranked list of distinct questions, so the official
// answers the most asked first and nobody's question is lost.

// LiveQAConfig configures CollectLiveQA.
type LiveQAConfig struct {
	// API is the access; a user or service token reads public walls.
	API API
	// Post is the announcement: "wall-123_456", "-123_456", or its
	// address ("https://vk.com/wall-123_456", "https://vk.com/club123?w=wall-123_456").
	Post string
	// Grouping sets how near-duplicates are merged (appeal/incident); the
	// zero value is incident's defaults.
	Grouping incident.Config
	// KeepOwner keeps comments written by the wall's owner (by default they
	// are the answers, not questions).
	KeepOwner bool
	// Prepare, when set, runs on every question before grouping. Classify
	// there (classify.ClassifyAppeal): grouping merges only questions whose
	// topics agree, so without topics two questions about one address —
	// the garbage and the street lights at Садовая, 12 — may merge.
	Prepare func(a *appeal.Appeal)
}

// Question is one distinct question: the comments that ask it, merged.
type Question struct {
	// Text is the wording of the most liked comment (the earliest on a tie).
	Text string
	// Topic and Place are the grouping's (set when Prepare classified).
	Topic, Place string
	// Asked counts the people who asked it or endorsed it with a short
	// reply ("+1", "поддерживаю"): each person once, however often they
	// wrote, so one insistent author does not outrank a crowd.
	Asked int
	// Comments counts the comments merged into this question.
	Comments int
	// Likes is the sum of the likes of those comments.
	Likes int
	// Authors counts distinct authors.
	Authors int
	// First is when it was first asked.
	First time.Time
	// Appeals are the comments and replies merged, oldest first (as
	// appeals: ready to store, route and answer one by one).
	Appeals []appeal.Appeal
}

// LiveQA is the result of CollectLiveQA.
type LiveQA struct {
	// Post is the announcement's external id ("-123_456").
	Post string
	// Comments is how many comments and replies were read (deleted and
	// empty ones included); Endorsements how many were only "+1".
	Comments, Endorsements int
	// Questions, most asked first (then most liked, then earliest).
	Questions []Question
}

var postRef = regexp.MustCompile(`(?:^|wall)(-?\d+)_(\d+)(?:$|[?&#/])`)

// ParsePostRef reads "wall-123_456", "-123_456" or a post's address and
// returns the owner and post ids.
func ParsePostRef(s string) (ownerID, postID int, err error) {
	m := postRef.FindStringSubmatch(strings.TrimSpace(s) + "/")
	if m == nil {
		return 0, 0, fmt.Errorf("vk: post %q: want wall-123_456, -123_456 or https://vk.com/wall-123_456", s)
	}
	ownerID, _ = strconv.Atoi(m[1])
	postID, _ = strconv.Atoi(m[2])
	if ownerID == 0 || postID <= 0 {
		return 0, 0, fmt.Errorf("vk: post %q: owner id must be non-zero and post id positive", s)
	}
	return ownerID, postID, nil
}

// CollectLiveQA reads every comment and reply under cfg.Post (wall.getComments,
// 100 a page, each long thread page by page) and returns the distinct
// questions, ranked. A thread that cannot be read (deleted meanwhile) is
// skipped with a warning; an error that concerns the post or the token
// stops the collection.
func CollectLiveQA(ctx context.Context, cfg LiveQAConfig) (*LiveQA, error) {
	ownerID, postID, err := ParsePostRef(cfg.Post)
	if err != nil {
		return nil, err
	}
	if err := cfg.Grouping.Validate(); err != nil {
		return nil, fmt.Errorf("vk: LiveQAConfig.Grouping: %w", err)
	}
	c, err := newClient(cfg.API)
	if err != nil {
		return nil, err
	}
	res := &LiveQA{Post: PostExternalID(ownerID, postID)}
	comments, err := readAllComments(ctx, c, ownerID, postID)
	if err != nil {
		return nil, err
	}
	res.Comments = len(comments)

	m := mapper{}
	var appeals []appeal.Appeal
	likes := map[appeal.ID]int{}
	endorsed := map[int][]int{} // comment id → endorsers
	byComment := map[int]appeal.ID{}
	for _, cm := range comments {
		if bool(cm.Deleted) || strings.TrimSpace(cm.Text) == "" || (!cfg.KeepOwner && cm.FromID == ownerID) {
			continue
		}
		if parent := parentComment(cm); parent != 0 && isEndorsement(cm.Text) {
			endorsed[parent] = append(endorsed[parent], cm.FromID)
			res.Endorsements++
			continue
		}
		a := m.comment(ownerID, postID, cm)
		if cfg.Prepare != nil {
			cfg.Prepare(&a)
		}
		appeals = append(appeals, a)
		likes[a.ID] = cm.Likes.Count
		byComment[cm.ID] = a.ID
	}
	votes := map[appeal.ID][]int{}
	for cid, who := range endorsed {
		if id, ok := byComment[cid]; ok {
			votes[id] = append(votes[id], who...)
		}
	}
	incidents, _, err := incident.Group(appeals, cfg.Grouping)
	if err != nil {
		return nil, fmt.Errorf("vk: grouping questions: %w", err)
	}
	byID := make(map[appeal.ID]*appeal.Appeal, len(appeals))
	for i := range appeals {
		byID[appeals[i].ID] = &appeals[i]
	}
	for _, in := range incidents {
		q := Question{Topic: in.Topic, Place: in.Place}
		authors, people := map[string]bool{}, map[string]bool{}
		best, bestAt := -1, time.Time{}
		for _, id := range in.Members {
			a := byID[id]
			q.Appeals = append(q.Appeals, *a)
			q.Comments++
			people[a.Author.ID] = true
			for _, from := range votes[id] {
				people[strconv.Itoa(from)] = true
			}
			q.Likes += likes[id]
			authors[a.Author.ID] = true
			if l := likes[id]; l > best || l == best && a.CreatedAt.Before(bestAt) {
				best, bestAt, q.Text = l, a.CreatedAt, a.Text
			}
		}
		slices.SortStableFunc(q.Appeals, func(a, b appeal.Appeal) int { return a.CreatedAt.Compare(b.CreatedAt) })
		q.First = q.Appeals[0].CreatedAt
		q.Authors, q.Asked = len(authors), len(people)
		res.Questions = append(res.Questions, q)
	}
	slices.SortStableFunc(res.Questions, func(a, b Question) int {
		return cmp.Or(cmp.Compare(b.Asked, a.Asked), cmp.Compare(b.Likes, a.Likes), a.First.Compare(b.First))
	})
	return res, nil
}

// readAllComments pages through the top-level comments and every thread.
func readAllComments(ctx context.Context, c *client, ownerID, postID int) ([]object.WallWallComment, error) {
	const page = 100
	var out []object.WallWallComment
	seen := map[int]bool{}
	add := func(cm object.WallWallComment) {
		if !seen[cm.ID] {
			seen[cm.ID] = true
			out = append(out, cm)
		}
	}
	for offset := 0; ; offset += page {
		var resp api.WallGetCommentsResponse
		err := c.callRetry(ctx, "wall.getComments", api.Params{"owner_id": ownerID, "post_id": postID, "count": page, "offset": offset,
			"sort": "asc", "need_likes": 1, "thread_items_count": 10, "preview_length": 0}, &resp)
		if err != nil {
			return nil, fmt.Errorf("vk: comments of post %s (offset %d): %w", PostExternalID(ownerID, postID), offset, err)
		}
		for _, top := range resp.Items {
			add(top)
			if top.Thread.Count <= len(top.Thread.Items) {
				for _, r := range top.Thread.Items {
					add(r)
				}
				continue
			}
			replies, err := readThread(ctx, c, ownerID, postID, top.ID)
			if err != nil {
				if !errors.Is(err, ErrUnavailable) && !errors.Is(err, source.ErrMalformed) {
					return nil, err
				}
				c.log.Warn("vk: thread skipped", "comment", CommentExternalID(ownerID, postID, top.ID), "err", err)
				for _, r := range top.Thread.Items { // at least the preview
					add(r)
				}
				continue
			}
			for _, r := range replies {
				add(r)
			}
		}
		if len(resp.Items) < page {
			return out, nil
		}
	}
}

func readThread(ctx context.Context, c *client, ownerID, postID, commentID int) ([]object.WallWallComment, error) {
	const page = 100
	var out []object.WallWallComment
	for offset := 0; ; offset += page {
		var resp api.WallGetCommentsResponse
		err := c.callRetry(ctx, "wall.getComments", api.Params{"owner_id": ownerID, "post_id": postID, "comment_id": commentID,
			"count": page, "offset": offset, "sort": "asc", "need_likes": 1, "preview_length": 0}, &resp)
		if err != nil {
			return nil, fmt.Errorf("vk: thread %s (offset %d): %w", CommentExternalID(ownerID, postID, commentID), offset, err)
		}
		out = append(out, resp.Items...)
		if len(resp.Items) < page {
			return out, nil
		}
	}
}

// isEndorsement reports a short reply that only supports what it answers:
// "+", "+1", "++", "поддерживаю", "тоже интересует", "присоединяюсь".
func isEndorsement(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	if strings.Trim(t, "+1!. ") == "" {
		return true
	}
	words := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && r != '+' })
	if len(words) == 0 || len(words) > 3 {
		return false
	}
	for _, w := range words {
		for _, stem := range []string{"поддерж", "присоедин", "плюс", "тоже", "+"} {
			if strings.HasPrefix(w, stem) {
				return true
			}
		}
	}
	return false
}

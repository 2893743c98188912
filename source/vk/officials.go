package vk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/appealkit/appealkit/source"
)

// Officials' personal pages: a head of district answers on his own wall as
// often as on the administration's. They are read like communities; the
// Monitor keeps them under minus the user id, so that the wall's owner id
// (-id) is the positive user id everywhere the community code uses it.

// personID returns the user id in "id1234", or 0.
func personID(s string) int {
	rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "id")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// splitPeople separates personal pages from communities, keeping order.
func splitPeople(cs []Community) (groups, people []Community) {
	for _, c := range cs {
		if personID(c.ID) > 0 {
			people = append(people, c)
		} else {
			groups = append(groups, c)
		}
	}
	return groups, people
}

// resolvePeople names the personal pages with users.get (1000 per call) and
// marks them official. A deleted or banned page is skipped with a warning;
// a refused call leaves the pages unnamed but monitored.
func (m *Monitor) resolvePeople(ctx context.Context, people []Community) ([]resolvedCommunity, error) {
	if len(people) == 0 {
		return nil, nil
	}
	ids := make([]string, len(people))
	for i, c := range people {
		ids[i] = strconv.Itoa(personID(c.ID))
	}
	type user struct {
		ID          int    `json:"id"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
		Deactivated string `json:"deactivated"`
	}
	byID := map[int]user{}
	for chunk := range slices.Chunk(ids, 1000) {
		var users []user
		err := m.client.callRetry(ctx, "users.get", api.Params{"user_ids": strings.Join(chunk, ",")}, &users)
		var ve *Error
		switch {
		case errors.As(err, &ve) && !errors.Is(err, source.ErrAuth):
			m.client.log.Warn("vk: users.get refused; personal pages stay unnamed", "err", err)
			continue
		case err != nil:
			return nil, fmt.Errorf("vk: resolving personal pages: %w", err)
		}
		for _, u := range users {
			byID[u.ID] = u
		}
	}
	var out []resolvedCommunity
	seen := map[int]bool{}
	for _, c := range people {
		uid := personID(c.ID)
		if seen[uid] {
			continue
		}
		seen[uid] = true
		u := byID[uid]
		if c.Name == "" {
			c.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
		}
		c.Official = true
		if u.Deactivated != "" {
			m.client.log.Warn("vk: personal page is deactivated, skipping", "owner", uid, "state", u.Deactivated)
			if m.skipped == nil {
				m.skipped = map[int]bool{}
			}
			m.skipped[-uid] = true
		}
		if m.m.communities == nil {
			m.m.communities = map[int]Community{}
		}
		m.m.communities[-uid] = c
		out = append(out, resolvedCommunity{id: -uid, conf: c})
	}
	return out, nil
}

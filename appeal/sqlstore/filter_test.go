package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// TestListMatchesReference checks List against the reference semantics
// (appeal.Filter.Match, appeal.Less, Limit) on a random population and
// random filters. External ids mix cases, digits, punctuation and Cyrillic,
// whose order differs between byte-wise comparison and locale collations,
// and many appeals share a CreatedAt, so ordering ties fall back to the ID.
func TestListMatchesReference(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			rng := rand.New(rand.NewPCG(7, 11))
			base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
			pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
			idParts := []string{"a", "B", "b", "_", "-", "1", "10", "2", "ё", "е", "Я", " "}

			var population []appeal.Appeal
			seen := map[appeal.ID]bool{}
			for len(population) < 120 {
				ext := ""
				for range 1 + rng.IntN(4) {
					ext += pick(idParts...)
				}
				a := storetest.Sample(ext)
				a.Network = appeal.Network(pick("vk", "ok", "telegram"))
				if a.Normalize() != nil || seen[a.ID] {
					continue
				}
				seen[a.ID] = true
				switch rng.IntN(5) {
				case 0:
					a.CreatedAt = time.Time{}
				case 1, 2:
					a.CreatedAt = base // ties
				default:
					a.CreatedAt = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				a.Municipality = pick("Курск", "Льгов", "")
				a.Topics = nil
				for range rng.IntN(3) {
					a.Topics = append(a.Topics, appeal.TopicScore{Code: pick("roads", "garbage", "housing", "housing.heating"), Score: 0.5})
				}
				a.Status = appeal.AllStatuses()[rng.IntN(len(appeal.AllStatuses()))]
				if rng.IntN(4) > 0 {
					a.Assignment = &appeal.Assignment{Executor: pick("roads", "gkh", "eco")}
					if rng.IntN(3) > 0 {
						a.Assignment.Deadline = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
					}
				}
				_, err := s.Put(ctx, a)
				require.NoError(t, err)
				population = append(population, a)
			}

			for i := range 150 {
				var f appeal.Filter
				if rng.IntN(3) == 0 {
					f.Statuses = []appeal.Status{appeal.AllStatuses()[rng.IntN(7)], appeal.AllStatuses()[rng.IntN(7)]}
				}
				if rng.IntN(3) == 0 {
					f.Municipality = pick("Курск", "Льгов")
				}
				if rng.IntN(3) == 0 {
					f.Topic = pick("roads", "garbage", "housing", "housing.heating")
				}
				if rng.IntN(3) == 0 {
					f.Executor = pick("roads", "gkh", "eco")
				}
				if rng.IntN(4) == 0 {
					f.Network = appeal.Network(pick("vk", "ok", "telegram"))
				}
				if rng.IntN(4) == 0 {
					f.CreatedFrom = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(4) == 0 {
					f.CreatedTo = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(3) == 0 {
					f.OverdueAt = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(3) == 0 {
					cursor := population[rng.IntN(len(population))]
					f.AfterCreated, f.AfterID = cursor.CreatedAt, cursor.ID
				}
				if rng.IntN(3) == 0 {
					f.Limit = 1 + rng.IntN(20)
				}

				var want []appeal.ID
				matched := make([]*appeal.Appeal, 0)
				for j := range population {
					if f.Match(&population[j]) {
						matched = append(matched, &population[j])
					}
				}
				slices.SortFunc(matched, func(a, b *appeal.Appeal) int {
					if appeal.Less(a, b) {
						return -1
					}
					if appeal.Less(b, a) {
						return 1
					}
					return 0
				})
				if f.Limit > 0 && len(matched) > f.Limit {
					matched = matched[:f.Limit]
				}
				for _, a := range matched {
					want = append(want, a.ID)
				}
				list, err := s.List(ctx, f)
				require.NoError(t, err)
				var got []appeal.ID
				for _, a := range list {
					got = append(got, a.ID)
				}
				require.Equal(t, want, got, "filter %d: %+v", i, fmt.Sprintf("%+v", f))
			}
		})
	}
}

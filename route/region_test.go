package route_test

import (
	"testing"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/route"
)

const regionFile = "../examples/rules/region.yaml"

func loadRegion(t testing.TB) *route.Engine {
	t.Helper()
	e, err := route.ParseFile(regionFile)
	if err != nil {
		t.Fatalf("region rules: %v", err)
	}
	return e
}

func TestRegionExplain(t *testing.T) {
	e := loadRegion(t)
	now := time.Date(2025, 12, 30, 17, 0, 0, 0, time.UTC)
	a := &appeal.Appeal{Text: "Яма на дороге", Municipality: "Курский район", Topics: []appeal.TopicScore{{Code: "roads", Score: 0.9}}, Urgent: true}
	t.Log(e.RouteExplain(a, now).Explain())
}

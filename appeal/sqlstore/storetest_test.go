package sqlstore_test

import (
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.ready(t)
			storetest.Run(t, func(t *testing.T) appeal.Store { return b.open(t) })
		})
	}
}

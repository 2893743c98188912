package sqlstore_test

import (
	"testing"

	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestOutboxConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.ready(t)
			storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStore { return b.open(t) })
		})
	}
}

package appeal_test

import (
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) appeal.Store { return appeal.NewMemoryStore() })
}

func TestMemoryOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStore { return appeal.NewMemoryStore() })
}

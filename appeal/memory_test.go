package appeal_test

import (
	"testing"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) appeal.Store { return appeal.NewMemoryStore() })
}

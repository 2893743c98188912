package appeal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// dictionaryAttack is what anyone holding an export tries: VK and Telegram
// user ids are small integers, so hash every candidate the ways a library
// might (bare, with an empty salt, HMAC under an empty key) and look for
// the pseudonym. It returns the id found, or "".
func dictionaryAttack(pseudonym string, upTo int) string {
	want, ok := strings.CutPrefix(pseudonym, "anon-")
	if !ok {
		return ""
	}
	for i := range upTo {
		id := strconv.Itoa(i)
		bare := sha256.Sum256([]byte(id))
		salted := sha256.Sum256([]byte("\x00" + id)) // the old unkeyed scheme
		for _, h := range [][]byte{bare[:8], salted[:8]} {
			if hex.EncodeToString(h) == want {
				return id
			}
		}
		if appeal.Pseudonym([]byte("\x00"), id) == pseudonym {
			return id
		}
	}
	return ""
}

// Before pseudonyms were keyed, Redacted() mapped author 4242 to
// sha256("\x00"+"4242") and the attack above found it in microseconds.
func TestPseudonymResistsDictionaryAttack(t *testing.T) {
	a := full()
	a.Author.ID = "4242"
	const space = 20000
	require.Equal(t, "4242", dictionaryAttack("anon-"+func() string {
		h := sha256.Sum256([]byte("\x00" + "4242"))
		return hex.EncodeToString(h[:8])
	}(), space), "the attack works on an unkeyed pseudonym")

	assert.Empty(t, dictionaryAttack(a.Redacted().Author.ID, space), "default: random per-process key")
	key := []byte("deployment secret of region 46")
	keyed := a.RedactedWith(appeal.RedactOptions{Key: key})
	assert.Empty(t, dictionaryAttack(keyed.Author.ID, space), "explicit key")

	// Only the key holder can link a pseudonym back, and it is stable for
	// them across runs.
	assert.Equal(t, keyed.Author.ID, appeal.Pseudonym(key, "4242"))
	assert.Equal(t, a.Redacted().Author.ID, a.Redacted().Author.ID, "stable within the process")
	assert.NotEqual(t, keyed.Author.ID, a.Redacted().Author.ID, "the process key is not the deployment key")
	assert.Regexp(t, `^anon-[0-9a-f]{16}$`, keyed.Author.ID)
	assert.Empty(t, appeal.Pseudonym(key, ""))
}

// A Telegram private chat's id is the user's id, and VK's dialog peer_id is
// too: such ids must not leave the library in clear.
func TestRedactedHidesUserIDInPrivateMessageIDs(t *testing.T) {
	for _, tc := range []struct {
		network  appeal.Network
		ext, url string
	}{
		{appeal.NetworkTelegram, "987654321_17", ""},
		{appeal.NetworkVK, "-1_m987654321_17", "https://vk.com/gim1?sel=987654321"},
	} {
		a := full()
		a.Network, a.ExternalID, a.Kind, a.URL = tc.network, tc.ext, appeal.KindMessage, tc.url
		a.ID = appeal.NewID(a.Network, a.ExternalID)
		a.Author.ID = "987654321"
		a.Thread = appeal.Thread{ParentID: "987654321_16"}
		a.Replies[0].ExternalID = "987654321_18"
		a.Replies[0].URL = tc.url

		for _, r := range []appeal.Appeal{a.Redacted(), a.RedactedWith(appeal.RedactOptions{Key: []byte("k")})} {
			assert.NoError(t, r.Normalize(), "a redacted appeal is still a valid appeal")
			assert.Equal(t, r.ID, appeal.NewID(r.Network, r.ExternalID))
			blob, err := json.Marshal(r)
			require.NoError(t, err)
			assert.NotContains(t, string(blob), "987654321", tc.network)
		}
		assert.Equal(t, a.Redacted().ID, a.RedactedID(), "logs and exports name it alike")

		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("stored", "appeal", a)
		assert.NotContains(t, buf.String(), "987654321", "log of %s", tc.network)
		assert.Contains(t, buf.String(), `"id":"`+string(a.RedactedID())+`"`)
	}
	// A post's id names a community and a post, not a person: it stays.
	post := full()
	assert.Equal(t, post.ID, post.Redacted().ID)
	assert.Equal(t, post.ID, post.RedactedID())
}

// An ID alone is shown redacted when its external part may be a user's id
// (VK and Telegram ids that start with a positive number).
func TestIDRedacted(t *testing.T) {
	for _, id := range []appeal.ID{"vk:-100_4000_c9000", "telegram:-1002003_303", "ok:5102_70002", "web:734455", "max:123_4", "vk:", "garbage"} {
		assert.Equal(t, id, id.Redacted(), "kept: %s", id)
	}
	for _, id := range []appeal.ID{"vk:734455_91", "telegram:734455_12"} {
		r := id.Redacted()
		assert.NotContains(t, string(r), "734455")
		n, _, ok := id.Split()
		require.True(t, ok)
		assert.True(t, strings.HasPrefix(string(r), string(n)+":"), "%s keeps its network: %s", id, r)
		assert.Equal(t, r, id.Redacted(), "stable within a process")
	}
	a := appeal.Appeal{Network: appeal.NetworkTelegram, Kind: appeal.KindMessage, ExternalID: "734455_12"}
	a.ID = appeal.NewID(a.Network, a.ExternalID)
	assert.Equal(t, a.RedactedID(), a.ID.Redacted(), "agrees with the appeal's own redaction")
	err := &appeal.ConflictError{ID: a.ID, Expected: 1, Actual: 2}
	assert.NotContains(t, err.Error(), "734455")
}

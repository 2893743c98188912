// Package builtin plugs the shipped adapters into a deployment file: it
// registers the source kinds vk, telegram, max and replay with an
// appealkit.Registry, and the database/sql drivers "sqlite"
// (modernc.org/sqlite) and "pgx" (github.com/jackc/pgx/v5/stdlib) that a
// deployment's store names. The root package imports no adapter and no
// driver; a program that loads a deployment imports this package once:
//
//	d, err := appealkit.LoadDeployment(ctx, "deploy.yaml", appealkit.DeployConfig{
//		Sources: builtin.Registry(),
//	})
//	if err != nil {
//		return err // file:line:col: sources[0].token_env: environment variable VK_TOKEN is not set
//	}
//	defer d.Close()
//	return d.Pipeline.Run(ctx)
//
// The settings of each kind, beside name and kind:
//
//	vk:       token_env, token_kind (user|group), communities (list; "mosreg!" marks an official page),
//	          poll_interval, posts, skip_history, api_url
//	telegram: token_env, base_url, chats, official_chats
//	max:      token_env, base_url, chats, official_chats
//	replay:   path, skip_bad_lines
package builtin

import (
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver a postgres store opens
	_ "modernc.org/sqlite"             // the "sqlite" driver a sqlite store opens

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/max"
	"github.com/appealkit/appealkit/source/replay"
	"github.com/appealkit/appealkit/source/telegram"
	"github.com/appealkit/appealkit/source/vk"
)

// Registry returns a new registry holding the shipped source kinds. Add a
// program's own kinds to it with Register.
func Registry() *appealkit.Registry {
	r := appealkit.NewRegistry()
	_ = Register(r) // a fresh registry cannot hold a kind twice
	return r
}

// Register adds the shipped kinds to r; it fails when r already has one.
func Register(r *appealkit.Registry) error {
	for _, k := range []struct {
		kind string
		b    appealkit.SourceBuilder
	}{{"vk", buildVK}, {"telegram", buildTelegram}, {"max", buildMAX}, {"replay", buildReplay}} {
		if err := r.Register(k.kind, k.b); err != nil {
			return err
		}
	}
	return nil
}

type vkSettings struct {
	TokenEnv     string        `yaml:"token_env"`
	TokenKind    string        `yaml:"token_kind"`
	Communities  []string      `yaml:"communities"`
	PollInterval time.Duration `yaml:"poll_interval"`
	Posts        int           `yaml:"posts"`
	SkipHistory  bool          `yaml:"skip_history"`
	APIURL       string        `yaml:"api_url"`
}

func buildVK(c appealkit.SourceConfig) (source.Source, error) {
	var s vkSettings
	if err := c.Decode(&s); err != nil {
		return nil, err
	}
	token, err := c.Env("token_env")
	if err != nil {
		return nil, err
	}
	kind := vk.UserToken
	switch s.TokenKind {
	case "", "user", "service":
	case "group":
		kind = vk.GroupToken
	default:
		return nil, c.Errorf("token_kind", "%q: want user or group", s.TokenKind)
	}
	list := vk.ParseCommunities(strings.Join(s.Communities, ","))
	if len(list) == 0 {
		return nil, c.Errorf("communities", "at least one community is required")
	}
	m, err := vk.NewMonitor(vk.MonitorConfig{
		API:               vk.API{Token: token, TokenKind: kind, URL: s.APIURL, Logger: c.Logger},
		Communities:       list,
		Checkpoints:       c.Checkpoints,
		PollInterval:      s.PollInterval,
		PostsPerCommunity: s.Posts,
		SkipHistory:       s.SkipHistory,
	})
	if err != nil {
		return nil, err // wrapped by LoadDeployment at the source's entry
	}
	return m, nil
}

type botSettings struct {
	TokenEnv      string  `yaml:"token_env"`
	BaseURL       string  `yaml:"base_url"`
	Chats         []int64 `yaml:"chats"`
	OfficialChats []int64 `yaml:"official_chats"`
}

func buildTelegram(c appealkit.SourceConfig) (source.Source, error) {
	return buildBot(c, func(token string, s botSettings) (source.Source, error) {
		return telegram.New(telegram.Config{Token: token, BaseURL: s.BaseURL, Checkpoints: c.Checkpoints,
			Chats: s.Chats, OfficialChats: s.OfficialChats, Logger: c.Logger})
	})
}

func buildMAX(c appealkit.SourceConfig) (source.Source, error) {
	return buildBot(c, func(token string, s botSettings) (source.Source, error) {
		return max.New(max.Config{Token: token, BaseURL: s.BaseURL, Checkpoints: c.Checkpoints,
			Chats: s.Chats, OfficialChats: s.OfficialChats, Logger: c.Logger})
	})
}

// buildBot reads the settings and the token every bot kind shares and
// builds the source with them; the constructor's refusal is reported at
// the source's entry in the file.
func buildBot(c appealkit.SourceConfig, build func(token string, s botSettings) (source.Source, error)) (source.Source, error) {
	var s botSettings
	if err := c.Decode(&s); err != nil {
		return nil, err
	}
	token, err := c.Env("token_env")
	if err != nil {
		return nil, err
	}
	// A refusal is wrapped by LoadDeployment at the source's entry.
	return build(token, s)
}

type replaySettings struct {
	Path         string `yaml:"path"`
	SkipBadLines bool   `yaml:"skip_bad_lines"`
}

func buildReplay(c appealkit.SourceConfig) (source.Source, error) {
	var s replaySettings
	if err := c.Decode(&s); err != nil {
		return nil, err
	}
	if s.Path == "" {
		return nil, c.Errorf("path", "required: the JSONL file to replay")
	}
	src, err := replay.New(replay.Config{Path: c.Path(s.Path), Checkpoints: c.Checkpoints, SkipBadLines: s.SkipBadLines, Logger: c.Logger})
	if err != nil {
		return nil, err // wrapped by LoadDeployment at the source's entry
	}
	return src, nil
}

// Package rules embeds the example routing rules, so that examples and
// tests can load them without knowing where the repository is checked out:
//
//	e, err := route.Parse(bytes.NewReader(rules.Region), "region.yaml")
//
// The files name IANA time zones (Europe/Moscow); binaries that may run on
// hosts without a tz database should import _ "time/tzdata".
package rules

import _ "embed"

// Region is region.yaml: Курская область with three districts ("Курский
// район", "Железногорский район", "Льговский район"), a regional body per
// topic and the duty operator of the regional management centre.
//
//go:embed region.yaml
var Region []byte

// SPb is spb.yaml: Санкт-Петербург with its 18 districts ("Невский район",
// ...), each with an administration and a housing agency, and the city-wide
// bodies.
//
//go:embed spb.yaml
var SPb []byte

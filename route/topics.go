package route

import "strings"

// TopicCodes lists the rubricator codes shared by classify, route and the
// reports. Rules may name only these codes, their own extra codes declared
// under "topics:" in the rules file, or nothing.
func TopicCodes() []string {
	return []string{
		"roads", "housing", "housing.heating", "housing.water", "housing.electricity",
		"housing.sewerage", "housing.gas", "housing.building", "housing.management",
		"landscaping", "landscaping.yards", "landscaping.lighting", "landscaping.trees",
		"landscaping.playgrounds", "garbage", "snow", "healthcare", "education", "social",
		"transport", "ecology", "animals", "safety", "culture_sport", "trade",
		"construction", "communications", "other",
	}
}

// parentTopic returns the parent code of a dotted code ("housing" for
// "housing.heating") and false for a top-level code.
func parentTopic(code string) (string, bool) {
	i := strings.LastIndexByte(code, '.')
	if i <= 0 {
		return "", false
	}
	return code[:i], true
}

// topicUnder reports whether code is parent or one of its descendants: a
// rule for "housing" matches an appeal about "housing.heating".
func topicUnder(code, parent string) bool {
	if len(code) < len(parent) || code[:len(parent)] != parent {
		return false
	}
	return len(code) == len(parent) || code[len(parent)] == '.'
}

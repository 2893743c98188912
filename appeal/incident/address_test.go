package incident

import (
	"strings"
	"testing"
)

func TestExtractAddress(t *testing.T) {
	cases := map[string]string{
		"Яма у дома на ул. Садовая, д. 5, уже неделю":                              "садов 5",
		"На улице Садовой 5 огромная яма":                                          "садов 5",
		"По адресу пр. Науки 44 провал грунта":                                     "наук 44",
		"вдоль дома 78, Большой проспект В.О.":                                     "больш",
		"По адресу 192012, г. Санкт-Петербург, пер. 1-й Рабфаковский, д. 6, 13 ук": "1 рабфаковск 6",
		"Доброго вечера. По адресу: Индустриальный проспект, 29 очень скользко":    "индустриальн 29",
		"Не работает светофор на перекрестке Пискаревского проспекта и Муринской":  "пискаревск",
		"Мусор на детской площадке":                                                "",
		"Грязь в парадной дома 46":                                                 "",
		"ул. Ленина д.12к2": "ленин 12к2",
	}
	for text, want := range cases {
		if got := ExtractAddress(text); got != want {
			t.Errorf("ExtractAddress(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestWordsStripsHTMLKeepsComparisons(t *testing.T) {
	got := []string{}
	for _, w := range words(`<p>Температура <b>в квартире</b> < 18, Ёлка pядом</p>`) {
		got = append(got, w.w)
	}
	want := "температура в квартире 18 елка рядом"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("words = %q, want %q", s, want)
	}
}

package stats

import (
	"slices"
	"testing"
)

func TestCheckReply(t *testing.T) {
	cases := []struct {
		name                      string
		text                      string
		formal                    bool
		action, date, responsible bool
	}{
		{"classic", "Ваше обращение рассмотрено.", true, false, false, false},
		{"forwarded", "Ваше обращение направлено в администрацию Приморского района для рассмотрения.", true, false, false, false},
		{"established order", "Обращение будет рассмотрено в установленном порядке.", true, false, false, false},
		{"measures taken", "По вашему обращению приняты меры. Вопрос находится на контроле.", true, false, false, false},
		{"done with date and org", "Яма на проезжей части у дома 5 заделана 12.03.2024 силами ГБУ «Автодор».", false, true, true, true},
		{"plan with term", "Ремонт кровли включён в план на 2025 год, работы выполнит подрядчик ООО «Кровля» до конца мая.", false, true, true, true},
		{"action only", "Мусор с контейнерной площадки вывезен.", false, true, false, false},
		{"term in days", "Освещение восстановят в течение 3 рабочих дней, ответственный мастер Петров П.П., тел. 8-812-123-45-67.", false, true, true, true},
		{"template despite action word", "Работы будут выполнены в установленном порядке.", true, true, false, false},
		{"negated action", "Выполнить ремонт не представляется возможным, обращение рассмотрено.", true, true, false, false},
		{"initials", "Проверку проведёт инженер отдела, контроль — Иванова А.С., срок 20 апреля.", false, true, true, true},
		{"empty", "", true, false, false, false},
		{"planned year", "Сообщаем, что работы по ремонту дорожного покрытия запланированы на 2027 год.", false, true, true, false},
		{"passed on", "Информация о проблеме передана в управляющую компанию.", true, false, false, false},
		{"inspection and term", "Специалистами ГКУ ЖА проведено обследование, выявленные нарушения будут устранены в срок до 30 ноября.", false, true, true, true},
		{"taken into work", "Благодарим за обращение! Ваша заявка принята в работу.", true, false, false, false},
		{"site visit", "В ходе выезда на место нарушений не выявлено.", false, true, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CheckReply(c.text)
			if got.Formal != c.formal || got.Action != c.action || got.Date != c.date || got.Responsible != c.responsible {
				t.Errorf("CheckReply(%q) = %+v; want formal=%v action=%v date=%v responsible=%v",
					c.text, got, c.formal, c.action, c.date, c.responsible)
			}
			if got.Formal && len(got.Reasons) == 0 {
				t.Errorf("formal answer without reasons: %+v", got)
			}
			if got.Score < 0 || got.Score > 1 {
				t.Errorf("score %v out of [0,1]", got.Score)
			}
		})
	}
}

func TestCheckReplyReasonsNameTemplate(t *testing.T) {
	got := CheckReply("Ваше обращение рассмотрено и направлено для рассмотрения в ГКУ ЖА.")
	if !got.Formal {
		t.Fatalf("want formal, got %+v", got)
	}
	if !slices.Contains(got.Templates, "для рассмотрения") {
		t.Errorf("templates %q lack «для рассмотрения»", got.Templates)
	}
	if !got.Responsible {
		t.Errorf("ГКУ names a body: %+v", got)
	}
}

func TestTokensKeepDatesAndPhones(t *testing.T) {
	got := tokens("До 15.05.2026, тел. 8-812-123-45-67. Ёлка", nil)
	want := []string{"до", "15.05.2026", "тел", "8-812-123-45-67", "елка"}
	if !slices.Equal(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
}

// refTokens is the plain rune-by-rune definition tokens must agree with.
func refTokens(text string) []string {
	var out []string
	var cur []rune
	rs := []rune(text)
	for i, r := range rs {
		lr := lower(r)
		keep := isWordRune(lr)
		if !keep && (r == '.' || r == '-') && len(cur) > 0 && i > 0 && rs[i-1] >= '0' && rs[i-1] <= '9' && i+1 < len(rs) && rs[i+1] >= '0' && rs[i+1] <= '9' {
			keep, lr = true, r
		}
		if keep {
			cur = append(cur, lr)
		} else if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}

func TestTokensMatchReference(t *testing.T) {
	alphabet := []rune("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯabcXYZ0123456789 .,-:;!?«»—\n\tіїєÉé😀")
	rng := uint64(1)
	for n := 0; n < 3000; n++ {
		var b []rune
		for k := 0; k < 1+n%60; k++ {
			rng = rng*6364136223846793005 + 1442695040888963407
			b = append(b, alphabet[(rng>>33)%uint64(len(alphabet))])
		}
		s := string(b)
		if got, want := tokens(s, nil), refTokens(s); !slices.Equal(got, want) {
			t.Fatalf("tokens(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestHasInitials(t *testing.T) {
	for s, want := range map[string]bool{
		"мастер Петров П.П., тел.": true,
		"И. И. Иванов ответит":     true,
		"Ё.Ж. Ёлкин":               true,
		"ул. Ленина, д. 5":         false,
		"ТСЖ.Д.":                   false,
		"А.":                       false,
		"":                         false,
	} {
		if got := hasInitials(s); got != want {
			t.Errorf("hasInitials(%q) = %v, want %v", s, got, want)
		}
	}
}

package window

import (
	"strings"
	"testing"
)

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		spec Spec
		want string
	}{
		{Spec{}, "open: required"},
		{Spec{Zone: "Mars/Olympus", Open: Always.Open}, `zone: "Mars/Olympus" is not an IANA time zone`},
		{Spec{Open: Always.Open, Closures: "sometimes"}, `closures: "sometimes": want block or allow`},
		{Spec{Open: []Rule{{Kind: "lunch"}}}, `open[0].kind: "lunch"`},
		{Spec{Open: []Rule{Always.Open[0], {From: "07:00"}}}, "open[1].to: required"},
		{Spec{Open: []Rule{{From: "7:00", To: "09:00"}}}, `open[0].from: "7:00" is not a time of day`},
		{Spec{Open: []Rule{{From: "07:00", To: "24:30"}}}, `open[0].to: "24:30"`},
		{Spec{Open: []Rule{{From: "07:00", To: "07:60"}}}, `open[0].to: "07:60"`},
		{Spec{Open: []Rule{{From: "09:00", To: "07:00"}}}, "open[0].to: 07:00 is not after from 09:00"},
		{Spec{Open: []Rule{{Days: "mondays", From: "07:00", To: "09:00"}}}, `open[0].days: "mondays"`},
		{Spec{Open: []Rule{{Kind: KindAlways, From: "07:00"}}}, "open[0]: kind always takes no days, from or to"},
	}
	for _, tc := range cases {
		err := tc.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.spec, err, tc.want)
		}
	}
	for _, ok := range []Spec{Always, MarketClosed, prePost, {Open: []Rule{{From: "00:00", To: "24:00"}}}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", ok, err)
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	y := `
zone: America/New_York
open:
  - {days: trading, from: "07:00", to: "09:00"}
  - {kind: market_closed}
closures: allow
`
	s, err := DecodeYAML([]byte(y))
	if err != nil || len(s.Open) != 2 || s.Open[1].Kind != KindMarketClosed || s.Closures != ClosuresAllow {
		t.Fatalf("DecodeYAML = %+v, %v", s, err)
	}
	if _, err := DecodeYAML([]byte("open: [{kind: always}]\nzones: UTC\n")); err == nil || !strings.Contains(err.Error(), "zones") {
		t.Fatalf("unknown YAML field: %v", err)
	}
	if _, err := DecodeJSON([]byte(`{"open":[{"kind":"always","form":"07:00"}]}`)); err == nil || !strings.Contains(err.Error(), "form") {
		t.Fatalf("unknown JSON field: %v", err)
	}
	if _, err := DecodeJSON([]byte(`{"open":[{"from":"07:00","to":"06:00"}]}`)); err == nil || !strings.Contains(err.Error(), "open[0].to") {
		t.Fatalf("invalid JSON spec: %v", err)
	}
	if s, err := DecodeJSON([]byte(`{"open":[{"kind":"always"}]}`)); err != nil || s.Open[0].Kind != KindAlways {
		t.Fatalf("DecodeJSON = %+v, %v", s, err)
	}
}

package types

import (
	"math"
	"testing"
	"time"
)

func TestJavaDouble(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0.1, "0.1"},
		{1e7, "1.0E7"},
		{1e-3, "0.001"},
		{1e-4, "1.0E-4"},
		{100.0, "100.0"},
		{1.0, "1.0"},
		{1e10, "1.0E10"},
		{1.2345678e7, "1.2345678E7"},
		{9.999999e-4, "9.999999E-4"},
		{9999999.0, "9999999.0"},
		{123.456, "123.456"},
		{math.Copysign(0, -1), "-0.0"},
		{0.0, "0.0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{4.9e-324, "4.9E-324"},
		{2.2250738585072014e-308, "2.2250738585072014E-308"},
		{-12345.678, "-12345.678"},
		{0.36787944117144233, "0.36787944117144233"},
		{1946195068359375.0, "1.946195068359375E15"},
		{1e21, "1.0E21"},
		{2e-3, "0.002"},
		{1.0e23, "1.0E23"},
		{548.317035155212, "548.317035155212"},
	}
	for _, c := range cases {
		if got := JavaDouble(c.in); got != c.want {
			t.Errorf("JavaDouble(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJavaRound(t *testing.T) {
	cases := map[float64]int64{1.5: 2, -1.5: -1, -1.7: -2, 1.2: 1, 0.49999999999999994: 0, -0.5: 0, 2.5: 3,
		math.NaN(): 0, 1e300: math.MaxInt64, -1e300: math.MinInt64}
	for in, want := range cases {
		if got := JavaRound(in); got != want {
			t.Errorf("JavaRound(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestJavaDateFormat(t *testing.T) {
	la, _ := LoadZone("America/Los_Angeles")
	london, _ := LoadZone("Europe/London")
	ts := time.UnixMilli(1526075913000)
	cases := []struct {
		pattern string
		t       time.Time
		want    string
	}{
		{"yyyy-MM-dd", DateToTime(17662), "2018-05-11"},
		{"dd/MM/yyyy", DateToTime(18027), "11/05/2019"},
		{"dd-MMM-yyyy", DateToTime(18993), "01-Jan-2022"},
		{"dd-MM-yyyy'Sophia'", DateToTime(-1), "31-12-1969Sophia"},
		{"yyyy-MM-dd HH:mm:ss zzz", ts.In(la), "2018-05-11 14:58:33 PDT"},
		{"yyyy-MM-dd HH:mm:ss zzz", ts.In(london), "2018-05-11 22:58:33 BST"},
		{"yyyy-MM-dd HH:mm:ss", ts.UTC(), "2018-05-11 21:58:33"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", ts.In(la), "2018-05-11T14:58:33.000-07:00"},
		{"hh:mm a EEE MMMM yy", ts.UTC(), "09:58 PM Fri May 18"},
		{"''yy''", ts.UTC(), "'18'"},
		{"X", ts.UTC(), "Z"},
		{"Z", ts.In(la), "-0700"},
	}
	for _, c := range cases {
		f, err := CompileJavaDateFormat(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		got, err := f.Format(c.t)
		if err != nil || got != c.want {
			t.Errorf("Format(%q) = %q, %v; want %q", c.pattern, got, err, c.want)
		}
	}
	for _, bad := range []string{"yyyy-MM-dd'", "{", "ba"} {
		if _, err := CompileJavaDateFormat(bad); err == nil {
			t.Errorf("CompileJavaDateFormat(%q) should fail", bad)
		}
	}
}

func TestJavaDateParse(t *testing.T) {
	cases := []struct {
		text, pattern string
		loc           string
		wantMs        int64
	}{
		{"2018-05-11T21:58:33Z", "yyyy-MM-dd'T'HH:mm:ssX", "UTC", 1526075913000},
		{"2020-05-11T21:58:33z", "yyyy-MM-dd'T'HH:mm:ssX", "UTC", 1589234313000},
		{"2018-05-11T21:58:33", "yyyy-MM-dd'T'HH:mm:ss", "UTC", 1526075913000},
		{"2018-05-11T21:58:33 PST", "yyyy-MM-dd'T'HH:mm:ss zzz", "UTC", 1526101113000},
		{"2018-05-11Lit", "yyyy-MM-dd'Lit'", "UTC", 17662 * 86400000},
		{"01-Jan-2022", "dd-MMM-yyyy", "UTC", 18993 * 86400000},
		{"20200101", "yyyyMMdd", "UTC", 1577836800000},
		{"01:00:00 Pm", "hh:mm:ss a", "UTC", 46800000},
		{"2018-05-11 21:58:33", "yyyy-MM-dd HH:mm:ss", "America/Los_Angeles", 1526101113000},
		{"2018-05-11 21:58:33.123+02:00", "yyyy-MM-dd HH:mm:ss.SSSXXX", "UTC", 1526068713123},
	}
	for _, c := range cases {
		f, err := CompileJavaDateFormat(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		pd, err := f.Parse(c.text)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", c.text, c.pattern, err)
			continue
		}
		loc, _ := LoadZone(c.loc)
		if got := pd.Time(loc).UnixMilli(); got != c.wantMs {
			t.Errorf("Parse(%q, %q) = %d, want %d", c.text, c.pattern, got, c.wantMs)
		}
	}
	for _, bad := range [][2]string{{"2018-13-01", "yyyy-MM-dd"}, {"2018-02-30", "yyyy-MM-dd"}, {"x", "yyyy"}, {"2018-05-11 extra", "yyyy-MM-dd"}} {
		f, _ := CompileJavaDateFormat(bad[1])
		if _, err := f.Parse(bad[0]); err == nil {
			t.Errorf("Parse(%q, %q) should fail", bad[0], bad[1])
		}
	}
}

func TestLoadZone(t *testing.T) {
	for _, ok := range []string{"UTC", "Z", "+0200", "-05:00", "UTC+2", "GMT-03:30", "America/New_York"} {
		if _, err := LoadZone(ok); err != nil {
			t.Errorf("LoadZone(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Mars/Olympus", "Local", "+99:00", "../etc"} {
		if _, err := LoadZone(bad); err == nil {
			t.Errorf("LoadZone(%q) should fail", bad)
		}
	}
}

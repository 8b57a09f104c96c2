package schedule_test

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/nats-io/nats-server/v2/server"

	"github.com/natskit/natskit/internal/schedule"
)

// The parser is held to nats-server's own, reached by name since the server does not export
// it: the same patterns are valid or not, and give the same times.

//go:linkname serverParseCron github.com/nats-io/nats-server/v2/server.parseCron
func serverParseCron(pattern string, loc *time.Location, ts int64) (time.Time, error)

//go:linkname serverParseMsgSchedule github.com/nats-io/nats-server/v2/server.parseMsgSchedule
func serverParseMsgSchedule(pattern string, loc *time.Location, ts int64) (time.Time, bool, bool)

var _ = server.NewServer // keeps the server package linked

// comparePattern checks one pattern against the server's parser. ts lies a day ahead of the
// wall clock, so that neither parser's catch-up (which reads the clock) comes into play.
func comparePattern(t *testing.T, pattern string, loc *time.Location, ts int64) {
	t.Helper()
	c, err := schedule.Cron(pattern, loc, ts)
	sc, serr := serverParseCron(pattern, loc, ts)
	if errText(err) != errText(serr) || !c.Equal(sc) || c.Location().String() != sc.Location().String() {
		t.Fatalf("Cron(%q, %v, %d) = %v, %v; server %v, %v", pattern, loc, ts, c, err, sc, serr)
	}
	n, rep, ok := schedule.Next(pattern, loc, ts, time.Now())
	sn, srep, sok := serverParseMsgSchedule(pattern, loc, ts)
	if !n.Equal(sn) || rep != srep || ok != sok {
		t.Fatalf("Next(%q, %v, %d) = %v, %v, %v; server %v, %v, %v", pattern, loc, ts, n, rep, ok, sn, srep, sok)
	}
	if ok && n.Format(time.RFC3339Nano) != sn.Format(time.RFC3339Nano) {
		t.Fatalf("Next(%q): %s, server %s", pattern, n.Format(time.RFC3339Nano), sn.Format(time.RFC3339Nano))
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

var serverPatterns = []string{
	"", "@at 2030-01-02T03:04:05Z", "@at 2030-01-02T03:04:05+02:00", "@at 2030-01-02", "@at ",
	"@at 2030-01-02T03:04:05.123Z", "@every 1s", "@every 999ms", "@every 1m30s", "@every -5s",
	"@every", "@every 0s", "@every 1h", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
	"@midnight", "@hourly", "@reboot", "* * * * * *", "0 * * * * *", "*/5 * * * * *",
	"0 0 12 * * mon-fri", "0 30 9 1,15 * *", "0 0 0 29 2 *", "0 0 0 30 2 *", "0 0 0 31 4 *",
	"0 0 0 * * 7", "60 * * * * *", "* 60 * * * *", "* * 24 * * *", "* * * 0 * *", "* * * * 13 *",
	"* * * * * * *", "* * * * *", "5-1 * * * * *", "1-2-3 * * * * *", "*/0 * * * * *",
	"1/2/3 * * * * *", "? ? ? ? ? ?", "0 0 0 ? * SUN", "0 0 0 * JAN-mar *", "0 0 0 l * *",
	"+5 * * * * *", "-1 * * * * *", "0 0 0 1 1 0", "0 0 0 13 * fri", "1,,2 * * * * *",
	"  0   0  *  *  *  *  ", "0\t0\t*\t*\t*\t*", "5/15 * * * * *", "* * * * * 0-6/2",
	"0 0 2 * * *", "0 30 2 * * *", "0 0 1 * * sun",
}

func TestPatternsAgainstServer(t *testing.T) {
	base := time.Now().Add(24 * time.Hour)
	zones := []string{"", "UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"}
	for _, z := range zones {
		var loc *time.Location
		if z != "" {
			l, err := time.LoadLocation(z)
			if err != nil {
				t.Skipf("no time zone data: %v", err)
			}
			loc = l
		}
		for _, p := range serverPatterns {
			for _, frac := range []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond} {
				comparePattern(t, p, loc, base.Truncate(time.Second).Add(frac).UnixNano())
			}
		}
	}
}

// TestDaylightSavingAgainstServer runs cron patterns across the clock changes of a zone.
func TestDaylightSavingAgainstServer(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	year := time.Now().Year() + 1
	for _, day := range []time.Time{
		time.Date(year, time.March, 25, 0, 0, 0, 0, loc),
		time.Date(year, time.October, 25, 0, 0, 0, 0, loc),
	} {
		for h := range 24 * 8 {
			ts := day.Add(time.Duration(h) * 37 * time.Minute).UnixNano()
			for _, p := range []string{"0 30 2 * * *", "0 0 * * * *", "0 0 3 * * *", "0 */20 1-3 * * *", "@daily"} {
				comparePattern(t, p, loc, ts)
			}
		}
	}
}

// TestRandomPatternsAgainstServer builds cron patterns from random fields.
func TestRandomPatternsAgainstServer(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2))
	atoms := []string{"*", "?", "0", "1", "5", "7", "12", "23", "31", "59", "60", "mon", "fri", "jan", "dec", "-", "/", ",", "1-5", "*/7", "3/4", "10-2"}
	base := time.Now().Add(24 * time.Hour).UnixNano()
	for range 3000 {
		p := ""
		for f := range 6 {
			if f > 0 {
				p += " "
			}
			for range 1 + r.IntN(3) {
				p += atoms[r.IntN(len(atoms))]
			}
		}
		comparePattern(t, p, nil, base+r.Int64N(int64(400*24*time.Hour)))
	}
}

// FuzzPatternAgainstServer holds arbitrary patterns, in UTC and in a zone, to the server's
// parser.
func FuzzPatternAgainstServer(f *testing.F) {
	for _, p := range serverPatterns {
		f.Add(p, int64(0), false)
	}
	base := time.Now().Add(24 * time.Hour).UnixNano()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		f.Skipf("no time zone data: %v", err)
	}
	f.Fuzz(func(t *testing.T, pattern string, offset int64, zoned bool) {
		var loc *time.Location
		if zoned {
			loc = ams
		}
		span := int64(10 * 365 * 24 * time.Hour)
		offset %= span
		if offset < 0 {
			offset += span
		}
		comparePattern(t, pattern, loc, base+offset)
	})
}

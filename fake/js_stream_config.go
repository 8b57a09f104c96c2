package fake

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/natskit/natskit/internal/subject"
)

const defaultDuplicates = 2 * time.Minute

// normalise fills in defaults as nats-server does and checks what it checks.
func normaliseStreamConfig(cfg *jetstream.StreamConfig) *apiError {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, ".*> \t\r\n/\\") {
		return jsStreamInvalidConfigF.err("stream name is required and can not contain '.', '*', '>'")
	}
	if cfg.MaxMsgs == 0 {
		cfg.MaxMsgs = -1
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	if cfg.MaxMsgsPerSubject == 0 {
		cfg.MaxMsgsPerSubject = -1
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 {
		cfg.MaxConsumers = -1
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > 1 {
		return jsStreamReplicasNotSupportedErr.err()
	}
	if cfg.Template != "" {
		// nats-server's stream config has no such field any more: its strict decoding refuses it.
		return jsInvalidJSONErr.err(errors.New(`json: unknown field "template_owner"`))
	}
	if cfg.MaxAge < 0 {
		return jsStreamInvalidConfigF.err("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < 100*time.Millisecond {
		return jsStreamInvalidConfigF.err("max age needs to be >= 100ms")
	}
	if cfg.Duplicates < 0 {
		return jsStreamInvalidConfigF.err("duplicates window can not be negative")
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		if cfg.MaxAge != 0 && cfg.MaxAge < defaultDuplicates {
			cfg.Duplicates = cfg.MaxAge
		} else {
			cfg.Duplicates = defaultDuplicates
		}
	}
	if cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge {
		return jsStreamInvalidConfigF.err("duplicates window can not be larger then max age")
	}
	if cfg.Duplicates > 0 && cfg.Duplicates < 100*time.Millisecond {
		return jsStreamInvalidConfigF.err("duplicates window needs to be >= 100ms")
	}
	if cfg.DenyPurge && cfg.AllowRollup {
		return jsStreamInvalidConfigF.err("roll-ups require the purge permission")
	}
	if cfg.AllowMsgCounter {
		switch {
		case cfg.Discard == jetstream.DiscardNew:
			return jsStreamInvalidConfigF.err("counter stream cannot use discard new")
		case cfg.AllowMsgTTL:
			return jsStreamInvalidConfigF.err("counter stream cannot use message TTLs")
		case cfg.AllowMsgSchedules:
			return jsStreamInvalidConfigF.err("counter stream cannot use message schedules")
		case cfg.Retention != jetstream.LimitsPolicy:
			return jsStreamInvalidConfigF.err("counter stream can only use limits retention")
		}
	}
	if cfg.DiscardNewPerSubject {
		if cfg.Discard != jetstream.DiscardNew {
			return jsStreamInvalidConfigF.err("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPerSubject <= 0 {
			return jsStreamInvalidConfigF.err("discard new per subject requires max msgs per subject > 0")
		}
	}
	if cfg.SubjectDeleteMarkerTTL < 0 {
		return jsStreamInvalidConfigF.err("subject delete marker TTL must not be negative")
	}
	if cfg.MirrorDirect && cfg.Mirror == nil {
		return jsStreamInvalidConfigF.err("stream has no mirror but does have mirror direct")
	}
	if cfg.AllowMsgSchedules {
		if cfg.Discard == jetstream.DiscardNew {
			return jsStreamInvalidConfigF.err("message scheduling cannot use discard new")
		}
		if !cfg.AllowRollup {
			// nats-server (not pedantic) turns on the rollups each schedule is stored with
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.PersistMode == jetstream.AsyncPersistMode && cfg.Storage != jetstream.FileStorage {
		return jsStreamInvalidConfigF.err("async persist mode is only supported on file storage")
	}
	if cfg.PersistMode == jetstream.AsyncPersistMode && cfg.AllowAtomicPublish {
		return jsStreamInvalidConfigF.err("async persist mode is not supported with atomic batch publish")
	}
	if e := checkMirrorConfig(cfg); e != nil {
		return e
	}
	if e := checkSourceConfig(cfg); e != nil {
		return e
	}
	if len(cfg.Subjects) == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	if e := checkStreamSubjects(cfg); e != nil {
		return e
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		if cfg.SubjectDeleteMarkerTTL < time.Second {
			return jsStreamInvalidConfigF.err("subject delete marker TTL must be at least 1 second")
		}
		// nats-server (not pedantic) turns on what markers need: TTLs, and rollups for the
		// Nats-Rollup: sub each marker carries
		cfg.AllowMsgTTL, cfg.AllowRollup, cfg.DenyPurge = true, true, false
	}
	if e := checkTransforms(cfg); e != nil {
		return e
	}
	if e := unsupportedStreamField(cfg); e != nil {
		return e
	}
	setStreamMetadata(cfg)
	return nil
}

// setStreamMetadata records the API level the stream requires, as nats-server does.
func setStreamMetadata(cfg *jetstream.StreamConfig) {
	if cfg.Metadata == nil {
		cfg.Metadata = make(map[string]string)
	}
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	level := 0
	if cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL > 0 {
		level = 1
	}
	if cfg.AllowMsgCounter || cfg.AllowMsgSchedules || cfg.AllowAtomicPublish {
		level = 2
	}
	if cfg.AllowBatchPublish {
		level = 4
	}
	cfg.Metadata["_nats.req.level"] = strconv.Itoa(level)
}

// withDynamicMetadata is cfg as the server reports it: with its version and API level.
func withDynamicMetadata(md map[string]string) map[string]string {
	out := make(map[string]string, len(md)+2)
	for k, v := range md {
		out[k] = v
	}
	out["_nats.ver"] = Version
	out["_nats.level"] = strconv.Itoa(jsAPILevel)
	return out
}

// subjectsCollide reports whether some subject matches both patterns.
func subjectsCollide(a, b string) bool { return subject.Collide(a, b) }

// checkStreamSubjects checks a stream's subjects one by one, each in nats-server's order.
func checkStreamSubjects(cfg *jetstream.StreamConfig) *apiError {
	seen := make(map[string]bool, len(cfg.Subjects))
	for i, s := range cfg.Subjects {
		if !subject.ValidPattern(s) {
			return jsStreamInvalidConfigF.err("invalid subject")
		}
		if seen[s] {
			return jsStreamInvalidConfigF.err("duplicate subjects detected")
		}
		if s == ">" && !cfg.NoAck {
			return jsStreamInvalidConfigF.err("capturing all subjects requires no-ack to be true")
		}
		if !cfg.NoAck {
			for _, api := range []string{"$JS.>", "$JSC.>", "$NRG.>"} {
				if subject.Collide(s, api) && !subject.SubsetMatch(s, "$JS.EVENT.>") {
					return jsStreamInvalidConfigF.err("subjects that overlap with jetstream api require no-ack to be true")
				}
			}
			if subject.Collide(s, "$SYS.>") && !subject.SubsetMatch(s, "$SYS.ACCOUNT.>") {
				return jsStreamInvalidConfigF.err("subjects that overlap with system api require no-ack to be true")
			}
		}
		for _, later := range cfg.Subjects[i+1:] {
			if subject.Collide(later, s) {
				return jsStreamInvalidConfigF.err("subject " + strconv.Quote(s) + " overlaps with " + strconv.Quote(later))
			}
		}
		seen[s] = true
	}
	return nil
}

// comparableConfig is cfg with what does not make two configs differ for an idempotent create.
func comparableConfig(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	cfg.Metadata = maps(cfg.Metadata)
	delete(cfg.Metadata, "_nats.ver")
	delete(cfg.Metadata, "_nats.level")
	if len(cfg.Metadata) == 0 {
		cfg.Metadata = nil
	}
	return cfg
}

func maps(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (j *jetStream) checkOverlap(cfg *jetstream.StreamConfig, self string) *apiError {
	for name, other := range j.streams {
		if name == self {
			continue
		}
		for _, a := range cfg.Subjects {
			for _, b := range other.cfg.Subjects {
				if subjectsCollide(a, b) {
					return jsStreamSubjectOverlapErr.err()
				}
			}
		}
	}
	return nil
}

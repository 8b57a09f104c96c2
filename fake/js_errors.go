package fake

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// apiError is a JetStream API error as it goes on the wire, in a response's "error" field.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description,omitempty"`
}

func (e *apiError) Error() string { return e.Description }

// A jsError is one entry of the fake's error table: an identifier, the code, the err_code and
// the description, in which err fills the {placeholders}. Every JetStream API error the fake
// sends comes from this table (a test parses the package to hold it so): nats-server's errors,
// checked against the server's own table, and the few of the fake's own, apart.
type jsError struct {
	id          string
	code        int
	errCode     int
	description string
}

// serverErrorTable and fakeErrorTable are the table's two sections, in declaration order.
var serverErrorTable, fakeErrorTable []*jsError

// serverErr declares an error of nats-server's table (server/errors.json): id is its identifier.
func serverErr(id string, code, errCode int, description string) *jsError {
	e := &jsError{id: id, code: code, errCode: errCode, description: description}
	serverErrorTable = append(serverErrorTable, e)
	return e
}

// fakeErr declares an error the fake sends that nats-server does not have, with an err_code
// outside the server's.
func fakeErr(id string, code, errCode int, description string) *jsError {
	e := &jsError{id: id, code: code, errCode: errCode, description: description}
	fakeErrorTable = append(fakeErrorTable, e)
	return e
}

// err is the error to send: the description with its placeholders filled, as the server's
// New...Error constructors fill them. args are the placeholders' values in the order of the
// constructor's arguments (the placeholders' names sorted: {err}, then {subject}); an error
// gives its text, a string itself, anything else %v.
func (e *jsError) err(args ...any) *apiError {
	var pairs []string
	for i, p := range e.placeholders() {
		if i >= len(args) {
			break
		}
		switch a := args[i].(type) {
		case string:
			pairs = append(pairs, p, a)
		case error:
			pairs = append(pairs, p, a.Error())
		default:
			pairs = append(pairs, p, fmt.Sprintf("%v", a))
		}
	}
	desc := e.description
	if len(pairs) > 0 {
		desc = strings.NewReplacer(pairs...).Replace(desc)
	}
	return &apiError{Code: e.code, ErrCode: e.errCode, Description: desc}
}

var placeholderRE = regexp.MustCompile(`\{\w+\}`)

// placeholders lists the description's distinct {name} placeholders, sorted.
func (e *jsError) placeholders() []string {
	var out []string
	for _, p := range placeholderRE.FindAllString(e.description, -1) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(a[1:len(a)-1], b[1:len(b)-1]) })
	return out
}

// injectedError is the error a FailJetStream fault answers with: the test's own, sent as given.
func injectedError(e jetstream.APIError) *apiError {
	return &apiError{Code: e.Code, ErrCode: int(e.ErrorCode), Description: e.Description}
}

// The fake's own errors: what nats-server never sends because it does not lack the feature.
// Their err_codes start at 19001, far from the server's (a test checks they never collide).
var (
	// fakeNotSupportedErrF refuses what the fake does not implement; feature names it ("stream
	// mirrors", "consumer field priority_groups", "$JS.API.STREAM.SNAPSHOT").
	fakeNotSupportedErrF = fakeErr("FakeNotSupportedErrF", 501, 19001, "{feature} is not supported by the fake")
)

// nats-server's errors, generated from its table: `go test ./fake -run TestErrorTable -update-errors`
// rewrites the block between the markers.
var (
	// BEGIN server errors
	jsAccountResourcesExceededErr                = serverErr("JSAccountResourcesExceededErr", 400, 10002, "resource limits exceeded for account")
	jsAtomicPublishContainsDuplicateMessageErr   = serverErr("JSAtomicPublishContainsDuplicateMessageErr", 400, 10201, "atomic publish batch contains duplicate message id")
	jsAtomicPublishDisabledErr                   = serverErr("JSAtomicPublishDisabledErr", 400, 10174, "atomic publish is disabled")
	jsAtomicPublishIncompleteBatchErr            = serverErr("JSAtomicPublishIncompleteBatchErr", 400, 10176, "atomic publish batch is incomplete")
	jsAtomicPublishInvalidBatchCommitErr         = serverErr("JSAtomicPublishInvalidBatchCommitErr", 400, 10200, "atomic publish batch commit is invalid")
	jsAtomicPublishInvalidBatchIDErr             = serverErr("JSAtomicPublishInvalidBatchIDErr", 400, 10179, "atomic publish batch ID is invalid")
	jsAtomicPublishMissingSeqErr                 = serverErr("JSAtomicPublishMissingSeqErr", 400, 10175, "atomic publish sequence is missing")
	jsAtomicPublishTooLargeBatchErrF             = serverErr("JSAtomicPublishTooLargeBatchErrF", 400, 10199, "atomic publish batch is too large: {size}")
	jsAtomicPublishTooManyInflight               = serverErr("JSAtomicPublishTooManyInflight", 429, 10210, "atomic publish too many inflight")
	jsAtomicPublishUnsupportedHeaderBatchErr     = serverErr("JSAtomicPublishUnsupportedHeaderBatchErr", 400, 10177, "atomic publish unsupported header used: {header}")
	jsBadRequestErr                              = serverErr("JSBadRequestErr", 400, 10003, "bad request")
	jsBatchPublishDisabledErr                    = serverErr("JSBatchPublishDisabledErr", 400, 10205, "batch publish is disabled")
	jsBatchPublishInvalidBatchIDErr              = serverErr("JSBatchPublishInvalidBatchIDErr", 400, 10207, "batch publish ID is invalid")
	jsBatchPublishInvalidPatternErr              = serverErr("JSBatchPublishInvalidPatternErr", 400, 10206, "batch publish pattern is invalid")
	jsBatchPublishTooManyInflight                = serverErr("JSBatchPublishTooManyInflight", 429, 10211, "batch publish too many inflight")
	jsBatchPublishUnknownBatchIDErr              = serverErr("JSBatchPublishUnknownBatchIDErr", 400, 10208, "batch publish ID unknown")
	jsClusterIncompleteErr                       = serverErr("JSClusterIncompleteErr", 503, 10004, "incomplete results")
	jsClusterNoPeersErrF                         = serverErr("JSClusterNoPeersErrF", 400, 10005, "{err}")
	jsClusterNotActiveErr                        = serverErr("JSClusterNotActiveErr", 500, 10006, "JetStream not in clustered mode")
	jsClusterNotAssignedErr                      = serverErr("JSClusterNotAssignedErr", 500, 10007, "JetStream cluster not assigned to this server")
	jsClusterNotAvailErr                         = serverErr("JSClusterNotAvailErr", 503, 10008, "JetStream system temporarily unavailable")
	jsClusterNotLeaderErr                        = serverErr("JSClusterNotLeaderErr", 500, 10009, "JetStream cluster can not handle request")
	jsClusterPeerNotMemberErr                    = serverErr("JSClusterPeerNotMemberErr", 400, 10040, "peer not a member")
	jsClusterRequiredErr                         = serverErr("JSClusterRequiredErr", 503, 10010, "JetStream clustering support required")
	jsClusterRescueErr                           = serverErr("JSClusterRescueErr", 400, 10224, "JetStream system rescue not applied: {err}")
	jsClusterServerMemberChangeInflightErr       = serverErr("JSClusterServerMemberChangeInflightErr", 400, 10202, "cluster member change is in progress")
	jsClusterServerNotMemberErr                  = serverErr("JSClusterServerNotMemberErr", 400, 10044, "server is not a member of the cluster")
	jsClusterTagsErr                             = serverErr("JSClusterTagsErr", 400, 10011, "tags placement not supported for operation")
	jsClusterUnSupportFeatureErr                 = serverErr("JSClusterUnSupportFeatureErr", 503, 10036, "not currently supported in clustered mode")
	jsConsumerAckFCRequiresFCErr                 = serverErr("JSConsumerAckFCRequiresFCErr", 400, 10219, "flow control ack policy requires flow control")
	jsConsumerAckFCRequiresMaxAckPendingErr      = serverErr("JSConsumerAckFCRequiresMaxAckPendingErr", 400, 10220, "flow control ack policy requires max ack pending")
	jsConsumerAckFCRequiresNoAckWaitErr          = serverErr("JSConsumerAckFCRequiresNoAckWaitErr", 400, 10221, "flow control ack policy requires unset ack wait")
	jsConsumerAckFCRequiresNoMaxDeliverErr       = serverErr("JSConsumerAckFCRequiresNoMaxDeliverErr", 400, 10222, "flow control ack policy requires unset max deliver")
	jsConsumerAckFCRequiresPushErr               = serverErr("JSConsumerAckFCRequiresPushErr", 400, 10218, "flow control ack policy requires a push based consumer")
	jsConsumerAckPolicyInvalidErr                = serverErr("JSConsumerAckPolicyInvalidErr", 400, 10181, "consumer ack policy invalid")
	jsConsumerAckWaitNegativeErr                 = serverErr("JSConsumerAckWaitNegativeErr", 400, 10183, "consumer ack wait needs to be positive")
	jsConsumerAlreadyExists                      = serverErr("JSConsumerAlreadyExists", 400, 10148, "consumer already exists")
	jsConsumerBackOffNegativeErr                 = serverErr("JSConsumerBackOffNegativeErr", 400, 10184, "consumer backoff needs to be positive")
	jsConsumerBadDurableNameErr                  = serverErr("JSConsumerBadDurableNameErr", 400, 10103, "durable name can not contain '.', '*', '>'")
	jsConsumerConfigRequiredErr                  = serverErr("JSConsumerConfigRequiredErr", 400, 10078, "consumer config required")
	jsConsumerCreateDurableAndNameMismatch       = serverErr("JSConsumerCreateDurableAndNameMismatch", 400, 10132, "Consumer Durable and Name have to be equal if both are provided")
	jsConsumerCreateErrF                         = serverErr("JSConsumerCreateErrF", 500, 10012, "{err}")
	jsConsumerCreateFilterSubjectMismatchErr     = serverErr("JSConsumerCreateFilterSubjectMismatchErr", 400, 10131, "Consumer create request did not match filtered subject from create subject")
	jsConsumerDeliverCycleErr                    = serverErr("JSConsumerDeliverCycleErr", 400, 10081, "consumer deliver subject forms a cycle")
	jsConsumerDeliverToWildcardsErr              = serverErr("JSConsumerDeliverToWildcardsErr", 400, 10079, "consumer deliver subject has wildcards")
	jsConsumerDescriptionTooLongErrF             = serverErr("JSConsumerDescriptionTooLongErrF", 400, 10107, "consumer description is too long, maximum allowed is {max}")
	jsConsumerDirectRequiresEphemeralErr         = serverErr("JSConsumerDirectRequiresEphemeralErr", 400, 10091, "consumer direct requires an ephemeral consumer")
	jsConsumerDirectRequiresPushErr              = serverErr("JSConsumerDirectRequiresPushErr", 400, 10090, "consumer direct requires a push based consumer")
	jsConsumerDoesNotExist                       = serverErr("JSConsumerDoesNotExist", 400, 10149, "consumer does not exist")
	jsConsumerDuplicateFilterSubjects            = serverErr("JSConsumerDuplicateFilterSubjects", 400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified")
	jsConsumerDurableNameNotInSubjectErr         = serverErr("JSConsumerDurableNameNotInSubjectErr", 400, 10016, "consumer expected to be durable but no durable name set in subject")
	jsConsumerDurableNameNotMatchSubjectErr      = serverErr("JSConsumerDurableNameNotMatchSubjectErr", 400, 10017, "consumer name in subject does not match durable name in request")
	jsConsumerDurableNameNotSetErr               = serverErr("JSConsumerDurableNameNotSetErr", 400, 10018, "consumer expected to be durable but a durable name was not set")
	jsConsumerEmptyFilter                        = serverErr("JSConsumerEmptyFilter", 400, 10139, "consumer filter in FilterSubjects cannot be empty")
	jsConsumerEmptyGroupName                     = serverErr("JSConsumerEmptyGroupName", 400, 10161, "Group name cannot be an empty string")
	jsConsumerEphemeralWithDurableInSubjectErr   = serverErr("JSConsumerEphemeralWithDurableInSubjectErr", 400, 10019, "consumer expected to be ephemeral but detected a durable name set in subject")
	jsConsumerEphemeralWithDurableNameErr        = serverErr("JSConsumerEphemeralWithDurableNameErr", 400, 10020, "consumer expected to be ephemeral but a durable name was set in request")
	jsConsumerExistingActiveErr                  = serverErr("JSConsumerExistingActiveErr", 400, 10105, "consumer already exists and is still active")
	jsConsumerFCRequiresPushErr                  = serverErr("JSConsumerFCRequiresPushErr", 400, 10089, "consumer flow control requires a push based consumer")
	jsConsumerFilterNotSubsetErr                 = serverErr("JSConsumerFilterNotSubsetErr", 400, 10093, "consumer filter subject is not a valid subset of the interest subjects")
	jsConsumerHBRequiresPushErr                  = serverErr("JSConsumerHBRequiresPushErr", 400, 10088, "consumer idle heartbeat requires a push based consumer")
	jsConsumerInactiveThresholdExcess            = serverErr("JSConsumerInactiveThresholdExcess", 400, 10153, "consumer inactive threshold exceeds system limit of {limit}")
	jsConsumerInvalidDeliverSubject              = serverErr("JSConsumerInvalidDeliverSubject", 400, 10112, "invalid push consumer deliver subject")
	jsConsumerInvalidGroupNameErr                = serverErr("JSConsumerInvalidGroupNameErr", 400, 10162, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters")
	jsConsumerInvalidPolicyErrF                  = serverErr("JSConsumerInvalidPolicyErrF", 400, 10094, "{err}")
	jsConsumerInvalidPriorityGroupErr            = serverErr("JSConsumerInvalidPriorityGroupErr", 400, 10160, "Provided priority group does not exist for this consumer")
	jsConsumerInvalidResetErr                    = serverErr("JSConsumerInvalidResetErr", 400, 10204, "invalid reset: {err}")
	jsConsumerInvalidSamplingErrF                = serverErr("JSConsumerInvalidSamplingErrF", 400, 10095, "failed to parse consumer sampling configuration: {err}")
	jsConsumerMaxDeliverBackoffErr               = serverErr("JSConsumerMaxDeliverBackoffErr", 400, 10116, "max deliver is required to be > length of backoff values")
	jsConsumerMaxPendingAckExcessErrF            = serverErr("JSConsumerMaxPendingAckExcessErrF", 400, 10121, "consumer max ack pending exceeds system limit of {limit}")
	jsConsumerMaxPendingAckPolicyRequiredErr     = serverErr("JSConsumerMaxPendingAckPolicyRequiredErr", 400, 10082, "consumer requires ack policy for max ack pending")
	jsConsumerMaxRequestBatchExceededF           = serverErr("JSConsumerMaxRequestBatchExceededF", 400, 10125, "consumer max request batch exceeds server limit of {limit}")
	jsConsumerMaxRequestBatchNegativeErr         = serverErr("JSConsumerMaxRequestBatchNegativeErr", 400, 10114, "consumer max request batch needs to be > 0")
	jsConsumerMaxRequestExpiresTooSmall          = serverErr("JSConsumerMaxRequestExpiresTooSmall", 400, 10115, "consumer max request expires needs to be >= 1ms")
	jsConsumerMaxWaitingNegativeErr              = serverErr("JSConsumerMaxWaitingNegativeErr", 400, 10087, "consumer max waiting needs to be positive")
	jsConsumerMetadataLengthErrF                 = serverErr("JSConsumerMetadataLengthErrF", 400, 10135, "consumer metadata exceeds maximum size of {limit}")
	jsConsumerMultipleFiltersNotAllowed          = serverErr("JSConsumerMultipleFiltersNotAllowed", 400, 10137, "consumer with multiple subject filters cannot use subject based API")
	jsConsumerNameContainsPathSeparatorsErr      = serverErr("JSConsumerNameContainsPathSeparatorsErr", 400, 10127, "Consumer name can not contain path separators")
	jsConsumerNameExistErr                       = serverErr("JSConsumerNameExistErr", 400, 10013, "consumer name already in use")
	jsConsumerNameTooLongErrF                    = serverErr("JSConsumerNameTooLongErrF", 400, 10102, "consumer name is too long, maximum allowed is {max}")
	jsConsumerNotFoundErr                        = serverErr("JSConsumerNotFoundErr", 404, 10014, "consumer not found")
	jsConsumerOfflineErr                         = serverErr("JSConsumerOfflineErr", 500, 10119, "consumer is offline")
	jsConsumerOfflineReasonErrF                  = serverErr("JSConsumerOfflineReasonErrF", 500, 10195, "consumer is offline: {err}")
	jsConsumerOnMappedErr                        = serverErr("JSConsumerOnMappedErr", 400, 10092, "consumer direct on a mapped consumer")
	jsConsumerOverlappingSubjectFilters          = serverErr("JSConsumerOverlappingSubjectFilters", 400, 10138, "consumer subject filters cannot overlap")
	jsConsumerPinnedTTLWithoutPriorityPolicyNone = serverErr("JSConsumerPinnedTTLWithoutPriorityPolicyNone", 400, 10197, "PinnedTTL cannot be set when PriorityPolicy is none")
	jsConsumerPriorityGroupWithPolicyNone        = serverErr("JSConsumerPriorityGroupWithPolicyNone", 400, 10196, "consumer can not have priority groups when policy is none")
	jsConsumerPriorityPolicyWithoutGroup         = serverErr("JSConsumerPriorityPolicyWithoutGroup", 400, 10159, "Setting PriorityPolicy requires at least one PriorityGroup to be set")
	jsConsumerPullNotDurableErr                  = serverErr("JSConsumerPullNotDurableErr", 400, 10085, "consumer in pull mode requires a durable name")
	jsConsumerPullRequiresAckErr                 = serverErr("JSConsumerPullRequiresAckErr", 400, 10084, "consumer in pull mode requires explicit ack policy on workqueue stream")
	jsConsumerPullWithRateLimitErr               = serverErr("JSConsumerPullWithRateLimitErr", 400, 10086, "consumer in pull mode can not have rate limit set")
	jsConsumerPushMaxWaitingErr                  = serverErr("JSConsumerPushMaxWaitingErr", 400, 10080, "consumer in push mode can not set max waiting")
	jsConsumerPushWithPriorityGroupErr           = serverErr("JSConsumerPushWithPriorityGroupErr", 400, 10178, "priority groups can not be used with push consumers")
	jsConsumerReplacementWithDifferentNameErr    = serverErr("JSConsumerReplacementWithDifferentNameErr", 400, 10106, "consumer replacement durable config not the same")
	jsConsumerReplayPolicyInvalidErr             = serverErr("JSConsumerReplayPolicyInvalidErr", 400, 10182, "consumer replay policy invalid")
	jsConsumerReplicasExceedsStream              = serverErr("JSConsumerReplicasExceedsStream", 400, 10126, "consumer config replica count exceeds parent stream")
	jsConsumerReplicasShouldMatchStream          = serverErr("JSConsumerReplicasShouldMatchStream", 400, 10134, "consumer config replicas must match interest retention stream's replicas")
	jsConsumerSmallHeartbeatErr                  = serverErr("JSConsumerSmallHeartbeatErr", 400, 10083, "consumer idle heartbeat needs to be >= 100ms")
	jsConsumerStoreFailedErrF                    = serverErr("JSConsumerStoreFailedErrF", 500, 10104, "error creating store for consumer: {err}")
	jsConsumerStreamIdentityMismatchF            = serverErr("JSConsumerStreamIdentityMismatchF", 400, 10225, "consumer's stream identity does not match: {msg}")
	jsConsumerWQConsumerNotDeliverAllErr         = serverErr("JSConsumerWQConsumerNotDeliverAllErr", 400, 10101, "consumer must be deliver all on workqueue stream")
	jsConsumerWQConsumerNotUniqueErr             = serverErr("JSConsumerWQConsumerNotUniqueErr", 400, 10100, "filtered consumer not unique on workqueue stream")
	jsConsumerWQMultipleUnfilteredErr            = serverErr("JSConsumerWQMultipleUnfilteredErr", 400, 10099, "multiple non-filtered consumers not allowed on workqueue stream")
	jsConsumerWQRequiresExplicitAckErr           = serverErr("JSConsumerWQRequiresExplicitAckErr", 400, 10098, "workqueue stream requires explicit ack")
	jsConsumerWithFlowControlNeedsHeartbeats     = serverErr("JSConsumerWithFlowControlNeedsHeartbeats", 400, 10108, "consumer with flow control also needs heartbeats")
	jsInsufficientResourcesErr                   = serverErr("JSInsufficientResourcesErr", 503, 10023, "insufficient resources")
	jsInvalidJSONErr                             = serverErr("JSInvalidJSONErr", 400, 10025, "invalid JSON: {err}")
	jsMaximumConsumersLimitErr                   = serverErr("JSMaximumConsumersLimitErr", 400, 10026, "maximum consumers limit reached")
	jsMaximumStreamsLimitErr                     = serverErr("JSMaximumStreamsLimitErr", 400, 10027, "maximum number of streams reached")
	jsMemoryResourcesExceededErr                 = serverErr("JSMemoryResourcesExceededErr", 500, 10028, "insufficient memory resources available")
	jsMessageCounterBrokenErr                    = serverErr("JSMessageCounterBrokenErr", 400, 10172, "message counter is broken")
	jsMessageIncrDisabledErr                     = serverErr("JSMessageIncrDisabledErr", 400, 10168, "message counters is disabled")
	jsMessageIncrInvalidErr                      = serverErr("JSMessageIncrInvalidErr", 400, 10171, "message counter increment is invalid")
	jsMessageIncrMissingErr                      = serverErr("JSMessageIncrMissingErr", 400, 10169, "message counter increment is missing")
	jsMessageIncrPayloadErr                      = serverErr("JSMessageIncrPayloadErr", 400, 10170, "message counter has payload")
	jsMessageSchedulesDisabledErr                = serverErr("JSMessageSchedulesDisabledErr", 400, 10188, "message schedules is disabled")
	jsMessageSchedulesPatternInvalidErr          = serverErr("JSMessageSchedulesPatternInvalidErr", 400, 10189, "message schedules pattern is invalid")
	jsMessageSchedulesRollupInvalidErr           = serverErr("JSMessageSchedulesRollupInvalidErr", 400, 10192, "message schedules invalid rollup")
	jsMessageSchedulesSchedulerInvalidErr        = serverErr("JSMessageSchedulesSchedulerInvalidErr", 400, 10212, "message schedules invalid scheduler")
	jsMessageSchedulesSourceInvalidErr           = serverErr("JSMessageSchedulesSourceInvalidErr", 400, 10203, "message schedules source is invalid")
	jsMessageSchedulesTTLInvalidErr              = serverErr("JSMessageSchedulesTTLInvalidErr", 400, 10191, "message schedules invalid per-message TTL")
	jsMessageSchedulesTargetInvalidErr           = serverErr("JSMessageSchedulesTargetInvalidErr", 400, 10190, "message schedules target is invalid")
	jsMessageSchedulesTimeZoneInvalidErr         = serverErr("JSMessageSchedulesTimeZoneInvalidErr", 400, 10223, "message schedules time zone is invalid")
	jsMessageSourceHdrNotAllowedErr              = serverErr("JSMessageSourceHdrNotAllowedErr", 400, 10227, "message stream source header is not allowed")
	jsMessageTTLDisabledErr                      = serverErr("JSMessageTTLDisabledErr", 400, 10166, "per-message TTL is disabled")
	jsMessageTTLInvalidErr                       = serverErr("JSMessageTTLInvalidErr", 400, 10165, "invalid per-message TTL")
	jsMirrorConsumerRequiresAckFCErr             = serverErr("JSMirrorConsumerRequiresAckFCErr", 400, 10214, "stream mirror consumer requires flow control ack policy")
	jsMirrorConsumerSetupFailedErrF              = serverErr("JSMirrorConsumerSetupFailedErrF", 500, 10029, "{err}")
	jsMirrorDurableConsumerCfgInvalid            = serverErr("JSMirrorDurableConsumerCfgInvalid", 400, 10213, "stream mirror consumer config is invalid")
	jsMirrorInvalidStreamName                    = serverErr("JSMirrorInvalidStreamName", 400, 10142, "mirrored stream name is invalid")
	jsMirrorInvalidSubjectFilter                 = serverErr("JSMirrorInvalidSubjectFilter", 400, 10151, "mirror transform source: {err}")
	jsMirrorInvalidTransformDestination          = serverErr("JSMirrorInvalidTransformDestination", 400, 10154, "mirror transform: {err}")
	jsMirrorMaxMessageSizeTooBigErr              = serverErr("JSMirrorMaxMessageSizeTooBigErr", 400, 10030, "stream mirror must have max message size >= source")
	jsMirrorMultipleFiltersNotAllowed            = serverErr("JSMirrorMultipleFiltersNotAllowed", 400, 10150, "mirror with multiple subject transforms cannot also have a single subject filter")
	jsMirrorOverlappingSubjectFilters            = serverErr("JSMirrorOverlappingSubjectFilters", 400, 10152, "mirror subject filters can not overlap")
	jsMirrorWithAtomicPublishErr                 = serverErr("JSMirrorWithAtomicPublishErr", 400, 10198, "stream mirrors can not also use atomic publishing")
	jsMirrorWithBatchPublishErr                  = serverErr("JSMirrorWithBatchPublishErr", 400, 10209, "stream mirrors can not also use batch publishing")
	jsMirrorWithCountersErr                      = serverErr("JSMirrorWithCountersErr", 400, 10173, "stream mirrors can not also calculate counters")
	jsMirrorWithFirstSeqErr                      = serverErr("JSMirrorWithFirstSeqErr", 400, 10143, "stream mirrors can not have first sequence configured")
	jsMirrorWithMsgSchedulesErr                  = serverErr("JSMirrorWithMsgSchedulesErr", 400, 10186, "stream mirrors can not also schedule messages")
	jsMirrorWithSourcesErr                       = serverErr("JSMirrorWithSourcesErr", 400, 10031, "stream mirrors can not also contain other sources")
	jsMirrorWithStartSeqAndTimeErr               = serverErr("JSMirrorWithStartSeqAndTimeErr", 400, 10032, "stream mirrors can not have both start seq and start time configured")
	jsMirrorWithSubjectFiltersErr                = serverErr("JSMirrorWithSubjectFiltersErr", 400, 10033, "stream mirrors can not contain filtered subjects")
	jsMirrorWithSubjectsErr                      = serverErr("JSMirrorWithSubjectsErr", 400, 10034, "stream mirrors can not contain subjects")
	jsNoAccountErr                               = serverErr("JSNoAccountErr", 503, 10035, "account not found")
	jsNoLimitsErr                                = serverErr("JSNoLimitsErr", 400, 10120, "no JetStream default or applicable tiered limit present")
	jsNoMessageFoundErr                          = serverErr("JSNoMessageFoundErr", 404, 10037, "no message found")
	jsNotEmptyRequestErr                         = serverErr("JSNotEmptyRequestErr", 400, 10038, "expected an empty request payload")
	jsNotEnabledErr                              = serverErr("JSNotEnabledErr", 503, 10076, "JetStream not enabled")
	jsNotEnabledForAccountErr                    = serverErr("JSNotEnabledForAccountErr", 503, 10039, "JetStream not enabled for account")
	jsPedanticErrF                               = serverErr("JSPedanticErrF", 400, 10157, "pedantic mode: {err}")
	jsPeerRemapErr                               = serverErr("JSPeerRemapErr", 503, 10075, "peer remap failed")
	jsRaftGeneralErrF                            = serverErr("JSRaftGeneralErrF", 500, 10041, "{err}")
	jsReplicasCountCannotBeNegative              = serverErr("JSReplicasCountCannotBeNegative", 400, 10133, "replicas count cannot be negative")
	jsRequiredApiLevelErr                        = serverErr("JSRequiredApiLevelErr", 412, 10185, "JetStream minimum api level required")
	jsRestoreSubscribeFailedErrF                 = serverErr("JSRestoreSubscribeFailedErrF", 500, 10042, "JetStream unable to subscribe to restore snapshot {subject}: {err}")
	jsSequenceNotFoundErrF                       = serverErr("JSSequenceNotFoundErrF", 400, 10043, "sequence {seq} not found")
	jsSnapshotDeliverSubjectInvalidErr           = serverErr("JSSnapshotDeliverSubjectInvalidErr", 400, 10015, "deliver subject not valid")
	jsSourceConsumerFlowControlStalledErr        = serverErr("JSSourceConsumerFlowControlStalledErr", 500, 10228, "stream source consumer stalled on flow control")
	jsSourceConsumerRequiresAckFCErr             = serverErr("JSSourceConsumerRequiresAckFCErr", 400, 10217, "stream source consumer requires flow control ack policy")
	jsSourceConsumerSetupFailedErrF              = serverErr("JSSourceConsumerSetupFailedErrF", 500, 10045, "{err}")
	jsSourceDuplicateDetected                    = serverErr("JSSourceDuplicateDetected", 400, 10140, "duplicate source configuration detected")
	jsSourceDurableConsumerCfgInvalid            = serverErr("JSSourceDurableConsumerCfgInvalid", 400, 10215, "stream source consumer config is invalid")
	jsSourceDurableConsumerDuplicateDetected     = serverErr("JSSourceDurableConsumerDuplicateDetected", 400, 10216, "duplicate stream source consumer detected")
	jsSourceInvalidStreamName                    = serverErr("JSSourceInvalidStreamName", 400, 10141, "sourced stream name is invalid")
	jsSourceInvalidSubjectFilter                 = serverErr("JSSourceInvalidSubjectFilter", 400, 10145, "source transform source: {err}")
	jsSourceInvalidTransformDestination          = serverErr("JSSourceInvalidTransformDestination", 400, 10146, "source transform: {err}")
	jsSourceMaxMessageSizeTooBigErr              = serverErr("JSSourceMaxMessageSizeTooBigErr", 400, 10046, "stream source must have max message size >= target")
	jsSourceMultipleFiltersNotAllowed            = serverErr("JSSourceMultipleFiltersNotAllowed", 400, 10144, "source with multiple subject transforms cannot also have a single subject filter")
	jsSourceOverlappingSubjectFilters            = serverErr("JSSourceOverlappingSubjectFilters", 400, 10147, "source filters can not overlap")
	jsSourceWithMsgSchedulesErr                  = serverErr("JSSourceWithMsgSchedulesErr", 400, 10187, "stream source can not also schedule messages")
	jsStorageResourcesExceededErr                = serverErr("JSStorageResourcesExceededErr", 500, 10047, "insufficient storage resources available")
	jsStreamAssignmentErrF                       = serverErr("JSStreamAssignmentErrF", 500, 10048, "{err}")
	jsStreamCreateErrF                           = serverErr("JSStreamCreateErrF", 500, 10049, "{err}")
	jsStreamDeleteErrF                           = serverErr("JSStreamDeleteErrF", 500, 10050, "{err}")
	jsStreamDuplicateMessageConflict             = serverErr("JSStreamDuplicateMessageConflict", 409, 10158, "duplicate message id is in process")
	jsStreamExpectedLastSeqPerSubjectInvalid     = serverErr("JSStreamExpectedLastSeqPerSubjectInvalid", 400, 10193, "missing sequence for expected last sequence per subject")
	jsStreamExpectedLastSeqPerSubjectNotReady    = serverErr("JSStreamExpectedLastSeqPerSubjectNotReady", 503, 10163, "expected last sequence per subject temporarily unavailable")
	jsStreamExternalApiOverlapErrF               = serverErr("JSStreamExternalApiOverlapErrF", 400, 10021, "stream external api prefix {prefix} must not overlap with {subject}")
	jsStreamExternalDelPrefixOverlapsErrF        = serverErr("JSStreamExternalDelPrefixOverlapsErrF", 400, 10022, "stream external delivery prefix {prefix} overlaps with stream subject {subject}")
	jsStreamGeneralErrorF                        = serverErr("JSStreamGeneralErrorF", 500, 10051, "{err}")
	jsStreamHeaderExceedsMaximumErr              = serverErr("JSStreamHeaderExceedsMaximumErr", 400, 10097, "header size exceeds maximum allowed of 64k")
	jsStreamInfoMaxSubjectsErr                   = serverErr("JSStreamInfoMaxSubjectsErr", 500, 10117, "subject details would exceed maximum allowed")
	jsStreamInvalidConfigF                       = serverErr("JSStreamInvalidConfigF", 500, 10052, "{err}")
	jsStreamInvalidErr                           = serverErr("JSStreamInvalidErr", 500, 10096, "stream not valid")
	jsStreamInvalidExternalDeliverySubjErrF      = serverErr("JSStreamInvalidExternalDeliverySubjErrF", 400, 10024, "stream external delivery prefix {prefix} must not contain wildcards")
	jsStreamLimitsErrF                           = serverErr("JSStreamLimitsErrF", 500, 10053, "{err}")
	jsStreamMaxBytesRequired                     = serverErr("JSStreamMaxBytesRequired", 400, 10113, "account requires a stream config to have max bytes set")
	jsStreamMaxStreamBytesExceeded               = serverErr("JSStreamMaxStreamBytesExceeded", 400, 10122, "stream max bytes exceeds account limit max stream bytes")
	jsStreamMessageExceedsMaximumErr             = serverErr("JSStreamMessageExceedsMaximumErr", 400, 10054, "message size exceeds maximum allowed")
	jsStreamMinLastSeqErr                        = serverErr("JSStreamMinLastSeqErr", 412, 10180, "min last sequence")
	jsStreamMirrorNotUpdatableErr                = serverErr("JSStreamMirrorNotUpdatableErr", 400, 10055, "stream mirror configuration can not be updated")
	jsStreamMismatchErr                          = serverErr("JSStreamMismatchErr", 400, 10056, "stream name in subject does not match request")
	jsStreamMoveAndScaleErr                      = serverErr("JSStreamMoveAndScaleErr", 400, 10123, "can not move and scale a stream in a single update")
	jsStreamMoveInProgressErr                    = serverErr("JSStreamMoveInProgressErr", 400, 10124, "stream move already in progress")
	jsStreamMsgDeleteFailedF                     = serverErr("JSStreamMsgDeleteFailedF", 500, 10057, "{err}")
	jsStreamNameContainsPathSeparatorsErr        = serverErr("JSStreamNameContainsPathSeparatorsErr", 400, 10128, "Stream name can not contain path separators")
	jsStreamNameExistErr                         = serverErr("JSStreamNameExistErr", 400, 10058, "stream name already in use with a different configuration")
	jsStreamNameExistRestoreFailedErr            = serverErr("JSStreamNameExistRestoreFailedErr", 400, 10130, "stream name already in use, cannot restore")
	jsStreamNotFoundErr                          = serverErr("JSStreamNotFoundErr", 404, 10059, "stream not found")
	jsStreamNotMatchErr                          = serverErr("JSStreamNotMatchErr", 400, 10060, "expected stream does not match")
	jsStreamOfflineErr                           = serverErr("JSStreamOfflineErr", 500, 10118, "stream is offline")
	jsStreamOfflineReasonErrF                    = serverErr("JSStreamOfflineReasonErrF", 500, 10194, "stream is offline: {err}")
	jsStreamPurgeFailedF                         = serverErr("JSStreamPurgeFailedF", 500, 10110, "{err}")
	jsStreamReconfigureInProgressErr             = serverErr("JSStreamReconfigureInProgressErr", 400, 10226, "stream reconfiguration already in progress")
	jsStreamReconfigureNotInProgressErr          = serverErr("JSStreamReconfigureNotInProgressErr", 400, 10129, "stream reconfiguration not in progress")
	jsStreamReplicasNotSupportedErr              = serverErr("JSStreamReplicasNotSupportedErr", 500, 10074, "replicas > 1 not supported in non-clustered mode")
	jsStreamReplicasNotUpdatableErr              = serverErr("JSStreamReplicasNotUpdatableErr", 400, 10061, "Replicas configuration can not be updated")
	jsStreamRestoreErrF                          = serverErr("JSStreamRestoreErrF", 500, 10062, "restore failed: {err}")
	jsStreamRollupFailedF                        = serverErr("JSStreamRollupFailedF", 500, 10111, "{err}")
	jsStreamSealedErr                            = serverErr("JSStreamSealedErr", 400, 10109, "invalid operation on sealed stream")
	jsStreamSequenceNotMatchErr                  = serverErr("JSStreamSequenceNotMatchErr", 503, 10063, "expected stream sequence does not match")
	jsStreamSnapshotErrF                         = serverErr("JSStreamSnapshotErrF", 500, 10064, "snapshot failed: {err}")
	jsStreamStoreFailedF                         = serverErr("JSStreamStoreFailedF", 503, 10077, "{err}")
	jsStreamSubjectOverlapErr                    = serverErr("JSStreamSubjectOverlapErr", 400, 10065, "subjects overlap with an existing stream")
	jsStreamTemplateCreateErrF                   = serverErr("JSStreamTemplateCreateErrF", 500, 10066, "{err}")
	jsStreamTemplateDeleteErrF                   = serverErr("JSStreamTemplateDeleteErrF", 500, 10067, "{err}")
	jsStreamTemplateNotFoundErr                  = serverErr("JSStreamTemplateNotFoundErr", 404, 10068, "template not found")
	jsStreamTooManyRequests                      = serverErr("JSStreamTooManyRequests", 429, 10167, "too many requests")
	jsStreamTransformInvalidDestination          = serverErr("JSStreamTransformInvalidDestination", 400, 10156, "stream transform: {err}")
	jsStreamTransformInvalidSource               = serverErr("JSStreamTransformInvalidSource", 400, 10155, "stream transform source: {err}")
	jsStreamUpdateErrF                           = serverErr("JSStreamUpdateErrF", 500, 10069, "{err}")
	jsStreamWrongLastMsgIDErrF                   = serverErr("JSStreamWrongLastMsgIDErrF", 400, 10070, "wrong last msg ID: {id}")
	jsStreamWrongLastSequenceConstantErr         = serverErr("JSStreamWrongLastSequenceConstantErr", 400, 10164, "wrong last sequence")
	jsStreamWrongLastSequenceErrF                = serverErr("JSStreamWrongLastSequenceErrF", 400, 10071, "wrong last sequence: {seq}")
	jsTempStorageFailedErr                       = serverErr("JSTempStorageFailedErr", 500, 10072, "JetStream unable to open temp storage for restore")
	jsTemplateNameNotMatchSubjectErr             = serverErr("JSTemplateNameNotMatchSubjectErr", 400, 10073, "template name in subject does not match request")
	// END server errors
)

package fake

import "strconv"

type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description,omitempty"`
}

func (e *apiError) Error() string { return e.Description }

func jsErr(code, errCode int, desc string) *apiError {
	return &apiError{Code: code, ErrCode: errCode, Description: desc}
}

var (
	errStreamNotFound      = jsErr(404, 10059, "stream not found")
	errStreamNameExist     = jsErr(400, 10058, "stream name already in use with a different configuration")
	errSubjectOverlap      = jsErr(400, 10065, "subjects overlap with an existing stream")
	errConsumerNotFound    = jsErr(404, 10014, "consumer not found")
	errConsumerExists      = jsErr(400, 10148, "consumer already exists")
	errConsumerNotExist    = jsErr(400, 10149, "consumer does not exist")
	errNoMessageFound      = jsErr(404, 10037, "no message found")
	errBadRequest          = jsErr(400, 10003, "bad request")
	errStreamMismatch      = jsErr(400, 10056, "stream name in subject does not match request")
	errConsumerCfgMissing  = jsErr(400, 10078, "consumer config required")
	errStreamNotMatch      = jsErr(400, 10060, "expected stream does not match")
	errMsgTooBig           = jsErr(400, 10054, "message size exceeds maximum allowed")
	errWQMultiUnfiltered   = jsErr(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream")
	errWQNotUnique         = jsErr(400, 10100, "filtered consumer not unique on workqueue stream")
	errWQExplicitAck       = jsErr(400, 10098, "workqueue stream requires explicit ack")
	errMaxDeliverBackoff   = jsErr(400, 10116, "max deliver is required to be > length of backoff values")
	errDurableNameMismatch = jsErr(400, 10132, "Consumer Durable and Name have to be equal if both are provided")
	errDuplicateFilters    = jsErr(400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified")
	errOverlappingFilters  = jsErr(400, 10138, "consumer subject filters cannot overlap")
	errEmptyFilter         = jsErr(400, 10139, "consumer filter in FilterSubjects cannot be empty")
	errMultipleFiltersAPI  = jsErr(400, 10137, "consumer with multiple subject filters cannot use subject based API")
	errSmallHeartbeat      = jsErr(400, 10083, "consumer idle heartbeat needs to be >= 100ms")
	errHBRequiresPush      = jsErr(400, 10088, "consumer idle heartbeat requires a push based consumer")
	errFCRequiresPush      = jsErr(400, 10089, "consumer flow control requires a push based consumer")
	errDeliverWildcards    = jsErr(400, 10079, "consumer deliver subject has wildcards")
	errPushMaxWaiting      = jsErr(400, 10080, "consumer in push mode can not set max waiting")
	errMaxPendingAckNone   = jsErr(400, 10082, "consumer requires ack policy for max ack pending")
	errTTLDisabled         = jsErr(400, 10166, "per-message TTL is disabled")
	errTTLInvalid          = jsErr(400, 10165, "invalid per-message TTL")
)

func errInvalidJSON(err error) *apiError {
	return jsErr(400, 10025, "invalid JSON: "+err.Error())
}

func errWrongLastSeq(seq uint64) *apiError {
	return jsErr(400, 10071, "wrong last sequence: "+strconv.FormatUint(seq, 10))
}

func errStoreFailed(desc string) *apiError { return jsErr(503, 10077, desc) }

func errInvalidConfig(desc string) *apiError { return jsErr(500, 10052, desc) }

package fake

import "github.com/nats-io/nats.go/jetstream"

type accountInfoResp struct {
	apiHead
	Memory          uint64        `json:"memory"`
	Storage         uint64        `json:"storage"`
	ReservedMemory  uint64        `json:"reserved_memory"`
	ReservedStorage uint64        `json:"reserved_storage"`
	Streams         int           `json:"streams"`
	Consumers       int           `json:"consumers"`
	Limits          accountLimits `json:"limits"`
	API             apiStats      `json:"api"`
}

type accountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStorage           int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StorageMaxStreamByte int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

type apiStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

func (j *jetStream) accountInfo(reply string) {
	r := accountInfoResp{
		apiHead: apiHead{Type: typePrefix + "account_info_response"},
		Limits: accountLimits{MaxMemory: -1, MaxStorage: -1, MaxStreams: -1, MaxConsumers: -1,
			MaxAckPending: -1, MemoryMaxStreamBytes: -1, StorageMaxStreamByte: -1},
		API: apiStats{Level: jsAPILevel, Total: j.api.total, Errors: j.api.errors},
	}
	for _, st := range j.streams {
		r.Streams++
		r.Consumers += len(st.consumers)
		if st.cfg.Storage == jetstream.MemoryStorage {
			r.Memory += st.bytes
		} else {
			r.Storage += st.bytes
		}
	}
	j.reply(reply, r)
}

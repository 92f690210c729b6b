/**
 * What the Transport puts on the wire: @aureon/consensus's own RLP codecs for consensus messages
 * and block sync requests/responses (see its `types.ts`), so p2p never needs to understand a
 * message or a block and new message types travel without a p2p change.
 */
import {
  decodeBlockSyncRequest,
  decodeBlockSyncResponse,
  decodeConsensusMessage,
  encodeBlockSyncRequest,
  encodeBlockSyncResponse,
  encodeConsensusMessage,
} from '@aureon/consensus'

/** The codecs the node uses for consensus traffic. */
export const wire = {
  encodeConsensusMessage,
  decodeConsensusMessage,
  encodeBlockSyncRequest,
  decodeBlockSyncRequest,
  encodeBlockSyncResponse,
  decodeBlockSyncResponse,
}

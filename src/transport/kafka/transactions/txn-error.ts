import { errorCode } from '../client.js';

/**
 * What to do after a transactional call failed, from librdkafka's own
 * classification of the error (its `isFatal`, `isTxnRequiresAbort` and
 * `isRetriable` flags) and the error code, never its name or message:
 *  - `fenced`: another producer with the shard's transactional.id took over
 *    (its new owner called initTransactions): the shard is no longer ours,
 *    drop it and emit nothing more for it;
 *  - `fatal`: this producer cannot go on (and is not known to be fenced):
 *    build a new one with the same transactional.id, whose
 *    initTransactions aborts what the old one left open;
 *  - `abort`: the transaction cannot commit: abort it and send its content
 *    again in the next one;
 *  - `retry`: the call may be made again as it is (a commit that timed out:
 *    calling commit again is how librdkafka says to finish it; aborting
 *    after a timed-out commit can leave the producer in a fatal state).
 */
export type TxnErrorAction = 'fenced' | 'fatal' | 'abort' | 'retry';

/** librdkafka's codes that mean "fenced by a newer instance of this transactional.id". */
export const FENCED_CODES: ReadonlySet<number> = new Set([
  -144, // RD_KAFKA_RESP_ERR__FENCED: fenced by a newer instance
  90, // PRODUCER_FENCED
  47, // INVALID_PRODUCER_EPOCH (what older request versions return for the same)
]);

interface TxnFlags {
  isFatal?: boolean;
  isTxnRequiresAbort?: boolean;
  isRetriable?: boolean;
}

export function classifyTxnError(err: unknown): TxnErrorAction {
  const code = errorCode(err);
  if (typeof code === 'number' && FENCED_CODES.has(code)) return 'fenced';
  const f = (err ?? {}) as TxnFlags;
  if (f.isFatal === true) return 'fatal';
  if (f.isTxnRequiresAbort === true) return 'abort';
  if (f.isRetriable === true) return 'retry';
  // Not classified by librdkafka (a local state error, an unknown code): abort and start again; a failing abort rebuilds the producer.
  return 'abort';
}

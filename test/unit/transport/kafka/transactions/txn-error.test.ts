import { describe, expect, it } from 'vitest';
import { classifyTxnError } from '../../../../../src/transport/kafka/transactions/txn-error.js';

/** An error as the binding builds it (LibrdKafkaError: code and librdkafka's own flags). */
const err = (code: number, flags: { isFatal?: boolean; isTxnRequiresAbort?: boolean; isRetriable?: boolean } = {}): Error => Object.assign(new Error(`code ${code}`), { code, ...flags });

describe('classifyTxnError', () => {
  it('fenced by a newer instance, by code, whatever the flags say', () => {
    expect(classifyTxnError(err(-144, { isFatal: true }))).toBe('fenced'); // RD_KAFKA_RESP_ERR__FENCED
    expect(classifyTxnError(err(90))).toBe('fenced'); // PRODUCER_FENCED
    expect(classifyTxnError(err(47, { isTxnRequiresAbort: true }))).toBe('fenced'); // INVALID_PRODUCER_EPOCH
  });

  it('a fatal error that is not a fence: rebuild the producer', () => {
    expect(classifyTxnError(err(-150, { isFatal: true }))).toBe('fatal');
    expect(classifyTxnError(err(48, { isFatal: true, isTxnRequiresAbort: true }))).toBe('fatal');
  });

  it('abortable before retriable: a transaction librdkafka says must abort is aborted even when the call could be retried', () => {
    expect(classifyTxnError(err(22, { isTxnRequiresAbort: true, isRetriable: true }))).toBe('abort'); // ILLEGAL_GENERATION in sendOffsets
    expect(classifyTxnError(err(-185, { isRetriable: true }))).toBe('retry'); // a commit that timed out: commit again
  });

  it('anything unclassified (no flags, no code) is aborted', () => {
    expect(classifyTxnError(err(-172))).toBe('abort');
    expect(classifyTxnError(new Error('no code'))).toBe('abort');
    expect(classifyTxnError(undefined)).toBe('abort');
  });
});

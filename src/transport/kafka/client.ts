import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import { RunnerError } from '../../errors.js';
import type { KafkaConfig } from './kafka-config.js';

type KafkaLogger = KafkaJS.Logger;

/** librdkafka's log lines into pino (component `kafka`), at the level pino is set to. */
export function kafkaLogger(logger: Logger): KafkaLogger {
  const make = (l: Logger): KafkaLogger => ({
    info: (message, extra) => l.info(extra ?? {}, message),
    warn: (message, extra) => l.warn(extra ?? {}, message),
    error: (message, extra) => l.error(extra ?? {}, message),
    debug: (message, extra) => l.debug(extra ?? {}, message),
    namespace: (ns) => make(l.child({ kafka: ns })),
    setLogLevel: () => {},
  });
  return make(logger.child({ component: 'kafka' }));
}

/** Only this module and its siblings import the Kafka client. */
export function createKafka(c: KafkaConfig, logger: Logger): KafkaJS.Kafka {
  return new KafkaJS.Kafka({
    kafkaJS: { brokers: c.brokers, clientId: c.clientId, logger: kafkaLogger(logger), logLevel: KafkaJS.logLevel.WARN },
    ...c.librdkafka,
  });
}

/** Error codes of the client (KafkaJS-style `code` or librdkafka's numeric `code`): classify by code, not by flags. */
export function errorCode(err: unknown): string | number | undefined {
  const e = err as { code?: string | number; type?: string } | undefined;
  return e?.code ?? e?.type;
}

/** librdkafka codes that mean the topic (or partition) does not exist: retrying cannot help. */
const TOPIC_MISSING_CODES: ReadonlySet<number> = new Set([3 /* UNKNOWN_TOPIC_OR_PART */, -188 /* __UNKNOWN_TOPIC */, -190 /* __UNKNOWN_PARTITION */]);

/**
 * A client error as one of ours, classified by its code (the client's own
 * retriable/fatal flags are unreliable): a missing topic is KAFKA_TOPIC_MISSING
 * (not retryable), anything else KAFKA_UNAVAILABLE (retried).
 */
export function kafkaError(err: unknown, what: string): RunnerError {
  if (err instanceof RunnerError) return err;
  const code = errorCode(err);
  const message = `${what}: ${(err as Error)?.message ?? String(err)}`;
  if (typeof code === 'number' && TOPIC_MISSING_CODES.has(code)) return new RunnerError('KAFKA_TOPIC_MISSING', message, { cause: err, details: { kafka_code: code } });
  return new RunnerError('KAFKA_UNAVAILABLE', message, { cause: err, ...(code === undefined ? {} : { details: { kafka_code: code } }) });
}

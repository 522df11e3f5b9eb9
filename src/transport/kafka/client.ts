import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
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

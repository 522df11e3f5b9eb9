// The package is CommonJS: its low-level classes are on the default export only.
import kafkaClient, { type LibrdKafkaError, type Producer } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { KafkaConfig } from './kafka-config.js';

export type NativeProducer = Producer;
export type NativeOptions = Record<string, string | number | boolean>;

/** librdkafka's syslog severities (0 emerg … 7 debug) as pino levels. */
const SEVERITY: readonly ('error' | 'warn' | 'info' | 'debug')[] = ['error', 'error', 'error', 'error', 'warn', 'info', 'info', 'debug'];

/** librdkafka's own log level for our clients: warnings and worse unless the user sets `log_level`. */
const DEFAULT_LOG_LEVEL = 4;

/**
 * What every low-level client of the service shares: the brokers, the client
 * id, librdkafka's log level, then the user's `librdkafka` options (SASL,
 * TLS, ...), which win.
 */
export function nativeBaseOptions(c: KafkaConfig): NativeOptions {
  return { 'bootstrap.servers': c.brokers.join(','), 'client.id': c.clientId, log_level: DEFAULT_LOG_LEVEL, ...c.librdkafka };
}

/** librdkafka's log lines and client errors into pino (component `kafka`). */
function wireLogs(client: Producer, logger: Logger, role: string): void {
  const emitter = client as unknown as NodeJS.EventEmitter;
  const log = logger.child({ component: 'kafka', client: role });
  emitter.on('event.log', (e: { severity: number; fac: string; message: string }) => log[SEVERITY[e.severity] ?? 'info']({ fac: e.fac }, e.message));
  // Client-level errors (a broker down, all brokers down) are retried inside librdkafka: logged, not thrown.
  emitter.on('event.error', (err: LibrdKafkaError) => log.warn({ kafka_code: err.code, fatal: err.isFatal === true }, err.message));
}

export function createNativeProducer(options: NativeOptions, logger: Logger, role: string): Producer {
  const p = new kafkaClient.Producer(options as ConstructorParameters<typeof kafkaClient.Producer>[0]);
  wireLogs(p, logger, role);
  return p;
}

/** connect() as a promise: resolves when the client has its first metadata, rejects after `timeoutMs`. */
export function connectNative(client: Producer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => client.connect({ timeout: timeoutMs }, (err) => (err ? reject(err) : resolve())));
}

/** disconnect() as a promise; never rejects (a client that cannot say goodbye is gone anyway). */
export function disconnectNative(client: Producer): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    client.disconnect(() => resolve());
  });
}

/** librdkafka's error codes that the service acts on. */
export const ERR = {
  /** the producer's local queue is full (queue.buffering.max.messages/kbytes): wait for deliveries, then produce again */
  QUEUE_FULL: -184,
  /** a fatal error: the client cannot go on (idempotence broken, fenced) */
  FATAL: -150,
} as const;

// The package is CommonJS: its low-level classes are on the default export only.
import kafkaClient, { type KafkaConsumer, type LibrdKafkaError, type Message, type Producer } from '@confluentinc/kafka-javascript';
import type { Logger } from 'pino';
import type { KafkaConfig } from './kafka-config.js';

export type NativeProducer = Producer;
/** The low-level consumer, with the cooperative-protocol methods the binding has and its typings miss. */
export type NativeConsumer = KafkaConsumer & {
  /** the group's protocol ('NONE' once disconnected) */
  rebalanceProtocol(): 'EAGER' | 'COOPERATIVE' | 'NONE';
  /** inside a revocation: whether the assignment was lost (session expired) rather than given up */
  assignmentLost(): boolean;
  incrementalAssign(assignments: { topic: string; partition: number; offset?: number }[]): void;
  incrementalUnassign(assignments: { topic: string; partition: number }[]): void;
};
export type NativeMessage = Message;
export type NativeOptions = Record<string, string | number | boolean>;
type NativeClient = Producer | KafkaConsumer;

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
function wireLogs(client: NativeClient, logger: Logger, role: string): void {
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

/**
 * The callbacks a low-level consumer takes as options (functions, which
 * librdkafka's own option names cannot carry through `kafka.consumerOptions`).
 */
export interface NativeConsumerCallbacks {
  /** the group's rebalance callback: with it, the application assigns (see RebalanceSequencer) */
  rebalance: (err: LibrdKafkaError, assignment: { topic: string; partition: number }[]) => void;
  /** the broker's answer to each offset commit */
  offsetCommit?: (err: LibrdKafkaError | undefined, offsets: { topic: string; partition: number; offset?: number; error?: LibrdKafkaError }[]) => void;
  /**
   * Called when the consumer's queue turns non-empty (the binding's
   * `queue_non_empty_cb`, which its own KafkaJS layer uses the same way): what
   * lets a consume loop wait for messages without blocking a libuv thread.
   */
  queueNonEmpty?: () => void;
}

/** A low-level consumer; `options` are librdkafka's, `topicOptions` its topic-level ones (`auto.offset.reset`). */
export function createNativeConsumer(options: NativeOptions, topicOptions: NativeOptions, callbacks: NativeConsumerCallbacks, logger: Logger, role: string): NativeConsumer {
  const conf: Record<string, unknown> = { ...options, rebalance_cb: callbacks.rebalance };
  if (callbacks.offsetCommit !== undefined) conf['offset_commit_cb'] = callbacks.offsetCommit;
  if (callbacks.queueNonEmpty !== undefined) conf['queue_non_empty_cb'] = callbacks.queueNonEmpty;
  const c = new kafkaClient.KafkaConsumer(conf as ConstructorParameters<typeof kafkaClient.KafkaConsumer>[0], topicOptions);
  wireLogs(c, logger, role);
  return c as NativeConsumer;
}

/** connect() as a promise: resolves when the client has its first metadata (of `topic` only, when given), rejects after `timeoutMs`. */
export function connectNative(client: NativeClient, timeoutMs: number, topic?: string): Promise<void> {
  const metadata = topic === undefined ? { timeout: timeoutMs } : { timeout: timeoutMs, topic };
  return new Promise((resolve, reject) => (client as Producer).connect(metadata, (err) => (err ? reject(err) : resolve())));
}

/** disconnect() as a promise; never rejects (a client that cannot say goodbye is gone anyway). */
export function disconnectNative(client: NativeClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    (client as Producer).disconnect(() => resolve());
  });
}

/** librdkafka's error codes that the service acts on. */
export const ERR = {
  /** the producer's local queue is full (queue.buffering.max.messages/kbytes): wait for deliveries, then produce again */
  QUEUE_FULL: -184,
  /** a fatal error: the client cannot go on (idempotence broken, fenced) */
  FATAL: -150,
  /** the rebalance callback's "assign these partitions" */
  ASSIGN_PARTITIONS: -175,
  /** the rebalance callback's "give these partitions up" */
  REVOKE_PARTITIONS: -174,
  /** the broker refuses the group's session timeout (outside group.min/max.session.timeout.ms) */
  INVALID_SESSION_TIMEOUT: 26,
  /** a commit from a member of an older generation, or during a rebalance: the next commit sends it again */
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
} as const;

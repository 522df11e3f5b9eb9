/** Moved to src/async/event-queue.ts; kept for src/transport/kafka until it imports the new path. */
export * from '../async/event-queue.js';

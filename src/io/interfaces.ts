/** Moved to src/ports.ts; kept for src/transport/kafka until it imports the new path. */
export type * from '../ports.js';

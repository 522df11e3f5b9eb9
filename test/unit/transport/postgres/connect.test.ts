import { describe, expect, it } from 'vitest';
import { postgresError } from '../../../../src/transport/postgres/connect.js';

describe('postgresError: PostgreSQL errors classified by SQLSTATE', () => {
  const pg = (code: string, message: string): Error => Object.assign(new Error(message), { code });
  it('a missing table or database is DATABASE_SCHEMA_MISSING, refused credentials DATABASE_ACCESS_DENIED: neither retried', () => {
    const missing = postgresError(pg('42P01', 'relation "strategy_configurations" does not exist'), 'reading strategy configurations');
    expect(missing).toMatchObject({ code: 'DATABASE_SCHEMA_MISSING', retryable: false, details: { sqlstate: '42P01' } });
    expect(missing.message).toContain("run 'strategy-runner migrate'");
    expect(postgresError(pg('3D000', 'database "x" does not exist'), 'r').code).toBe('DATABASE_SCHEMA_MISSING');
    expect(postgresError(pg('28P01', 'password authentication failed'), 'r')).toMatchObject({ code: 'DATABASE_ACCESS_DENIED', retryable: false });
    expect(postgresError(pg('42501', 'permission denied for table strategy_configurations'), 'r').code).toBe('DATABASE_ACCESS_DENIED');
  });
  it('a connection refused, a timeout, a server shutting down: DATABASE_UNAVAILABLE, retried', () => {
    expect(postgresError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'r')).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(postgresError(pg('57P01', 'terminating connection due to administrator command'), 'r').code).toBe('DATABASE_UNAVAILABLE');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

describe('migrations', () => {
  it('create every table of the data model', async () => {
    const { rows } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'ab_verdicts', 'api_keys', 'assignment_cursors', 'campaign_versions', 'campaigns', 'consent_records',
        'email_engagements', 'email_sends', 'enrolments', 'events', 'handoff_events', 'handoffs', 'leads',
        'sales_pools', 'sales_reps', 'schema_migrations', 'stage_changes', 'suppressions',
      ]),
    );
  });

  it('are a no-op when run again on an up-to-date database', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    await migrate(db.url);
    await migrate(db.url);
    const after = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('enforce one address per lead and one send per idempotency key', async () => {
    await db.pool.query(`INSERT INTO leads (email, email_hash) VALUES ('a@example.com', 'h1')`);
    await expect(db.pool.query(`INSERT INTO leads (email, email_hash) VALUES ('A@example.com', 'h1')`)).rejects.toThrow(/duplicate key/);
    const send = `INSERT INTO email_sends (idempotency_key, message_id, message_key, kind, template, subject, status)
                  VALUES ('k1', $1, $2, 'step', 'welcome', 'Hi', 'queued')`;
    await db.pool.query(send, ['<m1@nurture>', 'm1']);
    await expect(db.pool.query(send, ['<m2@nurture>', 'm2'])).rejects.toThrow(/duplicate key/);
  });
});

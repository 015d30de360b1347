// Every text-like column of the schema is classified by the erasure plan (db/lead-records.ts):
// a new column that may hold personal data cannot be added without deciding what erasure does
// with it. The plan names no column that does not exist either.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ERASURE_PLAN } from '../../db/lead-records';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('classifies every text, JSON, address, array and binary column of the schema, and only those', async () => {
  const { rows } = await db.pool.query<{ column: string }>(
    `SELECT table_name || '.' || column_name AS column FROM information_schema.columns
     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'inet', 'cidr', 'ARRAY', 'bytea', 'USER-DEFINED', 'xml')
     ORDER BY 1`,
  );
  const schema = rows.map((row) => row.column);
  const planned = Object.entries(ERASURE_PLAN).flatMap(([table, columns]) => Object.keys(columns).map((column) => `${table}.${column}`)).sort();
  expect(schema.filter((column) => !planned.includes(column)), 'columns the erasure plan does not classify').toEqual([]);
  expect(planned.filter((column) => !schema.includes(column)), 'columns the plan names that the schema lacks').toEqual([]);
});

// Sales pools (manager, working calendar, routing rules), the reps handoffs are assigned to (what
// they cover, weight, capacity, own hours, absences) and their places in the weighted round robin.
import type { Person, RoutingRule } from '../campaign';
import type { RoutingRep } from '../campaign/sales-routing';
import type { WorkingHours } from '../campaign/sales-sla';
import type { Db } from './pool';

export interface SalesPool {
  name: string;
  managerName: string | null;
  managerEmail: string;
  timezone: string;
  workDays: number[];
  /** Minutes after midnight. */
  workStart: number;
  workEnd: number;
  /** A country whose public holidays the pool keeps (date-holidays code), or null. */
  holidays: string | null;
  holidayDates: string[];
  routing: RoutingRule[];
}

export type SalesPoolInput = Pick<SalesPool, 'name' | 'managerEmail'> & Partial<Omit<SalesPool, 'name' | 'managerEmail'>>;

export interface SalesRep {
  id: string;
  email: string;
  name: string;
  pool: string;
  territories: string[];
  products: string[];
  languages: string[];
  weight: number;
  capacity: number | null;
  timezone: string | null;
  workDays: number[] | null;
  workStart: number | null;
  workEnd: number | null;
  active: boolean;
  createdAt: Date;
}

export type SalesRepInput = Pick<SalesRep, 'email' | 'name' | 'pool'> & Partial<Omit<SalesRep, 'id' | 'email' | 'name' | 'pool' | 'createdAt'>>;
export type SalesRepChange = Partial<Omit<SalesRep, 'id' | 'createdAt'>>;

export interface Absence {
  id: number;
  repId: string;
  startsAt: Date;
  endsAt: Date;
  note: string | null;
}

const poolOf = (row: Record<string, any>): SalesPool => ({
  name: row.name,
  managerName: row.manager_name,
  managerEmail: row.manager_email,
  timezone: row.timezone,
  workDays: row.work_days,
  workStart: row.work_start,
  workEnd: row.work_end,
  holidays: row.holidays,
  holidayDates: row.holiday_list,
  routing: row.routing,
});

const repOf = (row: Record<string, any>): SalesRep => ({
  id: row.id,
  email: row.email,
  name: row.name,
  pool: row.pool,
  territories: row.territories,
  products: row.products,
  languages: row.languages,
  weight: row.weight,
  capacity: row.capacity,
  timezone: row.timezone,
  workDays: row.work_days,
  workStart: row.work_start,
  workEnd: row.work_end,
  active: row.active,
  createdAt: row.created_at,
});

const POOL_COLUMNS = {
  managerName: 'manager_name',
  managerEmail: 'manager_email',
  timezone: 'timezone',
  workDays: 'work_days',
  workStart: 'work_start',
  workEnd: 'work_end',
  holidays: 'holidays',
  holidayDates: 'holiday_dates',
  routing: 'routing',
} as const;

const REP_COLUMNS = {
  email: 'email',
  name: 'name',
  pool: 'pool',
  territories: 'territories',
  products: 'products',
  languages: 'languages',
  weight: 'weight',
  capacity: 'capacity',
  timezone: 'timezone',
  workDays: 'work_days',
  workStart: 'work_start',
  workEnd: 'work_end',
  active: 'active',
} as const;

const sqlValue = (key: string, value: unknown) => (key === 'routing' ? JSON.stringify(value) : key === 'email' ? String(value).toLowerCase() : value);

/** Creates the pool or changes the fields given; returns it and whether it was created. */
export async function upsertSalesPool(db: Db, pool: SalesPoolInput): Promise<{ pool: SalesPool; created: boolean }> {
  const fields = Object.entries(POOL_COLUMNS).filter(([key]) => (pool as Record<string, unknown>)[key] !== undefined);
  const values = fields.map(([key]) => sqlValue(key, (pool as Record<string, unknown>)[key]));
  const { rows } = await db.query(
    `INSERT INTO sales_pools (name, ${fields.map(([, column]) => column).join(', ')})
     VALUES ($1, ${fields.map((_, i) => `$${i + 2}`).join(', ')})
     ON CONFLICT (name) DO UPDATE SET ${fields.map(([, column]) => `${column} = EXCLUDED.${column}`).join(', ')}
     RETURNING *, holiday_dates::text[] AS holiday_list, (xmax = 0) AS created`,
    [pool.name, ...values],
  );
  return { pool: poolOf(rows[0]), created: rows[0].created };
}

export async function getSalesPool(db: Db, name: string): Promise<SalesPool | undefined> {
  const { rows } = await db.query('SELECT *, holiday_dates::text[] AS holiday_list FROM sales_pools WHERE name = $1', [name]);
  return rows[0] && poolOf(rows[0]);
}

export async function listSalesPools(db: Db): Promise<SalesPool[]> {
  const { rows } = await db.query('SELECT *, holiday_dates::text[] AS holiday_list FROM sales_pools ORDER BY name');
  return rows.map(poolOf);
}

/** Creates the rep, or (`upsert`) updates the fields given of the rep with that email; the turn order (created_at) is kept. */
export async function upsertSalesRep(db: Db, rep: SalesRepInput): Promise<{ rep: SalesRep; created: boolean }> {
  const fields = Object.entries(REP_COLUMNS).filter(([key]) => key !== 'email' && (rep as Record<string, unknown>)[key] !== undefined);
  const { rows } = await db.query(
    `INSERT INTO sales_reps (email, ${fields.map(([, column]) => column).join(', ')}, created_at)
     VALUES ($1, ${fields.map((_, i) => `$${i + 2}`).join(', ')}, clock_timestamp())
     ON CONFLICT (email) DO UPDATE SET ${fields.map(([, column]) => `${column} = EXCLUDED.${column}`).join(', ')}
     RETURNING *, (xmax = 0) AS created`,
    [rep.email.toLowerCase(), ...fields.map(([key]) => sqlValue(key, (rep as Record<string, unknown>)[key]))],
  );
  return { rep: repOf(rows[0]), created: rows[0].created };
}

/** Changes the fields given; undefined when there is no such rep. */
export async function updateSalesRep(db: Db, id: string, change: SalesRepChange): Promise<SalesRep | undefined> {
  const fields = Object.entries(REP_COLUMNS).filter(([key]) => (change as Record<string, unknown>)[key] !== undefined);
  if (fields.length === 0) return getSalesRep(db, id);
  const { rows } = await db.query(
    `UPDATE sales_reps SET ${fields.map(([, column], i) => `${column} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`,
    [id, ...fields.map(([key]) => sqlValue(key, (change as Record<string, unknown>)[key]))],
  );
  return rows[0] && repOf(rows[0]);
}

/** By id or email. */
export async function getSalesRep(db: Db, idOrEmail: string): Promise<SalesRep | undefined> {
  const { rows } = await db.query(
    `SELECT * FROM sales_reps WHERE id::text = $1 OR email = lower($1) LIMIT 1`,
    [idOrEmail],
  );
  return rows[0] && repOf(rows[0]);
}

export async function listSalesReps(db: Db, pool?: string): Promise<SalesRep[]> {
  const { rows } = await db.query('SELECT * FROM sales_reps WHERE ($1::text IS NULL OR pool = $1) ORDER BY pool, created_at, email', [pool ?? null]);
  return rows.map(repOf);
}

export async function addAbsence(db: Db, repId: string, absence: { startsAt: Date; endsAt: Date; note?: string }): Promise<Absence> {
  const { rows } = await db.query(
    'INSERT INTO sales_rep_absences (rep_id, starts_at, ends_at, note) VALUES ($1, $2, $3, $4) RETURNING *',
    [repId, absence.startsAt, absence.endsAt, absence.note ?? null],
  );
  return absenceOf(rows[0]);
}

/** The rep's absences that have not ended by `now`, earliest first. */
export async function currentAbsences(db: Db, repId: string, now: Date): Promise<Absence[]> {
  const { rows } = await db.query('SELECT * FROM sales_rep_absences WHERE rep_id = $1 AND ends_at > $2 ORDER BY starts_at', [repId, now]);
  return rows.map(absenceOf);
}

export async function deleteAbsence(db: Db, repId: string, absenceId: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sales_rep_absences WHERE rep_id = $1 AND id = $2', [repId, absenceId]);
  return Boolean(rowCount);
}

/** Ends now the absence under way (the rep is back early); planned later ones stay. Returns how many ended. */
export async function endAbsences(db: Db, repId: string, now: Date): Promise<number> {
  const { rowCount } = await db.query('UPDATE sales_rep_absences SET ends_at = $2 WHERE rep_id = $1 AND starts_at < $2 AND ends_at > $2', [repId, now]);
  return rowCount ?? 0;
}

/** SQL: the end of rep `r`'s absence under way at the instant parameter `now` (null when at work). */
export const AWAY_UNTIL = (now: string) => `(SELECT max(a.ends_at) FROM sales_rep_absences a WHERE a.rep_id = r.id AND a.starts_at <= ${now} AND a.ends_at > ${now})`;
/** SQL: the open handoffs (pending or accepted) rep `r` owns. */
const OPEN_HANDOFFS = `(SELECT count(*) FROM handoffs h WHERE h.owner_id = r.id AND h.status IN ('pending', 'accepted'))::int`;

const absenceOf = (row: Record<string, any>): Absence => ({ id: Number(row.id), repId: row.rep_id, startsAt: row.starts_at, endsAt: row.ends_at, note: row.note });

/** The pool's manager, or undefined when there is no such pool. */
export async function poolManager(db: Db, pool: string): Promise<Person | undefined> {
  const { rows } = await db.query('SELECT manager_name, manager_email FROM sales_pools WHERE name = $1', [pool]);
  return rows[0] && { name: rows[0].manager_name ?? 'Sales manager', email: rows[0].manager_email };
}

/**
 * Locks the pool for one assignment (concurrent handoffs to a pool take their turns one after
 * another) and returns its round-robin pass; undefined when there is no such pool.
 */
export async function lockPoolForRouting(db: Db, pool: string): Promise<{ pass: number; routing: RoutingRule[] } | undefined> {
  const { rows } = await db.query('SELECT pass, routing FROM sales_pools WHERE name = $1 FOR UPDATE', [pool]);
  return rows[0] && { pass: rows[0].pass, routing: rows[0].routing };
}

/** The pool's reps in team order, as routing sees them at `now`: open handoffs and the absence under way. */
export async function routingReps(db: Db, pool: string, now: Date): Promise<RoutingRep[]> {
  const { rows } = await db.query(
    `SELECT r.id, r.name, r.email, r.active, r.weight, r.capacity, r.pass, r.assigned_total, r.last_assigned_at,
            r.territories, r.products, r.languages,
            ${OPEN_HANDOFFS} AS open, ${AWAY_UNTIL('$2')} AS away_until
     FROM sales_reps r WHERE r.pool = $1 ORDER BY r.created_at, r.email`,
    [pool, now],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    email: row.email,
    active: row.active,
    weight: row.weight,
    capacity: row.capacity,
    open: row.open,
    awayUntil: row.away_until ? row.away_until.getTime() : null,
    pass: row.pass,
    assignedTotal: row.assigned_total,
    lastAssignedAt: row.last_assigned_at ? row.last_assigned_at.getTime() : null,
    territories: row.territories,
    products: row.products,
    languages: row.languages,
  }));
}

/** Records a choice of the round robin: the owner's new pass and count, the pool's pass. */
export async function recordTurn(db: Db, turn: { pool: string; poolPass: number; repId: string; repPass: number; at: Date }): Promise<void> {
  await db.query('UPDATE sales_pools SET pass = GREATEST(pass, $2) WHERE name = $1', [turn.pool, turn.poolPass]);
  await db.query('UPDATE sales_reps SET pass = $2, assigned_total = assigned_total + 1, last_assigned_at = $3 WHERE id = $1', [turn.repId, turn.repPass, turn.at]);
}

/** The working hours SLAs of the rep's handoffs run on: the rep's own where set, else the pool's. */
export async function workingHoursOf(db: Db, pool: string, repId: string | null): Promise<(Omit<WorkingHours, 'holidayDates'> & { holidays: string | null; holidayDates: string[] }) | undefined> {
  const { rows } = await db.query(
    `SELECT COALESCE(r.timezone, p.timezone) AS timezone, COALESCE(r.work_days, p.work_days) AS work_days,
            COALESCE(r.work_start, p.work_start) AS work_start, COALESCE(r.work_end, p.work_end) AS work_end,
            p.holidays, p.holiday_dates::text[] AS holiday_list
     FROM sales_pools p LEFT JOIN sales_reps r ON r.id = $2 AND r.pool = p.name WHERE p.name = $1`,
    [pool, repId],
  );
  const row = rows[0];
  return (
    row && {
      timezone: row.timezone,
      days: row.work_days,
      start: row.work_start,
      end: row.work_end,
      holidays: row.holidays,
      holidayDates: row.holiday_list,
    }
  );
}

/** Whether the rep is active and the end of the absence under way at `now` (ms); a rep who no longer exists is inactive. */
export async function repPresence(db: Db, repId: string, now: Date): Promise<{ active: boolean; awayUntil: number | null }> {
  const { rows } = await db.query(`SELECT r.active, ${AWAY_UNTIL('$2')} AS away_until FROM sales_reps r WHERE r.id = $1`, [repId, now]);
  const row = rows[0];
  return { active: Boolean(row?.active), awayUntil: row?.away_until ? row.away_until.getTime() : null };
}

// ——— enrolments before the sales desk (engine version 2 and earlier) ———

/** The pool's active reps in turn order; with a territory, only those covering it (case-insensitive). */
export async function activeReps(db: Db, pool: string, territory: string): Promise<(Person & { id: string })[]> {
  const { rows } = await db.query<Person & { id: string }>(
    `SELECT id, name, email FROM sales_reps
     WHERE pool = $1 AND active AND ($2 = '' OR $2 = ANY (SELECT lower(t) FROM unnest(territories) t))
     ORDER BY created_at, email`,
    [pool, territory],
  );
  return rows;
}

/**
 * The next turn of the pool's cursor for this territory ('' = the whole pool), from 0. One atomic
 * upsert, which also locks the cursor until the transaction ends, so concurrent handoffs take
 * distinct turns.
 */
export async function takeTurn(db: Db, pool: string, territory: string): Promise<number> {
  const { rows } = await db.query<{ turn: number }>(
    `INSERT INTO assignment_cursors (pool, territory, next_turn) VALUES ($1, $2, 1)
     ON CONFLICT (pool, territory) DO UPDATE SET next_turn = assignment_cursors.next_turn + 1
     RETURNING next_turn - 1 AS turn`,
    [pool, territory],
  );
  return rows[0]!.turn;
}

/** Each rep's open handoffs and the end of the absence under way (of the reps given, or all). */
export async function repLoads(db: Db, now: Date, repIds?: string[]): Promise<Map<string, { open: number; awayUntil: Date | null }>> {
  const { rows } = await db.query(
    `SELECT r.id,
            ${OPEN_HANDOFFS} AS open, ${AWAY_UNTIL('$1')} AS away_until
     FROM sales_reps r WHERE $2::uuid[] IS NULL OR r.id = ANY ($2::uuid[])`,
    [now, repIds ?? null],
  );
  return new Map(rows.map((row) => [row.id, { open: row.open, awayUntil: row.away_until }]));
}

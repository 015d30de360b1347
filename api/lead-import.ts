// CSV lead import, streamed: rows are parsed as they arrive and upserted in batches; a bad row is
// reported with its line and reason and never stops the good ones (nor undoes earlier batches).
//
// Columns (header row required, names case-insensitive): email (required), first_name,
// last_name, company, employees, role, region, country, timezone, consent (yes/no/empty),
// consent_purpose (default marketing_email); any other column becomes a text attribute.
// `company` and `employees` are stored as attributes.company.{name, employees}, the shape
// campaigns score on.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { IANAZone } from 'luxon';
import { recordConsent } from '../db/consent';
import { upsertLead } from '../db/leads';
import { inTransaction, type Pool } from '../db/pool';
import type { Engine } from './engine';

export interface ImportReport {
  imported: number;
  created: number;
  updated: number;
  rejected: number;
  /** The first `MAX_REPORTED_ERRORS` bad rows. */
  errors: { line: number; reason: string }[];
}

/** The largest CSV file an import takes. */
export const IMPORT_LIMIT = 50 * 1024 * 1024;
export const MAX_REPORTED_ERRORS = 1000;
const BATCH = 500;
const EMAIL = /^[^\s@",;<>()[\]\\]+@[^\s@",;<>()[\]\\]+\.[^\s@",;<>()[\]\\]+$/;
const ATTRIBUTE = /^[a-z_][a-z0-9_]{0,63}$/;
const PURPOSE = /^[a-z][a-z0-9_]{0,63}$/;

interface GoodRow {
  line: number;
  email: string;
  attributes: Record<string, unknown>;
  timezone: string | null;
  consent: { granted: boolean; purpose: string } | null;
}

/** One CSV record → a lead to upsert, or the reason it cannot be one. */
export function readRow(header: string[], values: string[], line: number): GoodRow | { line: number; reason: string } {
  if (values.length !== header.length) return { line, reason: `expected ${header.length} fields, found ${values.length}` };
  if (values.some((value) => value.includes('\u0000'))) return { line, reason: 'contains a NUL character' };
  const row = Object.fromEntries(header.map((name, index) => [name, values[index]!.trim()]));
  const email = row.email ?? '';
  if (!email) return { line, reason: 'email is empty' };
  if (email.length > 254 || !EMAIL.test(email)) return { line, reason: `email '${email.slice(0, 80)}' is not an email address` };
  const attributes: Record<string, unknown> = {};
  const company: Record<string, unknown> = {};
  if (row.company) company.name = row.company;
  if (row.employees) {
    if (!/^\d{1,9}$/.test(row.employees)) return { line, reason: `employees '${row.employees.slice(0, 40)}' is not a whole number` };
    company.employees = Number(row.employees);
  }
  if (Object.keys(company).length) attributes.company = company;
  if (row.timezone && !IANAZone.isValidZone(row.timezone)) return { line, reason: `timezone '${row.timezone.slice(0, 60)}' is not an IANA time zone` };
  let consent: GoodRow['consent'] = null;
  const purpose = row.consent_purpose || 'marketing_email';
  if (!PURPOSE.test(purpose)) return { line, reason: `consent_purpose '${purpose.slice(0, 60)}' is not a purpose name` };
  if (row.consent) {
    const answer = row.consent.toLowerCase();
    if (answer !== 'yes' && answer !== 'no') return { line, reason: `consent must be yes, no or empty, not '${row.consent.slice(0, 20)}'` };
    consent = { granted: answer === 'yes', purpose };
  }
  for (const [name, value] of Object.entries(row)) {
    if (['email', 'company', 'employees', 'timezone', 'consent', 'consent_purpose'].includes(name) || value === '') continue;
    attributes[name] = value;
  }
  return { line, email, attributes, timezone: row.timezone || null, consent };
}

export class ImportHeaderError extends Error {}

export async function importLeads(pool: Pool, engine: Engine, input: Readable, source = 'import'): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, created: 0, updated: 0, rejected: 0, errors: [] };
  const reject = (line: number, reason: string) => {
    report.rejected++;
    if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ line, reason });
  };
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: 64 * 1024,
    skip_records_with_error: true,
    info: true,
    on_skip: (error) => {
      if (error) reject(Number(error.lines ?? 0), `unreadable CSV: ${error.message}`);
      return undefined;
    },
  });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);

  let header: string[] | undefined;
  let batch: GoodRow[] = [];
  const changedConsent: { leadId: string; purpose: string; granted: boolean }[] = [];

  const flush = async () => {
    const rows = batch;
    batch = [];
    if (rows.length === 0) return;
    await inTransaction(pool, async (tx) => {
      for (const row of rows) {
        const { lead, created } = await upsertLead(tx, { email: row.email, attributes: row.attributes, timezone: row.timezone });
        if (created) report.created++;
        else report.updated++;
        if (row.consent) {
          await recordConsent(tx, { leadId: lead.id, ...row.consent, source, evidence: { import_line: row.line } });
          if (!created) changedConsent.push({ leadId: lead.id, ...row.consent });
        }
      }
    });
    report.imported += rows.length;
  };

  const readRecords = async () => {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((name) => name.trim().toLowerCase());
        const problem = headerProblem(header);
        if (problem) {
          input.unpipe(parser);
          input.resume(); // drain the rest of the upload unread
          throw new ImportHeaderError(problem);
        }
        continue;
      }
      const row = readRow(header, record, info.lines);
      if ('reason' in row) reject(row.line, row.reason);
      else batch.push(row);
      if (batch.length >= BATCH) await flush();
    }
  };

  try {
    await readRecords();
  } catch (error) {
    // csv-parse stops at what it cannot skip (e.g. a quote never closed); the rows before it stay.
    const csvError = error as { code?: unknown; lines?: number; message: string };
    if (typeof csvError.code !== 'string' || !csvError.code.startsWith('CSV_')) throw error;
    reject(csvError.lines ?? 0, `unreadable CSV, import stopped here: ${csvError.message}`);
  }
  if (!header) throw new ImportHeaderError('the file is empty: a header row naming the columns (at least email) is required');
  await flush();
  // Enrolled leads hear about consent decided by the file (new leads have no enrolments yet).
  for (const change of changedConsent) await engine.consentChanged(change.leadId, change.purpose, change.granted);
  return report;
}

function headerProblem(header: string[]): string | undefined {
  if (!header.includes('email')) return `the header row must name an 'email' column (found: ${header.join(', ').slice(0, 200)})`;
  const bad = header.find((name) => !ATTRIBUTE.test(name));
  if (bad !== undefined) return `column name '${bad.slice(0, 64)}' must be lower-case letters, digits and _`;
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) return `column '${name}' appears twice`;
    seen.add(name);
  }
  return undefined;
}

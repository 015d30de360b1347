// The names the data has used so far — event types received, lead attributes stored — which
// campaign validation compares a campaign's names with ("did you mean form.submitted?"). Read
// from a bounded sample, so that the cost does not grow with the tables: the latest 100,000
// events and 10,000 leads, at most 1,000 names each.
import type { Db } from './pool';

export async function seenEventTypes(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ type: string }>(
    `SELECT DISTINCT type FROM (SELECT type FROM events ORDER BY id DESC LIMIT 100000) recent ORDER BY type LIMIT 1000`,
  );
  return rows.map((row) => row.type);
}

/** Attribute names, with one level of nesting spelt as a path (company, company.name). */
export async function seenLeadAttributes(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT DISTINCT name FROM (SELECT attributes FROM leads WHERE erased_at IS NULL LIMIT 10000) sample,
            jsonb_each(sample.attributes) AS attribute,
            LATERAL (SELECT attribute.key
                     UNION ALL
                     SELECT attribute.key || '.' || nested
                     FROM jsonb_object_keys(CASE WHEN jsonb_typeof(attribute.value) = 'object' THEN attribute.value ELSE '{}'::jsonb END) AS nested) AS names (name)
     ORDER BY name LIMIT 1000`,
  );
  return rows.map((row) => row.name);
}

// `nurture launch <file>`: uploads a campaign file as a new version (the same content again is
// the same version) and launches the campaign; an already active campaign is left running.
// With `--segment <condition>` or `--leads <file.csv>` (the target may then be a campaign id) it
// also launches the campaign to those known leads and follows the launch with a progress bar.
import { readFile, stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { parse } from 'csv-parse/sync';
import { apiRequest, campaignPath, CliError, resolveApiConfig, runCommand, unexpected, type ApiConfig, type ApiOptions } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';

export interface LaunchOptions extends ApiOptions {
  segment?: string;
  leads?: string;
  perMinute?: number;
  /** false: print the launch and where to follow it, without waiting. */
  wait?: boolean;
  /** How often the progress is read (ms). */
  pollMs?: number;
}

interface LaunchView {
  id: number;
  status: 'running' | 'done' | 'cancelled';
  total: number;
  scanned: number;
  queued: number;
  skipped: Record<string, number>;
  enrolled: number;
  not_entered: Record<string, number>;
  complete: boolean;
  unknown_emails?: string[];
}

interface SavedVersion {
  id: string;
  version: number;
  content_hash: string;
  created: boolean;
  status: string;
}

/** Why `path` cannot be read as a file, or undefined when it can. */
const unreadable = (path: string) =>
  stat(path).then(
    (info) => (info.isFile() ? undefined : 'not a file'),
    (error: Error) => error.message,
  );

/** The leads of a CSV file with a header row: an `email` column, or an `id` (or `lead_id`) column. */
async function readLeadList(path: string): Promise<{ emails: string[] } | { lead_ids: string[] }> {
  let rows: Record<string, string>[];
  try {
    rows = parse(await readFile(path, 'utf8'), { columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.invalid);
  }
  const column = ['email', 'lead_id', 'id'].find((name) => rows[0] && name in rows[0]);
  if (!column) throw new CliError(`${path}: needs a header row with an email, lead_id or id column`, EXIT.invalid);
  const values = rows.map((row) => row[column]!).filter(Boolean);
  if (values.length === 0) throw new CliError(`${path}: no lead listed under ${column}`, EXIT.invalid);
  return column === 'email' ? { emails: values } : { lead_ids: values };
}

export async function launchCommand(target: string, options: LaunchOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const toLeads = options.segment !== undefined || options.leads !== undefined;
    if (options.segment !== undefined && options.leads !== undefined) throw new CliError('give --segment or --leads, not both', EXIT.usage);
    const audience = options.leads !== undefined ? await readLeadList(options.leads) : options.segment !== undefined ? { segment: options.segment } : undefined;
    let campaignId = target;
    const problem = await unreadable(target);
    if (!problem) {
      const uploaded = await uploadAndActivate(target, options, out, toLeads);
      if (typeof uploaded === 'number') return uploaded;
      campaignId = uploaded.id;
    } else if (!toLeads) {
      throw new CliError(`cannot read ${target}: ${problem}`, EXIT.invalid);
    }
    if (!audience) return EXIT.ok;
    return launchToLeads(await resolveApiConfig(options), campaignId, { ...audience, ...(options.perMinute ? { per_minute: options.perMinute } : {}) }, options, out);
  });
}

/** Uploads the file and activates its campaign: the campaign (or the exit code when refused). */
async function uploadAndActivate(file: string, options: ApiOptions, out: CommandOutput, toLeads: boolean): Promise<{ id: string } | number> {
  const text = await readFile(file, 'utf8');
  const config = await resolveApiConfig(options);

  // Sent as text, YAML or JSON alike: the API then parses it itself and gives each problem its line.
  const upload = await apiRequest(config, 'POST', '/campaigns', { body: text, contentType: 'application/yaml' });
  if (upload.status === 422 && upload.error) {
    const problems = Array.isArray(upload.error.details) ? (upload.error.details as { path: string; message: string; line?: number }[]) : [];
    for (const problem of problems) out.error(`${file}: ${problem.path}${problem.line ? ` (line ${problem.line})` : ''}: ${problem.message}`);
    out.error(`${file}: ${upload.error.message}; nothing was uploaded`);
    return EXIT.invalid;
  }
  if (upload.status !== 200 && upload.status !== 201) throw unexpected(config, `uploading ${file}`, upload);
  const saved = upload.body as SavedVersion;
  out.log(`campaign ${saved.id}: ${saved.created ? `uploaded as version ${saved.version}` : `version ${saved.version} already has this content; nothing new uploaded`}`);

  if (saved.status === 'active') {
    out.log(`campaign ${saved.id} is already active${toLeads ? '' : '; nothing to launch'}`);
    out.log(`id ${saved.id}  version ${saved.version}  status active`);
    return { id: saved.id };
  }
  const launch = await apiRequest(config, 'POST', campaignPath(saved.id, '/launch'));
  if (launch.status === 409 && launch.error) {
    // e.g. archived: the API says which status it is in and which it needs.
    throw new CliError(`cannot launch campaign ${saved.id}: ${launch.error.message}`, EXIT.invalid);
  }
  if (launch.status !== 200) throw unexpected(config, `launching campaign ${saved.id}`, launch);
  const row = launch.body as { status: string; current_version: number | null };
  // Content equal to an older version names that version but does not make it current again.
  if (row.current_version !== null && row.current_version !== saved.version) {
    out.error(`note: ${file} is version ${saved.version}, but the campaign runs its current version ${row.current_version}`);
  }
  out.log(`id ${saved.id}  version ${row.current_version ?? saved.version}  status ${row.status}`);
  return { id: saved.id };
}

const counted = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason.replaceAll('_', ' ')} ${n}`)
    .join(', ');

/** Starts the launch and, unless told not to wait, follows it to the end with a progress bar. */
async function launchToLeads(config: ApiConfig, campaignId: string, body: object, options: LaunchOptions, out: CommandOutput): Promise<number> {
  const response = await apiRequest(config, 'POST', campaignPath(campaignId, '/launches'), { body: JSON.stringify(body), contentType: 'application/json' });
  if (response.status === 404 && response.error?.code === 'not_found') {
    throw new CliError(`cannot launch campaign ${campaignId}: no such campaign at ${config.baseUrl} (upload it with: nurture launch <file>)`, EXIT.invalid);
  }
  if ((response.status === 400 || response.status === 409) && response.error) {
    throw new CliError(`cannot launch campaign ${campaignId} to these leads: ${response.error.message}`, EXIT.invalid);
  }
  if (response.status !== 202) throw unexpected(config, `launching campaign ${campaignId} to leads`, response);
  let launch = response.body as LaunchView;
  const progressPath = campaignPath(campaignId, `/launches/${launch.id}`);
  out.log(`launch ${launch.id} of campaign ${campaignId}: ${launch.total} candidate lead${launch.total === 1 ? '' : 's'}`);
  if (launch.unknown_emails?.length) out.error(`not a known lead (skipped): ${launch.unknown_emails.join(', ')}${launch.unknown_emails.length === 20 ? ' …' : ''}`);
  if (options.wait === false) {
    out.log(`follow it: GET /v1${progressPath}`);
    return EXIT.ok;
  }

  // A bar only for a person watching a terminal; logs and pipes get the summary at the end.
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: 'launch {id} [{bar}] {value}/{total} scanned · {queued} queued · {enrolled} enrolled', stream: process.stderr, hideCursor: true }, cliProgress.Presets.legacy)
    : undefined;
  bar?.start(launch.total, 0, { id: launch.id, queued: 0, enrolled: 0 });
  try {
    while (!launch.complete) {
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
      const progress = await apiRequest(config, 'GET', progressPath);
      if (progress.status !== 200) throw unexpected(config, `following launch ${launch.id}`, progress);
      launch = progress.body as LaunchView;
      bar?.update(launch.scanned, { queued: launch.queued, enrolled: launch.enrolled });
    }
  } finally {
    bar?.stop();
  }
  const skipped = counted(launch.skipped);
  const notEntered = counted(launch.not_entered);
  out.log(
    `launch ${launch.id} ${launch.status}: ${launch.scanned} scanned, ${launch.queued} queued, ${launch.enrolled} enrolled` +
      (skipped ? `; skipped: ${skipped}` : '') +
      (notEntered ? `; not entered: ${notEntered}` : ''),
  );
  return EXIT.ok;
}

// `nurture launch <file>`: uploads a campaign file as a new version (the same content again is
// the same version) and launches the campaign; an already active campaign is left running.
import { readFile } from 'node:fs/promises';
import { apiRequest, campaignPath, CliError, resolveApiConfig, runCommand, unexpected, type ApiOptions } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';

interface SavedVersion {
  id: string;
  version: number;
  content_hash: string;
  created: boolean;
  status: string;
}

export async function launchCommand(file: string, options: ApiOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.invalid);
    }
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
      out.log(`campaign ${saved.id} is already active; nothing to launch`);
      out.log(`id ${saved.id}  version ${saved.version}  status active`);
      return EXIT.ok;
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
    return EXIT.ok;
  });
}

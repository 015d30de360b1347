// `nurture pause <campaign-id>` and `nurture resume <campaign-id>`: running enrolments hold
// (pause) or carry on (resume). It takes effect at once for every email not yet sent; the API's
// fan-out tells every open enrolment of the campaign after the request, and this prints where to
// follow it.
import { apiRequest, campaignPath, CliError, resolveApiConfig, runCommand, unexpected, type ApiOptions } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';

export async function campaignStatusCommand(action: 'pause' | 'resume', campaignId: string, options: ApiOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await apiRequest(config, 'POST', campaignPath(campaignId, `/${action}`));
    if (response.status === 404 && response.error?.code === 'not_found') {
      throw new CliError(`cannot ${action} campaign ${campaignId}: no such campaign at ${config.baseUrl} (upload it with: nurture launch <file>)`, EXIT.invalid);
    }
    if (response.status === 409 && response.error) {
      // The API names the campaign's status and the one the action needs.
      const hint = action === 'pause' ? 'only an active campaign can be paused' : 'only a paused campaign can be resumed (a draft is started with nurture launch)';
      throw new CliError(`cannot ${action} campaign ${campaignId}: ${response.error.message} — ${hint}`, EXIT.invalid);
    }
    if (response.status !== 200) throw unexpected(config, `${action} campaign ${campaignId}`, response);
    const row = response.body as { id: string; status: string; current_version: number | null; fan_out?: { id: number; total: number } };
    out.log(`campaign ${row.id}: ${row.status}${row.current_version !== null ? ` (version ${row.current_version})` : ''}`);
    if (row.fan_out && row.fan_out.total > 0) {
      out.log(`telling its ${row.fan_out.total} running enrolments; progress: GET /v1${campaignPath(campaignId, `/fan-outs/${row.fan_out.id}`)}`);
    }
    return EXIT.ok;
  });
}

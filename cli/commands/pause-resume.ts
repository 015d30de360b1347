// `nurture pause <campaign-id>` and `nurture resume <campaign-id>`: running enrolments hold
// (pause) or carry on (resume); the API signals every open enrolment of the campaign.
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
    const row = response.body as { id: string; status: string; current_version: number | null };
    out.log(`campaign ${row.id}: ${row.status}${row.current_version !== null ? ` (version ${row.current_version})` : ''}`);
    return EXIT.ok;
  });
}

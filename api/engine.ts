// What the HTTP API needs from the workflow engine; `temporal-engine.ts` implements it on Temporal.
import type { CampaignStatus, SalesOutcome } from '../campaign';
import type { FanOut } from '../db/fanouts';

/** A request the engine refuses for a reason the caller should hear (HTTP 404 / 409). */
export class EngineRefusal extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'EngineRefusal';
  }
}

export interface Engine {
  enrol(campaignId: string, leadId: string): Promise<{ workflowId: string; alreadyEnrolled: boolean }>;
  exitEnrolment(workflowId: string, reason: string): Promise<void>;
  /** Ends a workflow from the server, without its worker (an erased lead's workflow cannot read its own data any more). */
  terminateEnrolment(workflowId: string, reason: string): Promise<void>;
  enrolmentState(workflowId: string): Promise<unknown | undefined>;
  consentChanged(leadId: string, purpose: string, granted: boolean): Promise<void>;
  /** Refused (EngineRefusal) when the handoff does not exist (not_found) or the workflow declines the answer (conflict). */
  salesResponse(handoffId: string, outcome: SalesOutcome, note?: string, recycleAt?: Date): Promise<void>;
  /**
   * Carries a campaign's status change (number `statusSeq`) to its open enrolments, outside the
   * caller's request: returns the fan-out whose progress the API shows.
   */
  campaignStatusChanged(campaignId: string, status: Exclude<CampaignStatus, 'draft'>, statusSeq: number): Promise<FanOut>;
  /** Moves the campaign's open enrolments (those on `fromVersion`, if given) to `toVersion`, outside the caller's request. */
  migrateCampaign(campaignId: string, toVersion: number, fromVersion?: number): Promise<FanOut>;
  /**
   * Moves a running enrolment to a version of its campaign (the current one when none is given).
   * Accepted once the workflow has queued it; refused (EngineRefusal) when the enrolment or the
   * version does not exist (not_found) or the workflow declines it, e.g. already on it (conflict).
   */
  migrateEnrolment(workflowId: string, version?: number): Promise<{ campaignVersion: number }>;
}

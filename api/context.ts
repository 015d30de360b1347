// What every route plugin is given.
import type { Pool } from '../db/pool';
import type { LinkSettings } from '../mail/links';
import type { PayloadEncryption } from '../runtime/payload-codec';
import type { Engine } from './engine';
import type { ApiMetrics } from './metrics';

export interface ApiContext {
  pool: Pool;
  engine: Engine;
  links: LinkSettings;
  metrics: ApiMetrics;
  /** The process's payload codec, when it talks to Temporal through one (see runtime/payload-codec.ts). */
  payloadCodec?: PayloadEncryption;
}

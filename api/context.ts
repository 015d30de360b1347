// What every route plugin is given.
import type { Pool } from '../db/pool';
import type { Engine } from './engine';
import type { ApiMetrics } from './metrics';

export interface ApiContext {
  pool: Pool;
  engine: Engine;
  links: { baseUrl: string; secret: string };
  metrics: ApiMetrics;
}

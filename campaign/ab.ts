// A/B assignment: a deterministic hash of (campaign, step, lead) picks a variant in proportion
// to the weights, so a lead always gets the same variant, in every worker and every replay.
import type { Variant } from './types';

/** FNV-1a, 32 bits: small, pure and well spread for short keys. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A number in [0, 1) fixed by the key. */
export function unitHash(key: string): number {
  return fnv1a(key) / 0x1_0000_0000;
}

export function assignVariant(campaignId: string, stepPath: string, leadId: string, variants: readonly Variant[]): Variant {
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  let point = unitHash(`${campaignId}|${stepPath}|${leadId}`) * total;
  for (const variant of variants) {
    point -= variant.weight;
    if (point < 0) return variant;
  }
  return variants[variants.length - 1]!;
}

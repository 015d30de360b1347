// JSON-schema fragments used by several route plugins.
export const uuidSchema = { type: 'string', format: 'uuid' } as const;
// No whitespace, so no header injection through an address.
export const emailSchema = { type: 'string', format: 'email', maxLength: 254 } as const;
export const attributesSchema = {
  type: 'object',
  maxProperties: 200,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
  description: 'lead attributes, merged over the stored ones; null removes a key',
} as const;
export const leadIdParams = { type: 'object', required: ['id'], properties: { id: uuidSchema } } as const;
export const anyObject = { type: 'object', additionalProperties: true } as const;
export const campaignIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

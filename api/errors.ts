// Every error leaves the API as `{ error: { code, message, details? } }`: 4xx say what was wrong
// and where; 5xx are logged and say only "internal error" (never a stack trace).
import type { FastifyError, FastifyInstance } from 'fastify';
import { EngineRefusal } from './engine';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} does not exist`);
export const conflict = (message: string, details?: unknown) => new ApiError(409, 'conflict', message, details);
export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'invalid_request', message, details);

export const errorSchema = {
  $id: 'ApiError',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
} as const;

/** A documented error status of a route: the shared error body, with what it means there (OpenAPI's description). */
export const errorResponse = (description: string) => ({ description, $ref: 'ApiError#' });

/** Response schemas of a route: its own plus the shared error body for every 4xx and 5xx. */
export function responses(own: Record<string, unknown>): Record<string, unknown> {
  return { ...own, '4xx': { $ref: 'ApiError#' }, '5xx': { $ref: 'ApiError#' } };
}

// Fastify's own client errors, by code, with the name we give them.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

export function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof EngineRefusal) return error.code === 'not_found' ? new ApiError(404, 'not_found', error.message) : new ApiError(409, 'conflict', error.message);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request';
    return new ApiError(
      400,
      'invalid_request',
      `${where}${fastifyError.validation[0]?.instancePath ?? ''} ${fastifyError.validation[0]?.message ?? 'is invalid'}`,
      fastifyError.validation.map((issue) => ({ path: `${where}${issue.instancePath}`, message: issue.message, params: issue.params })),
    );
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastifyError.code] ?? (status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : 'invalid_request');
    return new ApiError(status, code, error.message);
  }
  return new ApiError(500, 'internal', 'internal error');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error as FastifyError);
    if (apiError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    if (apiError.statusCode === 401) reply.header('www-authenticate', 'Bearer');
    const body: { code: string; message: string; details?: unknown } = { code: apiError.code, message: apiError.message };
    if (apiError.details !== undefined) body.details = apiError.details;
    return reply.status(apiError.statusCode).type('application/json; charset=utf-8').send({ error: body });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );
}

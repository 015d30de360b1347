// Checks JSON schemas cannot express, before validation: PostgreSQL refuses NUL characters in
// text and jsonb, and very deep nesting would exhaust a recursive serializer somewhere. Both
// are the client's fault, so they get a 400 naming where, not a 500.
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { badRequest } from './errors';

export const MAX_JSON_DEPTH = 32;

export function findBodyProblem(body: unknown): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: 'body', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return `${path} contains a NUL character`;
    } else if (value && typeof value === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `${path} is nested more than ${MAX_JSON_DEPTH} levels deep`;
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return `${path} has a key containing a NUL character`;
        stack.push({ value: child, path: Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

export async function checkBody(request: FastifyRequest): Promise<void> {
  if (request.body instanceof Readable) return; // a streamed upload (CSV) is checked as it is read
  const problem = findBodyProblem(request.body);
  if (problem) throw badRequest(problem);
}

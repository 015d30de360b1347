// The small HTTP client the `nurture` commands share: where the API is and which key to use
// (options, environment or the stack file of a running `npm start`), JSON error bodies turned
// into readable messages, and an unreachable API turned into exit code 3.
import { readLocalStack } from './local-stack';
import { EXIT, type CommandOutput } from './exit-codes';

/** A failure the command reports as one message and ends with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ApiOptions {
  apiUrl?: string;
  apiKey?: string;
}

export interface ApiConfig {
  /** The API's root, without a trailing slash and without /v1. */
  baseUrl: string;
  key: string;
  /** Where the URL and the key came from, so that an error can say which setting to fix. */
  urlFrom: string;
  keyFrom: string;
}

/** The API's error body: `{ error: { code, message, details? } }` (api/errors.ts). */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export interface ApiResponse {
  status: number;
  /** The parsed JSON body, or the text when the body is not JSON. */
  body: unknown;
  /** The API's error, when the body is one. */
  error?: ApiErrorBody;
}

/**
 * An explicit option wins over the environment (what the user typed for this one command),
 * the environment over the stack file of a running `npm start`.
 */
export async function resolveApiConfig(options: ApiOptions, env: NodeJS.ProcessEnv = process.env): Promise<ApiConfig> {
  let url: string | undefined;
  let urlFrom = '';
  let key: string | undefined;
  let keyFrom = '';
  if (options.apiUrl) [url, urlFrom] = [options.apiUrl, '--api-url'];
  else if (env.NURTURE_API_URL) [url, urlFrom] = [env.NURTURE_API_URL, 'NURTURE_API_URL'];
  if (options.apiKey) [key, keyFrom] = [options.apiKey, '--api-key'];
  else if (env.NURTURE_API_KEY) [key, keyFrom] = [env.NURTURE_API_KEY, 'NURTURE_API_KEY'];
  if (!url || !key) {
    let stack;
    try {
      stack = await readLocalStack(env);
    } catch (error) {
      throw new CliError((error as Error).message, EXIT.invalid);
    }
    if (stack && !url) [url, urlFrom] = [stack.apiUrl, 'the stack file of npm start'];
    if (stack && !key) [key, keyFrom] = [stack.apiKey, 'the stack file of npm start'];
  }
  if (!url) throw new CliError('no API URL: set NURTURE_API_URL, pass --api-url, or run the local stack with npm start', EXIT.unavailable);
  if (!key) throw new CliError('no API key: set NURTURE_API_KEY, pass --api-key, or run the local stack with npm start', EXIT.unavailable);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`the API URL '${url}' (from ${urlFrom}) is not a URL; expected e.g. http://localhost:3000`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`the API URL '${url}' (from ${urlFrom}) must start with http:// or https://`, EXIT.usage);
  }
  // Accept the root or the /v1 prefix: the paths below add /v1 themselves.
  const baseUrl = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { baseUrl, key, urlFrom, keyFrom };
}

export interface RequestOptions {
  body?: string | ReadableStream<Uint8Array>;
  contentType?: string;
}

/**
 * One request to `/v1<path>`. Any HTTP answer is returned (the caller decides what a 404 or a
 * 409 means for it); only a failure to talk to the API at all throws, with exit code 3.
 */
export async function apiRequest(config: ApiConfig, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const url = `${config.baseUrl}/v1${path}`;
  const headers: Record<string, string> = { authorization: `Bearer ${config.key}`, accept: 'application/json' };
  if (options.contentType) headers['content-type'] = options.contentType;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body,
      // A streamed body needs half-duplex in Node's fetch.
      ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    throw unreachable(config, error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw unreachable(config, error);
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's HTML page, say): kept as text for the message
  }
  const error = (body as { error?: ApiErrorBody } | undefined)?.error;
  const isError = error && typeof error === 'object' && typeof error.message === 'string';
  return { status: response.status, body, ...(isError ? { error } : {}) };
}

function unreachable(config: ApiConfig, error: unknown): CliError {
  // Node's fetch reports network failures as "fetch failed" with the socket error as the cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(`cannot reach the API at ${config.baseUrl} (from ${config.urlFrom}): ${why} — is the API running? (npm start)`, EXIT.unavailable);
}

/** A readable message for an answer the command did not expect, with the exit code it means. */
export function unexpected(config: ApiConfig, what: string, response: ApiResponse): CliError {
  const status = response.status;
  let message: string;
  if (response.error) {
    message = `${what}: ${response.error.message} (HTTP ${status} ${response.error.code})`;
    if (Array.isArray(response.error.details)) {
      for (const detail of response.error.details as { path?: string; message?: string }[]) {
        if (detail?.message) message += `\n  ${detail.path ?? ''}: ${detail.message}`;
      }
    }
  } else {
    const text = typeof response.body === 'string' ? response.body.replace(/\s+/g, ' ').slice(0, 200) : '';
    message = `${what}: HTTP ${status} from ${config.baseUrl}${text ? `: ${text}` : ''}`;
  }
  if (status === 401) message += `\n  check the API key (from ${config.keyFrom})`;
  if (status === 403) message += `\n  the API key (from ${config.keyFrom}) lacks the scope this needs; create one with: nurture api-key create --name <name> --scopes read,write`;
  // Bad gateway, unavailable, gateway timeout: the service is there but cannot serve now.
  const exitCode = status === 502 || status === 503 || status === 504 ? EXIT.unavailable : EXIT.invalid;
  return new CliError(message, exitCode);
}

/** Runs a command's body: a CliError becomes its message on stderr and its exit code. */
export async function runCommand(out: CommandOutput, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof CliError) {
      out.error(error.message);
      return error.exitCode;
    }
    throw error;
  }
}

/** `/campaigns/<id>` with the id escaped, so that an id with / or ? cannot reach another route. */
export const campaignPath = (id: string, rest = '') => `/campaigns/${encodeURIComponent(id)}${rest}`;

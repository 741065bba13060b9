// Every failure answers with one shape, {error: {code, message, details}}: a status the client
// can act on and a message that names the field at fault. Unexpected errors become a bare 500
// (logged with the request id); no stack trace ever leaves the process.
import { ApiError } from '../../../operator/src/runtime/client.ts';
import { field, numberField, stringField } from '../../../operator/src/shared/fields.ts';

export const ERROR_CODES = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  500: 'internal',
  502: 'upstream_error',
  503: 'unavailable',
  504: 'upstream_timeout',
} as const;

export type ErrorStatus = keyof typeof ERROR_CODES;

const isErrorStatus = (status: number): status is ErrorStatus => Object.hasOwn(ERROR_CODES, status);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class HttpError extends Error {
  readonly status: ErrorStatus;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(status: ErrorStatus, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const forbidden = (why: string) => new HttpError(403, why);

/** One issue of a rejected request, as `details` lists them. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** A 400 naming each field at fault (at least one: a client must learn what to fix). */
export const invalid = (message: string, issues: FieldIssue[]) => new HttpError(400, message, issues);

/** The API server's Status causes (field and message), when it rejected an object as Invalid. */
function apiCauses(details: unknown): FieldIssue[] {
  const causes = field(details, 'causes');
  if (!Array.isArray(causes)) return [];
  return causes.map((c) => ({
    path: stringField(c, 'field') ?? '',
    message: stringField(c, 'message') ?? '',
  }));
}

/** Maps any thrown value to the status and body to answer with. */
export function errorResponse(err: unknown): {
  status: ErrorStatus;
  body: ErrorBody;
  headers: Record<string, string>;
} {
  const make = (
    status: ErrorStatus,
    message: string,
    details?: unknown,
    headers: Record<string, string> = {},
  ) => ({
    status,
    headers,
    body: { error: { code: ERROR_CODES[status], message, ...(details === undefined ? {} : { details }) } },
  });
  if (err instanceof HttpError) return make(err.status, err.message, err.details, err.headers);
  if (err instanceof ApiError) {
    // The API server's verdicts on the request pass through; its own troubles are a 502.
    if (err.code === 404) return make(404, err.message);
    if (err.code === 409) return make(409, err.message);
    if (err.code === 422) return make(422, err.message, apiCauses(err.details));
    if (err.code === 400) {
      const causes = apiCauses(err.details);
      return make(400, err.message, causes.length ? causes : [{ path: 'body', message: err.message }]);
    }
    if (err.code === 403) return make(502, 'the shim is not allowed to do this in the cluster');
    if (err.code === 429)
      return make(503, 'the Kubernetes API is overloaded; try again', undefined, { 'retry-after': '1' });
    return make(502, 'the Kubernetes API failed');
  }
  if (err instanceof Error && err.name === 'TimeoutError')
    return make(504, 'the Kubernetes API did not answer in time');
  // Fastify's own 4xx errors (bad JSON, body too large, wrong content type) keep their status.
  const status = numberField(err, 'statusCode');
  if (status !== undefined && status >= 400 && status < 500 && isErrorStatus(status)) {
    const message = err instanceof Error ? err.message : String(err);
    // Fastify's own 400s are about the body it could not parse: name it, as every 400 names a field.
    return make(status, message, status === 400 ? [{ path: 'body', message }] : undefined);
  }
  return make(500, 'internal error');
}

/**
 * The one catalogue of errors. Domain code throws these (it never imports HTTP); the API's error
 * handler turns them into application/problem+json with the status and code given here.
 * docs/errors.md lists every code, and a test keeps the two in step.
 */

export interface FieldIssue {
  /** JSON-pointer-like path of the offending field, e.g. `/rows/0/age` or `target`. */
  readonly path: string;
  readonly message: string;
}

export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  BODY_NOT_JSON: { status: 400, title: 'The body is not valid JSON' },
  CSV_INVALID: { status: 400, title: 'The CSV file cannot be read' },
  DATASET_EMPTY: { status: 400, title: 'The dataset has no rows' },
  ENCODING_INVALID: { status: 400, title: 'The file is not in the declared or detected text encoding' },
  JSON_INVALID: { status: 400, title: 'The JSON file cannot be read as a table' },
  XLSX_INVALID: { status: 400, title: 'The Excel file cannot be read' },
  PARQUET_INVALID: { status: 400, title: 'The Parquet file cannot be read' },
  CAST_FAILED: { status: 422, title: 'A value cannot be converted to the requested column type' },
  TARGET_INVALID: { status: 400, title: 'The target column cannot be trained on' },
  PREDICTION_INPUT_INVALID: { status: 400, title: 'The prediction input does not match the model signature' },
  MODEL_INVALID: { status: 400, title: 'The uploaded file is not a valid ONNX model' },
  HOST_NOT_ALLOWED: { status: 400, title: 'The Host header is not one this server answers to' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  CSRF_FAILED: { status: 403, title: 'The CSRF token is missing or wrong' },
  FORBIDDEN: { status: 403, title: 'The caller may not do this' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  NAME_TAKEN: { status: 409, title: 'The name is already taken' },
  STATE_CONFLICT: { status: 409, title: 'The object is not in a state that allows this' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  TOO_MANY_ROWS: { status: 413, title: 'Too many rows in one request' },
  STORAGE_QUOTA_EXCEEDED: { status: 413, title: "The project's storage quota is used up" },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  QUOTA_EXCEEDED: { status: 429, title: "The project's quota of concurrent jobs is used up" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported' },
  MODEL_UNSUPPORTED: { status: 422, title: 'ONNX Runtime cannot run the uploaded model' },
  MODEL_NOT_READY: { status: 503, title: 'The model is not ready' },
  OVERLOADED: { status: 503, title: 'The model is busy; retry shortly' },
  INFERENCE_FAILED: { status: 500, title: 'The model failed while predicting' },
  INTERNAL: { status: 500, title: 'Internal error' },
  RULESET_INVALID: { status: 422, title: 'The rule set is not valid' },
  FOUR_EYES_REQUIRED: { status: 403, title: 'Another person must approve this' },
  RULES_EVALUATION_FAILED: { status: 422, title: 'The rules could not be evaluated' },
  SOURCE_UNREACHABLE: { status: 502, title: 'The source cannot be reached' },
  SOURCE_AUTH_FAILED: { status: 422, title: 'The source refused the credentials' },
  SOURCE_QUERY_REFUSED: { status: 400, title: 'Only a single read-only SELECT may be run on a source' },
  SOURCE_QUERY_FAILED: { status: 422, title: 'The source could not run the query' },
  SOURCE_TIMEOUT: { status: 504, title: 'The source took longer than the time limit' },
  SOURCE_TOO_LARGE: { status: 413, title: 'The source is larger than the configured limit' },
  URL_NOT_ALLOWED: { status: 400, title: 'The URL points to an address that may not be fetched' },
  URL_FETCH_FAILED: { status: 502, title: 'The URL could not be fetched' },
  ARCHIVE_INVALID: { status: 400, title: 'The zip archive cannot be imported' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly errors: readonly FieldIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
  }
}

/** A 400 naming one field. */
export function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}`, [{ path, message }]);
}

/** A 404 that reads the same whether the object does not exist or belongs to another project. */
export function notFound(kind: string, name: string): AppError {
  return new AppError('NOT_FOUND', `${kind} ${JSON.stringify(name)} was not found`);
}

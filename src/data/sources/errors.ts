import { AppError, type ErrorCode } from '../../errors/index.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'PROTOCOL_CONNECTION_LOST',
]);

/** The message of a driver error, with anything that looks like a password or URL credential removed. */
export function safeMessage(error: unknown, secrets: readonly (string | null | undefined)[] = []): string {
  let text = error instanceof Error ? error.message : String(error);
  for (const s of secrets) if (s) text = text.split(s).join('***');
  return text.replace(/\/\/[^/@\s:]*:[^/@\s]*@/g, '//***:***@').slice(0, 500);
}

export function sourceError(code: ErrorCode, detail: string, cause?: unknown): AppError {
  return new AppError(code, detail, [], cause === undefined ? undefined : { cause });
}

/** A network-level failure (before or while talking to the server), or undefined. */
export function networkError(
  error: unknown,
  where: string,
  secrets: readonly (string | null | undefined)[],
): AppError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code))
    return sourceError(
      'SOURCE_UNREACHABLE',
      `cannot reach ${where}: ${safeMessage(error, secrets)} (${code})`,
    );
  if (
    /timeout expired|connect ETIMEDOUT|Connection terminated due to connection timeout/i.test(
      safeMessage(error),
    )
  )
    return sourceError(
      'SOURCE_UNREACHABLE',
      `${where} did not answer in time: ${safeMessage(error, secrets)}`,
    );
  return undefined;
}

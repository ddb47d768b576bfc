import { ApiError, CliError } from './client.js';

/** What `mass` prints on stderr for a failed command: the server's detail, then each field error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const { problem } = error;
    let out = `mass: ${problem.detail}\n`;
    const issues = problem.errors ?? [];
    // A lone issue that is the detail word for word ("target: the dataset has no column ...") is not repeated.
    const repeated = issues.length === 1 && problem.detail === `${issues[0]!.path}: ${issues[0]!.message}`;
    if (!repeated) for (const issue of issues) out += `  ${issue.path}: ${issue.message}\n`;
    if (problem.status === 401) out += '  (check MASS_API_KEY or --key)\n';
    if (problem.status >= 500 && problem.requestId)
      out += `  (request id ${problem.requestId}: look it up in the server log)\n`;
    return out;
  }
  if (error instanceof CliError) return `mass: ${error.message}\n`;
  return `mass: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
}

import type { Logger } from '../platform/log.ts'

/**
 * Shows the admin token the first start created, once. It is written to stderr as plain text,
 * apart from the log and whatever LOG_LEVEL says (even `error` or `silent`), so that it is seen
 * once and never stored in a log line; the log says only that it was shown.
 */
export function showFirstToken (token: string, log: Logger, out: NodeJS.WritableStream = process.stderr): void {
  out.write(`\nno API token existed, so this admin token was created; it is shown only now:\n\n    ${token}\n\n` +
    '  Send it as `Authorization: Bearer <token>`. More tokens: `npm run --silent token -- create --owner <name> --role integration`\n' +
    '  (or createApiToken over GraphQL); set ADMIN_TOKEN to choose your own.\n\n')
  log.warn('no API token existed, so an admin token was created and printed to the terminal above (it is not in the log)')
}

import { parseArgs } from 'node:util'
import { ownerProblem, ROLES, type Role } from '../access/principal.ts'
import { createApiToken, listApiTokens, revokeApiTokenById } from '../access/tokens.ts'
import { ConfigError } from '../platform/configError.ts'
import { loadConfig } from '../config/config.ts'
import { DatabaseUnavailableError, openDatabase } from '../platform/db/database.ts'
import { EmbeddedPostgresError } from '../platform/db/embedded.ts'
import { migrate } from '../platform/db/migrate.ts'
import { createPool } from '../platform/db/pool.ts'
import { createLogger } from '../platform/log.ts'

/**
 * `npm run --silent token -- create --owner acme --role integration`: prints the new token alone on
 * stdout, once (only its hash is stored). `… token -- list` and `… token -- revoke <id>` too.
 * Uses DATABASE_URL, or the embedded database (joining the one a running `npm start` has started).
 */
const USAGE = 'usage: npm run --silent token -- create --owner <name> --role customer|integration|admin | list | revoke <id>'

class UsageError extends Error {}

try {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { owner: { type: 'string' }, role: { type: 'string' } }
  })
  const [command, id] = positionals
  if (command === 'create') {
    if (!values.owner?.trim()) throw new UsageError('--owner is required')
    if (!ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
    const problem = ownerProblem(values.owner.trim(), values.role!)
    if (problem !== null) throw new UsageError(problem)
  } else if (command === 'revoke') {
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('revoke needs the token id (see `list`)')
  } else if (command !== 'list') {
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is required')
  }

  const config = loadConfig()
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const database = await openDatabase(config, log)
  const pool = createPool(database.url, 1, 'order-ops-gateway:token', log)
  try {
    await migrate(pool, log)
    if (command === 'create') {
      const created = await createApiToken(pool, values.owner!.trim(), values.role as Role)
      process.stdout.write(created.token + '\n')
      process.stderr.write(`created token ${created.row.id} for owner "${created.row.owner}" (${created.row.role}); it is shown only now\n`)
    } else if (command === 'list') {
      for (const token of await listApiTokens(pool)) {
        process.stdout.write([token.id, token.owner, token.role, token.created_at.toISOString(),
          token.last_used_at?.toISOString() ?? 'never used', token.revoked_at ? `revoked ${token.revoked_at.toISOString()}` : 'active', token.source].join('\t') + '\n')
      }
    } else {
      const revoked = await revokeApiTokenById(pool, id!)
      if (!revoked) throw new UsageError(`no token ${id}`)
      process.stderr.write(`revoked token ${revoked.id} of "${revoked.owner}"\n`)
    }
  } finally {
    await pool.end()
    if (database.embedded?.owned) await database.embedded.stop()
  }
} catch (error) {
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof DatabaseUnavailableError ||
    error instanceof EmbeddedPostgresError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
  process.stderr.write(`token: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n${error instanceof UsageError ? USAGE + '\n' : ''}`)
  process.exit(error instanceof UsageError ? 2 : 1)
}

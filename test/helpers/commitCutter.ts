import net from 'node:net'

/** Where the next acceptance's COMMIT is cut: before it reaches PostgreSQL, or after PostgreSQL has done it (its answer lost). */
export type CutAt = 'before-commit' | 'after-commit'

export interface CommitCutter {
  /** A DATABASE_URL that goes through the cutter to `url`'s server. */
  readonly url: string
  /** Cut the connection of the next transaction that inserts operations, at its COMMIT. */
  arm (at: CutAt): void
  /** Connections cut so far. */
  readonly cuts: number
  close (): Promise<void>
}

const TEXT_OF_INTEREST = 'INSERT INTO operation'

/**
 * A TCP proxy in front of PostgreSQL that forwards the wire protocol as it is, but, once armed,
 * cuts the connection of the next transaction that inserts operations at its COMMIT: a real lost
 * connection, as a network failure makes one, at the one moment a client cannot know the outcome.
 * It reads the client's messages (type byte, length) to find the statements; the startup message
 * has no type byte. node-pg sends COMMIT as a simple query ('Q'); a statement with values as Parse ('P').
 */
export async function startCommitCutter (url: string): Promise<CommitCutter> {
  const target = new URL(url)
  let armed: CutAt | null = null
  let cuts = 0
  const sockets = new Set<net.Socket>()

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    const cut = (): void => {
      cuts++
      client.destroy()
      upstream.destroy()
    }
    let buffer = Buffer.alloc(0)
    let started = false
    let wroteOperations = false
    let commitSentAt: CutAt | null = null

    client.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const out: Buffer[] = []
      for (;;) {
        if (!started) {
          if (buffer.length < 4) break
          const length = buffer.readInt32BE(0)
          if (buffer.length < length) break
          out.push(buffer.subarray(0, length))
          buffer = buffer.subarray(length)
          started = true // the test databases' URLs ask for no SSL: no SSLRequest comes first
          continue
        }
        if (buffer.length < 5) break
        const length = buffer.readInt32BE(1)
        if (buffer.length < length + 1) break
        const message = buffer.subarray(0, length + 1)
        buffer = buffer.subarray(length + 1)
        const type = String.fromCharCode(message[0]!)
        const text = message.subarray(5).toString('utf8')
        if ((type === 'P' || type === 'Q') && text.includes(TEXT_OF_INTEREST)) wroteOperations = true
        if (type === 'Q' && text.startsWith('COMMIT') && wroteOperations && armed !== null) {
          const at = armed
          armed = null
          if (at === 'before-commit') {
            if (out.length > 0) upstream.write(Buffer.concat(out))
            cut()
            return
          }
          commitSentAt = at
        }
        if (type === 'Q' && (text.startsWith('COMMIT') || text.startsWith('ROLLBACK'))) wroteOperations = false
        out.push(message)
      }
      if (out.length > 0) upstream.write(Buffer.concat(out))
    })
    upstream.on('data', (chunk: Buffer) => {
      // PostgreSQL's CommandComplete for the COMMIT: it is done; its answer never reaches the client.
      if (commitSentAt !== null && chunk.includes('COMMIT\0')) {
        cut()
        return
      }
      client.write(chunk)
    })
    const end = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(port)
  return {
    url: proxied.toString(),
    arm (at) { armed = at },
    get cuts () { return cuts },
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

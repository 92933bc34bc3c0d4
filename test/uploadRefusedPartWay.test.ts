import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, startGateway, type TestGateway } from './helpers/gateway.ts'
import { pulledUpload, UPLOAD_QUERY } from './helpers/upload.ts'

// Review of 2bb318a (bodyLimit reads an upload only as it is parsed): an upload the resolver stops
// reading (refused part way, BULK_TOO_LARGE) has the rest of its body left unread.
let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'], env: { MAX_BULK_SIZE: '10' } })
})
afterAll(async () => { await gateway?.stop() })

describe('an upload refused part way', () => {
  it('is answered, and the client is not left sending into a connection nobody reads', async () => {
    const lines = new TextEncoder().encode(Array.from({ length: 20 }, () => JSON.stringify(order())).join('\n') + '\n')
    const blank = new TextEncoder().encode(' '.repeat(1023) + '\n')
    const filler = new Uint8Array(64 * 1024).map((_, i) => blank[i % blank.length]!)
    const total = 32 * 1024 * 1024
    let made = 0
    const upload = pulledUpload(gateway, UPLOAD_QUERY, () => {
      if (made === 0) { made = lines.length; return lines }
      if (made >= total) return null
      made += filler.length
      return filler
    })
    try {
      const answer = await Promise.race([upload.response.then(async r => ({ status: r.status, body: await r.json() })), sleep(20_000).then(() => 'no answer in 20 s')])
      console.log('sent', upload.sent(), 'of', total, 'answer', JSON.stringify(answer).slice(0, 300))
      const atAnswer = upload.sent()
      await sleep(3000)
      console.log('sent 3 s after the answer', upload.sent(), 'at the answer', atAnswer)
      expect(answer).toMatchObject({ body: { errors: [{ extensions: { code: 'BULK_TOO_LARGE' } }] } })
    } finally {
      upload.abort()
    }
  }, 60_000)
})

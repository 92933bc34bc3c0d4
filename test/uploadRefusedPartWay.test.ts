import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, startGateway, type TestGateway } from './helpers/gateway.ts'
import { UPLOAD_QUERY, writtenUpload } from './helpers/upload.ts'

// An upload is read only as it is parsed (src/api/security/bodyLimit.ts). One the resolver stops reading
// (refused part way, BULK_TOO_LARGE) is answered at once, and the rest of its body is then read and
// dropped (src/api/streamingUploads.ts), so that a client still sending is not left writing into a
// connection nobody reads until the request timeout.
let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'], env: { MAX_BULK_SIZE: '10' } })
})
afterAll(async () => { await gateway?.stop() })

describe('an upload refused part way', () => {
  it('is answered at once, and the rest of its body is then taken and dropped', async () => {
    const lines = new TextEncoder().encode(Array.from({ length: 20 }, () => JSON.stringify(order())).join('\n') + '\n')
    const blank = new TextEncoder().encode(' '.repeat(1023) + '\n')
    const filler = new Uint8Array(64 * 1024).map((_, i) => blank[i % blank.length]!)
    const total = 32 * 1024 * 1024
    let made = 0
    const upload = writtenUpload(gateway, UPLOAD_QUERY, () => {
      if (made === 0) { made = lines.length; return lines }
      if (made >= total) return null
      made += filler.length
      return filler
    })
    try {
      const answer = await upload.response
      expect(answer.body).toMatchObject({ errors: [{ extensions: { code: 'BULK_TOO_LARGE' } }] })
      // Answered before the whole body was written; the rest is then taken to its end.
      expect(upload.written()).toBeLessThan(total)
      await upload.finished
      expect(upload.written()).toBeGreaterThanOrEqual(total)
    } finally {
      upload.abort()
    }
  }, 60_000)
})

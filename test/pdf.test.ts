/**
 * The documents' standard fonts are parsed once per process (src/adapters/documents/pdf.ts): a
 * document drawn through renderPdf is byte for byte the document pdfkit alone renders.
 */
import PDFDocument from 'pdfkit'
import { describe, expect, it } from 'vitest'
import { renderPdf } from '../src/adapters/documents/pdf.ts'

function draw (doc: PDFKit.PDFDocument): void {
  doc.font('Helvetica-Bold').fontSize(20).text('Invoice INV-00000042', 40, 40)
  doc.font('Helvetica').fontSize(10).text('AVAILABLE Ty Wa: kerning pairs, wrapped over a narrow column of text', 40, 80, { width: 120 })
  doc.font('Helvetica-Bold').text('Total 45.48 EUR', { align: 'right' })
}

async function plain (createdAt: Date): Promise<Buffer> {
  const doc = new PDFDocument({ size: [288, 432], margin: 14, compress: false, info: { Title: 'T', Producer: 'order-ops-gateway', Creator: 'order-ops-gateway', CreationDate: createdAt } })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>(resolve => { doc.on('data', (c: Buffer) => chunks.push(c)); doc.on('end', () => resolve(Buffer.concat(chunks))) })
  draw(doc)
  doc.end()
  return await done
}

describe('renderPdf', () => {
  it('renders the bytes pdfkit renders, document after document, with the fonts parsed once', async () => {
    const createdAt = new Date('2026-11-30T12:00:00Z')
    const expected = await plain(createdAt)
    for (let i = 0; i < 3; i++) {
      const rendered = await renderPdf({ size: [288, 432], margin: 14, title: 'T', createdAt }, draw)
      expect(rendered.equals(expected)).toBe(true)
    }
    expect(expected.toString('latin1')).toContain('/BaseFont /Helvetica-Bold')
  })
})

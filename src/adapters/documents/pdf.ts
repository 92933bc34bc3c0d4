import PDFDocument from 'pdfkit'

/**
 * Renders one PDF into memory. `createdAt` is the document's creation date and, through it, the
 * seed of its file identifier (pdfkit derives /ID from the info dictionary), so the same content
 * renders the same bytes: a retry makes the same attachment or label as the first attempt.
 */
export async function renderPdf (options: { size: [number, number] | string, margin: number, title: string, createdAt: Date },
  draw: (doc: PDFKit.PDFDocument) => void): Promise<Buffer> {
  const doc = new PDFDocument({
    size: options.size,
    margin: options.margin,
    info: { Title: options.title, Producer: 'order-ops-gateway', Creator: 'order-ops-gateway', CreationDate: options.createdAt },
    // Uncompressed content is larger but greppable (tests look for the text drawn); labels and invoices stay small.
    compress: false
  })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  draw(doc)
  doc.end()
  return await done
}

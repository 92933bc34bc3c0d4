import PDFDocument from 'pdfkit'

/** The standard (not embedded) fonts the documents use, in the order pdfkit numbers them (F1, F2). */
const STANDARD_FONTS = Object.freeze(['Helvetica', 'Helvetica-Bold'] as const)

/** What pdfkit keeps per document about its fonts (pdfkit 0.20 internals, read and set below). */
interface FontTable {
  _font: { font: unknown, constructor: { prototype: object } } & Record<string, unknown>
  _fontFamilies: Record<string, unknown>
  _fontCount: number
}

/**
 * pdfkit parses a standard font's metrics (its AFM widths and kerning pairs) again in every
 * document that opens the font: about 2 ms per font per document, most of what an invoice or a
 * label costs (issue 17, item 3). The parsed metrics are only ever read, so they are parsed once
 * per process here, and each document gets its own font objects (its own ids and PDF references)
 * around them. The document opens no default font of its own; the fonts are given the ids pdfkit
 * would have given them (Helvetica F1 as its default font, Helvetica-Bold F2 as the first other),
 * so the bytes are the same as pdfkit alone renders (test/adapters.test.ts).
 */
const sharedMetrics = (() => {
  let parsed: { proto: object, metrics: Map<string, Record<string, unknown>> } | undefined
  return () => {
    if (parsed !== undefined) return parsed
    const probe = new PDFDocument({ compress: false }) as unknown as PDFKit.PDFDocument & FontTable
    const metrics = new Map<string, Record<string, unknown>>()
    for (const name of STANDARD_FONTS) {
      probe.font(name)
      const { font, ascender, descender, bbox, lineGap, xHeight, capHeight } = probe._font
      metrics.set(name, { name, font, ascender, descender, bbox, lineGap, xHeight, capHeight })
    }
    parsed = { proto: Object.getPrototypeOf(probe._font) as object, metrics }
    probe.end()
    return parsed
  }
})()

function openSharedFonts (doc: PDFKit.PDFDocument): void {
  const table = doc as unknown as FontTable
  const { proto, metrics } = sharedMetrics()
  for (const name of STANDARD_FONTS) {
    const font = Object.assign(Object.create(proto) as object, metrics.get(name), { document: doc, id: `F${++table._fontCount}` })
    table._fontFamilies[name] = font
  }
  doc.font(STANDARD_FONTS[0])
}

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
    compress: false,
    // No default font: openSharedFonts gives it, with the metrics parsed once per process.
    font: ''
  })
  openSharedFonts(doc)
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

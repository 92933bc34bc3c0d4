import bwipjs from 'bwip-js'
import { renderPdf } from '../documents/pdf.ts'
import type { LabelPrinter } from '../ports.ts'

export type LabelContent = Omit<Parameters<LabelPrinter['printLabel']>[0], 'idempotencyKey' | 'attempt'>

/** A 4 × 6 inch shipping label (the thermal printers' size), in PDF points. */
const LABEL_SIZE: [number, number] = [288, 432]
const MARGIN = 18
/** The sender printed on every label. */
const SENDER = 'Order Ops Gateway'

/** Quiet zone each side of the bars, in modules (Code 128 asks for at least 10). */
const QUIET_MODULES = 10

/**
 * The tracking number as a Code 128 barcode, drawn as vector bars: bwip-js encodes the symbol
 * (`raw` answers the bar and space widths, in modules) and the bars are filled rectangles, so a
 * scanner reads them at any print resolution, and no image is rendered, encoded and decoded again
 * (as a PNG it cost about 20 ms of CPU per label, most of a label's cost).
 */
function drawBarcode (doc: PDFKit.PDFDocument, text: string, x: number, y: number, width: number, height: number): void {
  const [symbol] = bwipjs.raw({ bcid: 'code128', text }) as unknown as Array<{ sbs: number[] }>
  const widths = symbol!.sbs
  const modules = widths.reduce((sum, w) => sum + w, 0) + 2 * QUIET_MODULES
  const module = width / modules
  let at = x + QUIET_MODULES * module
  widths.forEach((w, i) => {
    // Even positions are bars, odd ones spaces.
    if (i % 2 === 0) doc.rect(at, y, w * module, height)
    at += w * module
  })
  doc.fill('black')
}

/**
 * A shipping label as a PDF: the carrier, the addressee in large type, the order number, and the
 * tracking number as a Code 128 barcode a carrier's scanner reads.
 */
export async function labelPdf (label: LabelContent, createdAt: Date): Promise<Buffer> {
  const width = LABEL_SIZE[0] - 2 * MARGIN
  return await renderPdf({ size: LABEL_SIZE, margin: MARGIN, title: `Label ${label.trackingNumber}`, createdAt }, (doc) => {
    doc.font('Helvetica-Bold').fontSize(20).text(label.carrier, MARGIN, MARGIN, { width })
    doc.font('Helvetica').fontSize(8).text(`From: ${SENDER}`, MARGIN, MARGIN + 26, { width })
    doc.moveTo(MARGIN, MARGIN + 42).lineTo(LABEL_SIZE[0] - MARGIN, MARGIN + 42).lineWidth(2).stroke()

    doc.font('Helvetica').fontSize(9).text('SHIP TO', MARGIN, MARGIN + 52)
    doc.font('Helvetica-Bold').fontSize(14).text(label.address.name, { width })
      .text(label.address.street, { width })
      .text(`${label.address.postcode} ${label.address.city}`, { width })
      .text(label.address.country.toUpperCase(), { width })

    doc.font('Helvetica').fontSize(10).text(`Order ${label.orderNumber}`, MARGIN, 230, { width })
    doc.moveTo(MARGIN, 250).lineTo(LABEL_SIZE[0] - MARGIN, 250).lineWidth(2).stroke()
    doc.fontSize(9).text('TRACKING #', MARGIN, 260)
    drawBarcode(doc, label.trackingNumber, MARGIN, 276, width, 100)
    doc.font('Helvetica-Bold').fontSize(12).text(label.trackingNumber, MARGIN, 384, { width, align: 'center' })
  })
}

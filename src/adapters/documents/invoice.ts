import type { Documents, InvoiceDocument } from '../ports.ts'
import { formatMoney, toUnits } from './money.ts'
import { renderPdf } from './pdf.ts'

/** A4 in PDF points. */
const A4: [number, number] = [595.28, 841.89]
const MARGIN = 50
/** Column x positions of the lines table: SKU, quantity, unit price, amount (right edges for numbers). */
const COLUMN = Object.freeze({ sku: MARGIN, quantity: 330, unitPrice: 430, amount: A4[0] - MARGIN })
const NUMBER_WIDTH = 90

/**
 * The invoice of an order as a PDF (A4): who and where, the invoice and order numbers, one row per
 * line with its amount, and the total. Amounts are computed in ten-thousandths (money.ts), and the
 * total printed is the one given, as the order recorded it.
 */
export async function invoicePdf (invoice: InvoiceDocument): Promise<Buffer> {
  return await renderPdf({ size: A4, margin: MARGIN, title: `Invoice ${invoice.invoiceNumber}`, createdAt: new Date(invoice.createdAt) }, (doc) => {
    doc.font('Helvetica-Bold').fontSize(22).text('Invoice', MARGIN, MARGIN)
    doc.font('Helvetica').fontSize(10).text('Order Ops Gateway', MARGIN, MARGIN, { align: 'right' })

    doc.moveDown(2).fontSize(11)
    const top = doc.y
    doc.font('Helvetica-Bold').text('Bill to', MARGIN, top)
    doc.font('Helvetica').text(invoice.address.name).text(invoice.address.street)
      .text(`${invoice.address.postcode} ${invoice.address.city}`).text(invoice.address.country).text(invoice.customerEmail)
    const details: Array<[string, string]> = [
      ['Invoice number', invoice.invoiceNumber],
      ['Order number', invoice.orderNumber],
      ['Date', invoice.createdAt.slice(0, 10)],
      ['Currency', invoice.currency]
    ]
    details.forEach(([label, value], i) => {
      doc.font('Helvetica-Bold').text(label, 320, top + i * 16, { width: 110 })
      doc.font('Helvetica').text(value, 430, top + i * 16, { width: A4[0] - MARGIN - 430, align: 'right' })
    })

    doc.y = Math.max(doc.y, top + 100)
    const header = doc.y
    doc.font('Helvetica-Bold')
    doc.text('SKU', COLUMN.sku, header)
    doc.text('Quantity', COLUMN.quantity - NUMBER_WIDTH, header, { width: NUMBER_WIDTH, align: 'right' })
    doc.text('Unit price', COLUMN.unitPrice - NUMBER_WIDTH + 40, header, { width: NUMBER_WIDTH, align: 'right' })
    doc.text('Amount', COLUMN.amount - NUMBER_WIDTH, header, { width: NUMBER_WIDTH, align: 'right' })
    doc.moveTo(MARGIN, header + 15).lineTo(A4[0] - MARGIN, header + 15).stroke()

    doc.font('Helvetica')
    let y = header + 22
    for (const line of invoice.lines) {
      if (y > A4[1] - MARGIN - 60) {
        doc.addPage()
        y = MARGIN
      }
      doc.text(line.sku, COLUMN.sku, y, { width: COLUMN.quantity - NUMBER_WIDTH - MARGIN - 10, ellipsis: true, lineBreak: false })
      doc.text(String(line.quantity), COLUMN.quantity - NUMBER_WIDTH, y, { width: NUMBER_WIDTH, align: 'right' })
      doc.text(formatMoney(line.unitPrice, invoice.currency), COLUMN.unitPrice - NUMBER_WIDTH + 40, y, { width: NUMBER_WIDTH, align: 'right' })
      doc.text(formatMoney(toUnits(line.unitPrice) * BigInt(line.quantity), invoice.currency), COLUMN.amount - NUMBER_WIDTH, y, { width: NUMBER_WIDTH, align: 'right' })
      y += 18
    }
    doc.moveTo(MARGIN, y).lineTo(A4[0] - MARGIN, y).stroke()
    doc.font('Helvetica-Bold').fontSize(13)
    doc.text('Total', COLUMN.unitPrice - NUMBER_WIDTH, y + 8, { width: NUMBER_WIDTH + 40, align: 'right' })
    doc.text(formatMoney(invoice.total, invoice.currency), COLUMN.amount - 150, y + 8, { width: 150, align: 'right' })
  })
}

/** The Documents port: rendering only, nothing leaves the process. */
export function createDocuments (): Documents {
  return { invoicePdf }
}

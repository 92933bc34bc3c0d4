import { z } from 'zod'
import { validatePlaceOrder, type FieldNames, type PlaceOrderField, type PlaceOrderInput } from '../../orders/domain/placeOrder.ts'
import type { Candidate } from '../../operations/accept.ts'

/**
 * The subset of Magento's order entity (Magento\Sales\Api\Data\OrderInterface, as
 * `POST /V1/orders` takes it) that the gateway honours, mapped onto PlaceOrderInput. Every other
 * field is ignored (docs/magento-rest.md lists the usual ones). This schema validates the bodies
 * and is what the OpenAPI description shows.
 */

const number = z.union([z.number(), z.string().max(40)])

const AddressSchema = z.object({
  firstname: z.string(),
  lastname: z.string(),
  street: z.array(z.string()).describe('The street lines, joined with ", ".'),
  city: z.string(),
  postcode: z.string(),
  country_id: z.string().describe('ISO 3166-1 alpha-2, such as DE.')
})

const ItemSchema = z.object({
  sku: z.string(),
  qty_ordered: number.describe('A whole number of units above 0 (2 or "2.0000").'),
  price: number.describe('The unit price, at most 4 decimals (19.99 or "19.99").'),
  parent_item_id: z.number().int().nullable().optional().describe("A child item (of a configurable or bundle product) is left out: its parent's line is the order line.")
})

const PATH = {
  address: 'entity.extension_attributes.shipping_assignments[0].shipping.address',
  token: 'entity.payment.extension_attributes.vault_payment_token.gateway_token'
} as const

export const OrderEntitySchema = z.object({
  customer_email: z.string(),
  order_currency_code: z.string().describe('ISO 4217, such as EUR.'),
  items: z.array(ItemSchema),
  extension_attributes: z.object({
    shipping_assignments: z.array(z.object({ shipping: z.object({ address: AddressSchema }) })).min(1)
      .describe('The first assignment\'s address is the shipping address; other assignments are ignored.')
  }),
  payment: z.object({
    extension_attributes: z.object({
      vault_payment_token: z.object({ gateway_token: z.string().describe('A provider token such as tok_visa; default tok_visa.') }).optional()
    }).optional()
  }).optional()
}).describe("The part of Magento's order entity the gateway honours; other fields are ignored.")
type OrderEntity = z.infer<typeof OrderEntitySchema>

export const OrderBodySchema = z.object({ entity: OrderEntitySchema }).describe('One order, as POST /V1/orders takes it.')

/** Where a PlaceOrderInput field came from in the entity; `item` is the index in entity.items. */
function magentoNames (itemIndexes: readonly number[]): FieldNames {
  const names: Record<PlaceOrderField, string> = {
    customerEmail: 'entity.customer_email',
    currency: 'entity.order_currency_code',
    items: 'entity.items',
    'items.sku': 'sku',
    'items.quantity': 'qty_ordered',
    'items.unitPrice': 'price',
    paymentToken: PATH.token,
    'shippingAddress.name': `${PATH.address}.firstname and lastname`,
    'shippingAddress.street': `${PATH.address}.street`,
    'shippingAddress.city': `${PATH.address}.city`,
    'shippingAddress.postcode': `${PATH.address}.postcode`,
    'shippingAddress.country': `${PATH.address}.country_id`
  }
  return (field, item) => item === undefined ? names[field] : `entity.items[${itemIndexes[item] ?? item}].${names[field]}`
}

/** A decimal as PlaceOrderInput carries it, from Magento's number (or numeric string). */
function decimal (value: number | string): string {
  return typeof value === 'number' ? String(value) : value.trim()
}

function quantity (value: number | string): number {
  return typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value)
}

function toPlaceOrder (entity: OrderEntity): { input: PlaceOrderInput, itemIndexes: number[] } {
  const itemIndexes: number[] = []
  const items = entity.items.flatMap((item, index) => {
    if (item.parent_item_id != null) return []
    itemIndexes.push(index)
    return [{ sku: item.sku, quantity: quantity(item.qty_ordered), unitPrice: decimal(item.price) }]
  })
  const address = entity.extension_attributes.shipping_assignments[0]!.shipping.address
  const input: PlaceOrderInput = {
    customerEmail: entity.customer_email,
    currency: entity.order_currency_code,
    items,
    shippingAddress: {
      name: [address.firstname, address.lastname].map(part => part.trim()).filter(part => part !== '').join(' '),
      street: address.street.map(line => line.trim()).filter(line => line !== '').join(', '),
      city: address.city,
      postcode: address.postcode,
      country: address.country_id
    },
    paymentToken: entity.payment?.extension_attributes?.vault_payment_token?.gateway_token ?? null
  }
  return { input, itemIndexes }
}

/**
 * One element of an order request as an item to accept: the PlaceOrderInput it maps to, or, when
 * it does not fit the schema or the order is invalid, the element as sent with what is wrong,
 * every field named as the client sent it (`entity.items[1].qty_ordered must be …`).
 */
export function orderCandidate (body: unknown): Candidate {
  const parsed = OrderBodySchema.safeParse(body, { error: issueMessage })
  if (!parsed.success) return { data: body ?? null, problem: describeIssues(parsed.error) }
  const { input, itemIndexes } = toPlaceOrder(parsed.data.entity)
  const validation = validatePlaceOrder(input, magentoNames(itemIndexes))
  return validation.ok ? { data: input } : { data: body, problem: validation.message }
}

/** What a bound is counted in, by what it bounds. */
function unitOf (origin: string): string {
  return origin === 'array' ? ' entries' : origin === 'string' ? ' characters' : ''
}

/** What a schema says of a value that does not fit, to follow the field's name. */
export function issueMessage (issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type': return issue.input === undefined ? 'is required' : `must be ${issue.expected === 'array' ? 'a list' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}`
    case 'invalid_union': return issue.input === undefined ? 'is required' : 'must be a number, or a string of one'
    case 'too_small': return `must be at least ${String(issue.minimum)}${unitOf(issue.origin)}`
    case 'too_big': return `must be at most ${String(issue.maximum)}${unitOf(issue.origin)}`
    case 'invalid_value': return `must be one of ${issue.values.map(value => JSON.stringify(value)).join(', ')}`
    default: return 'is not valid'
  }
}

/**
 * `entity.items[0].sku is required; …`: each problem after the path of its field, written as a
 * JSON path, or with `brackets` as query parameters are (`searchCriteria[page_size]`).
 */
export function describeIssues (error: z.ZodError, root = '', brackets = false): string {
  return error.issues.map(issue => {
    const path = issue.path.reduce<string>((at, key) => typeof key === 'number' || brackets
      ? `${at}[${String(key)}]`
      : at === '' ? String(key) : `${at}.${String(key)}`, root)
    return `${path === '' ? 'the body' : path} ${issue.message}`
  }).join('; ')
}

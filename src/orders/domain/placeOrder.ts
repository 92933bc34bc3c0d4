/**
 * The order placement command as clients send it, and its validation. Pure: no I/O.
 * Each problem names the field it is about, so a REJECTED item says what to fix.
 */

export interface OrderItemInput { readonly sku: string, readonly quantity: number, readonly unitPrice: string }
export interface AddressInput {
  readonly name: string
  readonly street: string
  readonly city: string
  readonly postcode: string
  readonly country: string
}
export interface PlaceOrderInput {
  readonly customerEmail: string
  readonly currency: string
  readonly items: readonly OrderItemInput[]
  readonly shippingAddress: AddressInput
  /** The payment method, as a provider's token (docs/orders.md); default DEFAULT_PAYMENT_TOKEN. */
  readonly paymentToken?: string | null | undefined
  /** Imports only (placeOrders(mode: IMPORT), importOrder.ts): the number the order had. */
  readonly orderNumber?: string | null | undefined
  /** Imports only: when the order was placed, RFC 3339. */
  readonly placedAt?: string | null | undefined
}

/** What an order without a paymentToken pays with: the simulator's card that always captures. */
export const DEFAULT_PAYMENT_TOKEN = 'tok_visa'
/** A provider token: `tok_` and letters, digits or underscores, as Stripe's test tokens look. */
const PAYMENT_TOKEN = /^tok_[A-Za-z0-9_]{1,60}$/

export type Validation = { ok: true } | { ok: false, message: string }

/** ISO 4217 codes in current use. */
const CURRENCIES = new Set(('AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN ' +
  'BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ ' +
  'GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL ' +
  'LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN ' +
  'PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD ' +
  'TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG').split(' '))

/** ISO 3166-1 alpha-2 codes. */
const COUNTRIES = new Set(('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS ' +
  'BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI ' +
  'FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR ' +
  'IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM ' +
  'MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT ' +
  'PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM ' +
  'TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '))

// Practical address check: one @, no spaces, a dot in the domain (RFC 5322 allows more; shops do not).
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/
/** A decimal as the Decimal scalar carries it: optional sign, digits, optional fraction. */
export const DECIMAL = /^-?\d+(\.\d+)?$/
/** The longest decimal read at all: longer ones are refused before they are parsed (a price of a million digits costs a BigInt that long). */
export const MAX_DECIMAL_LENGTH = 40
const MAX_TEXT = 500
const MAX_ITEMS = 1000
const MAX_QUANTITY = 1_000_000
/**
 * The one money bound (issue #12, item 4): every amount, unit price and order total, below 10^15,
 * what the narrowest money column holds (numeric(19, 4) of the payment tables; orders.total is
 * numeric(20, 4)). An order whose total the payment side cannot hold is refused at acceptance, not
 * failed at its capture with its stock reserved.
 */
const MONEY_DIGITS = 15
const MAX_MONEY_UNITS = 10n ** BigInt(MONEY_DIGITS) * 10_000n

/** A field of PlaceOrderInput a problem can be about; the `items.` ones are about one item. */
export type PlaceOrderField = 'customerEmail' | 'currency' | 'items' | 'items.sku' | 'items.quantity' | 'items.unitPrice' | 'paymentToken' |
  'shippingAddress.name' | 'shippingAddress.street' | 'shippingAddress.city' | 'shippingAddress.postcode' | 'shippingAddress.country'

/**
 * How a problem names its field, `item` being the index of the item for the `items.` fields. By
 * default as PlaceOrderInput spells it (`items[2].quantity`); an edge that takes orders in another
 * shape (Magento's order entity, src/api/rest/) names the fields as its clients sent them.
 */
export type FieldNames = (field: PlaceOrderField, item?: number) => string

const OWN_NAMES: FieldNames = (field, item) => item === undefined ? field : field.replace('items.', `items[${item}].`)

export function validatePlaceOrder (input: PlaceOrderInput, name: FieldNames = OWN_NAMES): Validation {
  const problems: string[] = []
  const text = (field: string, value: string): void => {
    if (value.trim() === '') problems.push(`${field} must not be empty`)
    else if (value.length > MAX_TEXT) problems.push(`${field} must be at most ${MAX_TEXT} characters`)
  }

  if (!EMAIL.test(input.customerEmail) || input.customerEmail.length > 254) {
    problems.push(`${name('customerEmail')} must be an email address, got "${clip(input.customerEmail)}"`)
  }
  if (!CURRENCIES.has(input.currency)) {
    problems.push(`${name('currency')} must be an ISO 4217 code such as EUR or USD, got "${clip(input.currency)}"`)
  }
  if (input.items.length === 0) problems.push(`${name('items')} must contain at least one item`)
  if (input.items.length > MAX_ITEMS) problems.push(`${name('items')} must contain at most ${MAX_ITEMS} items`)
  input.items.forEach((item, i) => {
    text(name('items.sku', i), item.sku)
    const quantity = name('items.quantity', i)
    if (!Number.isInteger(item.quantity) || item.quantity <= 0) {
      problems.push(`${quantity} must be greater than 0, got ${item.quantity}`)
    } else if (item.quantity > MAX_QUANTITY) {
      problems.push(`${quantity} must be at most ${MAX_QUANTITY}, got ${item.quantity}`)
    }
    const unitPrice = name('items.unitPrice', i)
    if (item.unitPrice.length > MAX_DECIMAL_LENGTH) {
      problems.push(`${unitPrice} must be at most ${MAX_DECIMAL_LENGTH} characters, got ${item.unitPrice.length}`)
    } else if (!DECIMAL.test(item.unitPrice) || item.unitPrice.startsWith('-')) {
      problems.push(`${unitPrice} must be 0 or more, got "${clip(item.unitPrice)}"`)
    } else if ((item.unitPrice.split('.')[1] ?? '').length > 4) {
      problems.push(`${unitPrice} must have at most 4 decimals, got "${clip(item.unitPrice)}"`)
    } else if (toUnits(item.unitPrice) >= MAX_MONEY_UNITS) {
      problems.push(`${unitPrice} must be less than 10^${MONEY_DIGITS}, got "${clip(item.unitPrice)}"`)
    }
  })
  if (problems.length === 0 && totalUnits(input.items) >= MAX_MONEY_UNITS) {
    problems.push(`the order total must be less than 10^${MONEY_DIGITS}, got ${orderTotal(input.items)}`)
  }
  if (input.paymentToken != null && !PAYMENT_TOKEN.test(input.paymentToken)) {
    problems.push(`${name('paymentToken')} must look like tok_visa (tok_ and up to 60 letters, digits or underscores), got "${clip(input.paymentToken)}"`)
  }
  const address = input.shippingAddress
  text(name('shippingAddress.name'), address.name)
  text(name('shippingAddress.street'), address.street)
  text(name('shippingAddress.city'), address.city)
  text(name('shippingAddress.postcode'), address.postcode)
  if (!COUNTRIES.has(address.country)) {
    problems.push(`${name('shippingAddress.country')} must be an ISO 3166-1 alpha-2 code such as DE or US, got "${clip(address.country)}"`)
  }
  return problems.length === 0 ? { ok: true } : { ok: false, message: problems.join('; ') }
}

function clip (value: string): string {
  return value.length > 40 ? value.slice(0, 40) + '…' : value
}

const SCALE = 10_000n

/** The order total, exact: prices carry at most 4 decimals, so ten-thousandths as bigint. */
export function orderTotal (items: readonly OrderItemInput[]): string {
  const units = totalUnits(items)
  const whole = units / SCALE
  const fraction = (units % SCALE).toString().padStart(4, '0')
  return `${whole}.${fraction}`
}

function totalUnits (items: readonly OrderItemInput[]): bigint {
  return items.reduce((sum, item) => sum + toUnits(item.unitPrice) * BigInt(item.quantity), 0n)
}

function toUnits (decimal: string): bigint {
  const [whole = '0', fraction = ''] = decimal.split('.')
  return BigInt(whole) * SCALE + BigInt(fraction.padEnd(4, '0').slice(0, 4))
}

/** Whether a decimal amount (an order's total) is zero: nothing was charged, so nothing is refunded. */
export function isZeroAmount (decimal: string): boolean {
  return /^0*(\.0*)?$/.test(decimal)
}

/**
 * What a PlaceOrderInput must look like when it does not come through GraphQL's type system
 * (a line of a JSONL upload): the same fields and types, nothing else. Values are then checked by
 * validatePlaceOrder like any other order.
 */
export function parsePlaceOrder (value: unknown): { ok: true, input: PlaceOrderInput } | { ok: false, message: string } {
  const problems: string[] = []
  const object = (at: string, v: unknown, fields: Record<string, (at: string, v: unknown) => void>): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${at || 'the line'} must be an object`)
      return
    }
    for (const key of Object.keys(v)) if (!(key in fields)) problems.push(`${at ? at + '.' : ''}${key} is not a field of ${at ? 'it' : 'PlaceOrderInput'}`)
    for (const [key, check] of Object.entries(fields)) check(at ? `${at}.${key}` : key, (v as Record<string, unknown>)[key])
  }
  const string = (at: string, v: unknown): void => { if (typeof v !== 'string') problems.push(`${at} must be a string`) }
  const decimal = (at: string, v: unknown): void => {
    if (typeof v !== 'string' || v.length > MAX_DECIMAL_LENGTH || !DECIMAL.test(v)) {
      problems.push(`${at} must be a decimal of at most ${MAX_DECIMAL_LENGTH} characters written as a string, such as "19.99"`)
    }
  }
  const integer = (at: string, v: unknown): void => { if (!Number.isSafeInteger(v)) problems.push(`${at} must be a whole number`) }
  object('', value, {
    customerEmail: string,
    currency: string,
    items: (at, v) => {
      if (!Array.isArray(v)) problems.push(`${at} must be a list`)
      else v.forEach((item, i) => object(`${at}[${i}]`, item, { sku: string, quantity: integer, unitPrice: decimal }))
    },
    shippingAddress: (at, v) => object(at, v, { name: string, street: string, city: string, postcode: string, country: string }),
    paymentToken: (at, v) => { if (v !== undefined && v !== null) string(at, v) },
    orderNumber: (at, v) => { if (v !== undefined && v !== null) string(at, v) },
    placedAt: (at, v) => { if (v !== undefined && v !== null) string(at, v) }
  })
  return problems.length === 0 ? { ok: true, input: value as PlaceOrderInput } : { ok: false, message: problems.join('; ') }
}

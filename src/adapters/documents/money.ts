/** Money travels as decimal strings with 4 decimals (numeric(19,4)); computed here in ten-thousandths, never floats. */
const SCALE = 4n
const UNITS = 10n ** SCALE

/** `"12.5"` or `"12.5000"` → 125000n (ten-thousandths). */
export function toUnits (amount: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(amount.trim())
  if (!match) throw new Error(`not a decimal amount with at most 4 decimals: "${amount}"`)
  const units = BigInt(match[2]!) * UNITS + BigInt((match[3] ?? '').padEnd(Number(SCALE), '0'))
  return match[1] === '-' ? -units : units
}

/** Ten-thousandths → a printed amount: 2 decimals, more only when they are not zero (`12.50`, `0.1234`). */
export function formatUnits (units: bigint): string {
  const sign = units < 0n ? '-' : ''
  const abs = units < 0n ? -units : units
  const decimals = (abs % UNITS).toString().padStart(Number(SCALE), '0').replace(/0{1,2}$/, '')
  return `${sign}${abs / UNITS}.${decimals.length < 2 ? decimals.padEnd(2, '0') : decimals}`
}

/** A printed amount with its currency: `12.50 EUR`. */
export function formatMoney (amount: string | bigint, currency: string): string {
  return `${formatUnits(typeof amount === 'bigint' ? amount : toUnits(amount))} ${currency}`
}

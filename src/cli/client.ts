#!/usr/bin/env node
/**
 * `order-ops`: the gateway's command-line client (package bin; `npx order-ops --help`). Talks to a
 * running gateway over HTTP and graphql-ws only, as any client would. Exit status: 0 done, 1 a bulk
 * finished with failures (or canceled) or an order did not complete, 2 a usage error, 3 the gateway
 * refused the request or could not be reached.
 */
import { Command, CommanderError, Option } from 'commander'
import { DOCUMENTS, isFinished, type AcceptAnswer, type BulkState, type OrderState } from './client/documents.ts'
import { Gateway, GatewayError } from './client/gateway.ts'
import { BulkProgress, describeBulk } from './client/progress.ts'

const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2, REFUSED: 3 } as const)

interface Globals { url: string, token: string | undefined, json: boolean }

const program = new Command('order-ops')
  .description('Submit orders to the order operations gateway and follow them.')
  .addOption(new Option('--url <url>', 'the gateway\'s GraphQL endpoint').env('GATEWAY_URL').default('http://localhost:4000/graphql'))
  .addOption(new Option('--token <token>', 'an API token or JWT').env('GATEWAY_TOKEN'))
  .option('--json', 'machine-readable output: one JSON object a line', false)
  .exitOverride()

function globals (): Globals {
  return program.opts<Globals>()
}

function gateway (): Gateway {
  const { url, token } = globals()
  if (!token) throw new CommanderError(EXIT.USAGE, 'order-ops.token', 'order-ops: no token: pass --token or set GATEWAY_TOKEN')
  return new Gateway({ url, token })
}

function print (json: unknown, human: string): void {
  process.stdout.write((globals().json ? JSON.stringify(json) : human) + '\n')
}

/** Follows a bulk until it has finished: a progress bar (or a JSON line per state); answers the exit status. */
async function follow (client: Gateway, uuid: string): Promise<number> {
  const bar = globals().json ? undefined : new BulkProgress()
  let last: BulkState | undefined
  try {
    for await (const { bulkStatus } of client.subscribe<{ bulkStatus: BulkState }>(DOCUMENTS.bulkStatus, { uuid })) {
      last = bulkStatus
      if (bar) bar.update(bulkStatus)
      else print(bulkStatus, '')
    }
  } finally {
    bar?.stop()
  }
  if (last === undefined) throw new GatewayError(`no bulk ${uuid}`)
  if (bar) print(last, describeBulk(last))
  return last.status === 'FINISHED_SUCCESSFULLY' ? EXIT.OK : EXIT.FAILED
}

program.command('submit')
  .description('stream a JSONL file (one PlaceOrderInput a line) as one bulk, then follow it to the end')
  .argument('<file>', 'the JSONL file')
  .option('--description <text>', 'the bulk\'s description')
  .addOption(new Option('--error-policy <policy>', 'what invalid lines do').choices(['REJECT_FAILED_ROWS', 'REJECT_EVERYTHING']))
  .option('--idempotency-key <key>', 'the same key and file answer the first bulk again')
  .option('--notify-url <url>', 'POSTed a signed summary when the bulk finishes')
  .option('--no-wait', 'print the bulk uuid and exit')
  .action(async (file: string, options: { description?: string, errorPolicy?: string, idempotencyKey?: string, notifyUrl?: string, wait: boolean }) => {
    const client = gateway()
    try {
      const { placeOrdersFromFile: answer } = await client.upload<{ placeOrdersFromFile: AcceptAnswer }>(DOCUMENTS.placeOrdersFromFile, {
        description: options.description, errorPolicy: options.errorPolicy, idempotencyKey: options.idempotencyKey, notifyUrl: options.notifyUrl
      }, file)
      if (!globals().json) process.stderr.write(`bulk ${answer.bulkUuid} accepted${answer.errors ? ' (some lines rejected)' : ''}\n`)
      if (!options.wait) {
        print(answer, answer.bulkUuid)
        return
      }
      process.exitCode = await follow(client, answer.bulkUuid)
    } finally {
      await client.close()
    }
  })

program.command('place')
  .description('place one order, from --input JSON or from flags')
  .option('--input <json>', 'a PlaceOrderInput as JSON')
  .option('--email <email>', 'the customer\'s email')
  .option('--currency <code>', 'ISO 4217 currency', 'EUR')
  .option('--item <sku:quantity:unitPrice>', 'an order line (repeatable)', (value: string, items: string[]) => [...items, value], [] as string[])
  .option('--name <name>', 'shipping address: name')
  .option('--street <street>', 'shipping address: street')
  .option('--city <city>', 'shipping address: city')
  .option('--postcode <postcode>', 'shipping address: postcode')
  .option('--country <code>', 'shipping address: ISO 3166 country code')
  .option('--payment-token <token>', 'the payment method, as a provider\'s token')
  .option('--idempotency-key <key>', 'the same key and order answer the first bulk again')
  .option('--wait', 'follow the order until it has completed, been canceled or failed', false)
  .action(async (options: PlaceOptions) => {
    const client = gateway()
    try {
      const { placeOrder: answer } = await client.request<{ placeOrder: AcceptAnswer }>(DOCUMENTS.placeOrder, { input: placeInput(options), idempotencyKey: options.idempotencyKey })
      const item = answer.requestItems![0]!
      if (item.status !== 'ACCEPTED') throw new GatewayError(`rejected: ${item.errorMessage}`)
      print({ bulkUuid: answer.bulkUuid, orderNumber: item.orderNumber }, `order ${item.orderNumber} accepted (bulk ${answer.bulkUuid})`)
      if (options.wait) process.exitCode = await followOrder(client, item.orderNumber!)
    } finally {
      await client.close()
    }
  })

interface PlaceOptions {
  input?: string,
  email?: string,
  currency: string,
  item: string[],
  name?: string,
  street?: string,
  city?: string,
  postcode?: string,
  country?: string,
  paymentToken?: string,
  idempotencyKey?: string,
  wait: boolean
}

/** The PlaceOrderInput of `place`: the gateway validates it and names any field that is wrong. */
function placeInput (options: PlaceOptions): unknown {
  if (options.input !== undefined) {
    try {
      return JSON.parse(options.input) as unknown
    } catch {
      throw new CommanderError(EXIT.USAGE, 'order-ops.input', 'order-ops: --input is not JSON')
    }
  }
  const items = options.item.map(item => {
    const [sku, quantity, unitPrice] = item.split(':')
    if (!sku || !quantity || !unitPrice) throw new CommanderError(EXIT.USAGE, 'order-ops.item', `order-ops: --item must be sku:quantity:unitPrice, got "${item}"`)
    return { sku, quantity: Number(quantity), unitPrice }
  })
  return {
    customerEmail: options.email,
    currency: options.currency,
    items,
    shippingAddress: { name: options.name, street: options.street, city: options.city, postcode: options.postcode, country: options.country },
    ...(options.paymentToken ? { paymentToken: options.paymentToken } : {})
  }
}

/** Follows an order step by step (orderProgress): a line per step as it is done; answers the exit status. */
async function followOrder (client: Gateway, number: string): Promise<number> {
  const seen = new Map<string, string>()
  let last: OrderState | undefined
  for await (const { orderProgress } of client.subscribe<{ orderProgress: OrderState }>(DOCUMENTS.orderProgress, { number })) {
    last = orderProgress
    if (globals().json) {
      print(orderProgress, '')
      continue
    }
    for (const step of orderProgress.steps) {
      if (seen.get(step.name) === step.status || step.status === 'PENDING') continue
      seen.set(step.name, step.status)
      print(step, `  ${step.name.padEnd(20)} ${step.status}${step.attempts > 1 ? ` after ${step.attempts} attempts` : ''}${step.lastError ? `: ${step.lastError}` : ''}`)
    }
  }
  if (last === undefined) throw new GatewayError(`no order ${number}`)
  if (!globals().json) print(last, `order ${last.number}: ${last.status} (${last.total} ${last.currency})`)
  return last.status === 'COMPLETED' ? EXIT.OK : EXIT.FAILED
}

program.command('order')
  .description('follow an order through the post-order chain, step by step, until it has completed, been canceled or failed')
  .argument('<number>', 'the order number, such as ORD-00000042')
  .action(async (number: string) => {
    const client = gateway()
    try {
      process.exitCode = await followOrder(client, number)
    } finally {
      await client.close()
    }
  })

program.command('status')
  .description('a bulk\'s status and counts now')
  .argument('<uuid>', 'the bulk uuid')
  .action(async (uuid: string) => {
    const { bulk } = await gateway().request<{ bulk: BulkState | null }>(DOCUMENTS.bulk, { uuid })
    if (bulk === null) throw new GatewayError(`no bulk ${uuid}`)
    print(bulk, describeBulk(bulk))
    process.exitCode = isFinished(bulk) && bulk.status !== 'FINISHED_SUCCESSFULLY' ? EXIT.FAILED : EXIT.OK
  })

program.command('watch')
  .description('follow a bulk until it has finished, with a progress bar (--json: a line per state)')
  .argument('<uuid>', 'the bulk uuid')
  .action(async (uuid: string) => {
    const client = gateway()
    try {
      process.exitCode = await follow(client, uuid)
    } finally {
      await client.close()
    }
  })

program.command('retry')
  .description('enqueue a bulk\'s failed operations again, then follow it')
  .argument('<uuid>', 'the bulk uuid')
  .option('--error-code <code>', 'only operations that failed with this code (repeatable)', (value: string, codes: string[]) => [...codes, value], [] as string[])
  .option('--no-wait', 'print the bulk and exit')
  .action(async (uuid: string, options: { errorCode: string[], wait: boolean }) => {
    const client = gateway()
    try {
      const { retryBulk } = await client.request<{ retryBulk: BulkState }>(DOCUMENTS.retryBulk, { uuid, errorCodes: options.errorCode.length > 0 ? options.errorCode : null })
      if (!options.wait) print(retryBulk, describeBulk(retryBulk))
      else process.exitCode = await follow(client, uuid)
    } finally {
      await client.close()
    }
  })

for (const [name, field, description] of [
  ['cancel', 'cancelBulk', 'cancel the operations of a bulk not yet begun'],
  ['ack', 'acknowledgeBulk', 'dismiss a finished bulk from the list of those needing attention']
] as const) {
  program.command(name).description(description).argument('<uuid>', 'the bulk uuid').action(async (uuid: string) => {
    const data = await gateway().request<Record<typeof field, BulkState>>(DOCUMENTS[field], { uuid })
    print(data[field], describeBulk(data[field]))
  })
}

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its own usage errors; help and --version end here with 0.
    if (error.code.startsWith('order-ops.')) process.stderr.write(`${error.message}\n`)
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE
  } else if (error instanceof GatewayError) {
    process.stderr.write(`order-ops: ${error.message}\n`)
    process.exitCode = EXIT.REFUSED
  } else {
    throw error
  }
}

// The gateway's dashboard: plain ES module, no build step. Every datum comes from the public GraphQL API
// (HTTP for queries and mutations, graphql-ws for live updates), with the token the user entered, kept in
// this tab's session storage. Text is always set as text, never as HTML.
/* global graphqlWs */

const TOKEN_KEY = 'order-ops-token'
const BULK_FIELDS = 'uuid status description operationCount progress acknowledged createdAt finishedAt resultsUrl counts { open complete retriablyFailed notRetriablyFailed rejected canceled }'
const FINISHED = new Set(['FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE', 'CANCELED'])
const page = document.getElementById('page')
let disposers = []
let wsClient

function token () { return sessionStorage.getItem(TOKEN_KEY) }

function el (tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value)
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child))
  return node
}

class SignedOut extends Error {}

async function gql (query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables })
  })
  if (response.status === 401) { signOut('That token was not accepted.'); throw new SignedOut() }
  const body = await response.json()
  if (body.errors?.length) throw new Error(body.errors.map(error => error.message).join('; '))
  return body.data
}

function ws () {
  wsClient ??= graphqlWs.createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => ({ authorization: `Bearer ${token()}` }),
    lazy: true,
    retryAttempts: 5
  })
  return wsClient
}

/** Calls `next` with each result of a subscription until the page changes. */
function live (query, variables, next) {
  const dispose = ws().subscribe({ query, variables }, {
    next: (result) => { if (result.data) next(result.data) },
    error: (error) => console.warn('subscription ended', error),
    complete: () => {}
  })
  disposers.push(dispose)
}

function signOut (message = '') {
  sessionStorage.removeItem(TOKEN_KEY)
  wsClient?.dispose()
  wsClient = undefined
  document.getElementById('sign-in-error').textContent = message
  route()
}

function bar (bulk) {
  const fill = el('span')
  // Through the CSSOM: the Content-Security-Policy allows no inline style attribute.
  fill.style.width = `${(bulk.progress * 100).toFixed(1)}%`
  return el('div', { class: `bar${bulk.status === 'FINISHED_WITH_FAILURE' ? ' failure' : ''}`, role: 'progressbar', 'aria-valuenow': Math.round(bulk.progress * 100), 'aria-valuemin': 0, 'aria-valuemax': 100 }, fill)
}

function status (value) { return el('span', { class: `status ${value}` }, value) }

function countsLine (counts) {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([name, n]) => `${n} ${name}`).join(' · ') || '—'
}

function when (iso) { return iso ? new Date(iso).toLocaleString() : '—' }

// ---- the bulks list --------------------------------------------------------------------------------

async function bulksPage (params) {
  const attention = params.get('attention') === '1'
  const chosen = params.get('status') ?? ''
  const after = params.get('after') ?? ''
  const filters = el('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); applyFilters(event.target, attention) } },
    el('label', {}, 'Status', el('select', { name: 'status', disabled: attention },
      ['', 'NOT_STARTED', 'IN_PROGRESS', 'FINISHED_SUCCESSFULLY', 'FINISHED_WITH_FAILURE', 'CANCELED'].map(value => el('option', { value, selected: value === chosen }, value || 'any')))),
    el('label', {}, 'Created after', el('input', { name: 'after', type: 'datetime-local', value: after })),
    el('button', { type: 'submit' }, 'Filter'))
  const rows = el('tbody')
  const upload = el('form', { class: 'actions', id: 'upload', onsubmit: (event) => { event.preventDefault(); submitFile(event.target).catch(report) } },
    el('label', {}, 'Orders as JSONL (one PlaceOrderInput a line)', el('input', { name: 'file', type: 'file', accept: '.jsonl,.ndjson,application/jsonl', required: true })),
    el('label', {}, 'Description', el('input', { name: 'description' })),
    el('button', { type: 'submit' }, 'Submit bulk'))
  page.replaceChildren(el('h1', {}, attention ? 'Needs attention' : 'Bulks'), upload, filters,
    el('table', { id: 'bulks' }, el('thead', {}, el('tr', {}, ['Bulk', 'Status', 'Progress', 'Counts', 'Created'].map(title => el('th', {}, title)))), rows))
  const variables = {
    status: attention ? 'FINISHED_WITH_FAILURE' : chosen || null,
    acknowledged: attention ? false : null,
    createdAfter: after ? new Date(after).toISOString() : null
  }
  const data = await gql(`query ($status: BulkStatus, $acknowledged: Boolean, $createdAfter: DateTime) {
    bulks(first: 50, status: $status, acknowledged: $acknowledged, createdAfter: $createdAfter) { edges { node { ${BULK_FIELDS} } } } }`, variables)
  const bulks = data.bulks.edges.map(edge => edge.node)
  if (bulks.length === 0) rows.append(el('tr', {}, el('td', { colspan: 5 }, 'No bulks.')))
  for (const bulk of bulks) {
    const row = bulkRow(bulk)
    rows.append(row)
    if (!FINISHED.has(bulk.status)) live(`subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { ${BULK_FIELDS} } }`, { uuid: bulk.uuid }, (next) => row.replaceWith(bulkRow(next.bulkStatus)))
  }
}

/** Uploads a JSONL file as one bulk (placeOrdersFromFile, a GraphQL multipart request), then opens the bulk. */
async function submitFile (form) {
  const body = new FormData()
  body.set('operations', JSON.stringify({
    query: 'mutation ($file: Upload!, $description: String) { placeOrdersFromFile(file: $file, description: $description) { bulkUuid } }',
    variables: { file: null, description: form.description.value || null }
  }))
  body.set('map', JSON.stringify({ 0: ['variables.file'] }))
  body.set('0', form.file.files[0])
  const response = await fetch('/graphql', { method: 'POST', body, headers: { authorization: `Bearer ${token()}`, 'graphql-require-preflight': '1' } })
  const result = await response.json()
  if (result.errors?.length) throw new Error(result.errors.map(error => error.message).join('; '))
  location.hash = `#/bulk/${result.data.placeOrdersFromFile.bulkUuid}`
}

function bulkRow (bulk) {
  return el('tr', { 'data-uuid': bulk.uuid, 'data-status': bulk.status },
    el('td', {}, el('a', { href: `#/bulk/${bulk.uuid}` }, bulk.description || bulk.uuid.slice(0, 8))),
    el('td', {}, status(bulk.status)),
    el('td', {}, bar(bulk)),
    el('td', {}, countsLine(bulk.counts)),
    el('td', {}, when(bulk.createdAt)))
}

function applyFilters (form, attention) {
  const params = new URLSearchParams()
  if (attention) params.set('attention', '1')
  if (form.status.value) params.set('status', form.status.value)
  if (form.after.value) params.set('after', form.after.value)
  location.hash = `#/?${params}`
}

// ---- one bulk --------------------------------------------------------------------------------------

async function bulkPage (uuid, params) {
  const header = el('div')
  const operations = el('tbody')
  const filters = el('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); location.hash = `#/bulk/${uuid}?${new URLSearchParams({ status: event.target.status.value, errorCode: event.target.errorCode.value })}` } },
    el('label', {}, 'Status', el('select', { name: 'status' },
      ['', 'OPEN', 'COMPLETE', 'RETRIABLY_FAILED', 'NOT_RETRIABLY_FAILED', 'REJECTED', 'CANCELED'].map(value => el('option', { value, selected: value === (params.get('status') ?? '') }, value || 'any')))),
    el('label', {}, 'Error code', el('input', { name: 'errorCode', value: params.get('errorCode') ?? '' })),
    el('button', { type: 'submit' }, 'Filter'))
  page.replaceChildren(header, el('h2', {}, 'Operations'), filters,
    el('table', { id: 'operations' }, el('thead', {}, el('tr', {}, ['#', 'Status', 'Attempts', 'Error', 'Message', 'Result'].map(title => el('th', {}, title)))), operations))
  const loadOperations = async () => {
    const data = await gql(`query ($uuid: ID!, $status: OperationStatus, $errorCode: String) {
      bulk(uuid: $uuid) { operations(first: 200, status: $status, errorCode: $errorCode) { edges { node { id index status attempts errorCode resultMessage result } } } } }`,
    { uuid, status: params.get('status') || null, errorCode: params.get('errorCode') || null })
    operations.replaceChildren(...(data.bulk?.operations.edges ?? []).map(({ node }) => el('tr', { 'data-status': node.status },
      el('td', {}, node.index), el('td', {}, status(node.status)), el('td', {}, node.attempts), el('td', {}, node.errorCode ?? ''),
      el('td', {}, node.resultMessage ?? ''), el('td', {}, resultCell(node.result)))))
  }
  const show = (bulk) => {
    if (!bulk) { header.replaceChildren(el('h1', {}, 'No such bulk')); return }
    header.replaceChildren(
      el('h1', {}, bulk.description || `Bulk ${bulk.uuid}`),
      el('p', {}, status(bulk.status), ' ', el('code', {}, bulk.uuid)),
      bar(bulk),
      el('div', { class: 'counts' }, Object.entries(bulk.counts).map(([name, n]) => el('div', { 'data-count': name }, el('strong', {}, n), name))),
      el('div', { class: 'actions' },
        el('button', { type: 'button', id: 'retry', disabled: bulk.counts.notRetriablyFailed + bulk.counts.retriablyFailed === 0, onclick: () => act('retryBulk', uuid) }, 'Retry failed'),
        el('button', { type: 'button', id: 'cancel', disabled: FINISHED.has(bulk.status), onclick: () => act('cancelBulk', uuid) }, 'Cancel'),
        el('button', { type: 'button', id: 'acknowledge', disabled: !FINISHED.has(bulk.status) || bulk.acknowledged, onclick: () => act('acknowledgeBulk', uuid) }, 'Acknowledge'),
        el('button', { type: 'button', id: 'download', disabled: !bulk.finishedAt, onclick: () => download(bulk) }, 'Download results')),
      el('p', { class: 'error', id: 'action-error', role: 'alert' }))
  }
  const data = await gql(`query ($uuid: ID!) { bulk(uuid: $uuid) { ${BULK_FIELDS} } }`, { uuid })
  show(data.bulk)
  await loadOperations()
  let reload
  live(`subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { ${BULK_FIELDS} } }`, { uuid }, (next) => {
    show(next.bulkStatus)
    clearTimeout(reload)
    reload = setTimeout(() => { loadOperations().catch(report) }, 300)
  })
}

function resultCell (result) {
  const number = typeof result === 'string' ? result : result?.orderNumber
  if (typeof number === 'string' && /^ORD-\d+$/.test(number)) return el('a', { href: `#/order/${number}` }, number)
  return result === null || result === undefined ? '' : el('code', {}, JSON.stringify(result))
}

async function act (mutation, uuid) {
  try {
    await gql(`mutation ($uuid: ID!) { ${mutation}(uuid: $uuid) { uuid } }`, { uuid })
    route()
  } catch (error) {
    if (!(error instanceof SignedOut)) document.getElementById('action-error').textContent = error.message
  }
}

async function download (bulk) {
  // The file's path on this origin: PUBLIC_URL may name another host than the one the page came from.
  const response = await fetch(new URL(bulk.resultsUrl).pathname, { headers: { authorization: `Bearer ${token()}` } })
  if (!response.ok) { document.getElementById('action-error').textContent = `download failed: ${response.status}`; return }
  const url = URL.createObjectURL(await response.blob())
  const link = el('a', { href: url, download: `${bulk.uuid}.results.jsonl` })
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

// ---- one order -------------------------------------------------------------------------------------

async function orderPage (number) {
  const header = el('div')
  const steps = el('ol', { class: 'timeline', id: 'steps' })
  const events = el('tbody')
  page.replaceChildren(header, el('h2', {}, 'Steps'), steps, el('h2', {}, 'Events'),
    el('table', { id: 'events' }, el('thead', {}, el('tr', {}, ['#', 'Event', 'Recorded'].map(title => el('th', {}, title)))), events))
  const loadEvents = async () => {
    const data = await gql('query ($n: String!) { order(number: $n) { events { position type recordedAt } } }', { n: number })
    events.replaceChildren(...(data.order?.events ?? []).map(event => el('tr', {}, el('td', {}, event.position), el('td', {}, event.type), el('td', {}, when(event.recordedAt)))))
  }
  const show = (order) => {
    header.replaceChildren(el('h1', {}, `Order ${order.number}`), el('p', { id: 'order-status' }, status(order.status), ` ${order.total} ${order.currency} · ${order.customerEmail}`))
    steps.replaceChildren(...order.steps.map(step => el('li', { 'data-step': step.name, 'data-status': step.status },
      el('span', {}, step.name), status(step.status), el('span', {}, step.attempts > 1 ? `${step.attempts} attempts` : ''),
      el('span', {}, step.completedAt ? when(step.completedAt) : step.lastError ?? ''))))
  }
  header.replaceChildren(el('h1', {}, `Order ${number}`), el('p', {}, 'Waiting for the order…'))
  live('subscription ($n: String!) { orderProgress(number: $n) { number status total currency customerEmail steps { name status attempts lastError completedAt } } }', { n: number }, (next) => {
    show(next.orderProgress)
    loadEvents().catch(report)
  })
}

// ---- admin -----------------------------------------------------------------------------------------

async function adminPage () {
  const config = await (await fetch('/dashboard/config.json')).json()
  page.replaceChildren(el('h1', {}, 'Queues'),
    config.pgBossDashboardUrl
      ? el('p', {}, 'Queue depths, dead letters and jobs are in pg-boss\'s own dashboard: ', el('a', { href: config.pgBossDashboardUrl, id: 'pgboss-dashboard' }, config.pgBossDashboardUrl))
      : el('p', {}, 'Run pg-boss\'s own dashboard for queue depths, dead letters and jobs (npx @pg-boss/dashboard with the gateway\'s DATABASE_URL), and set PGBOSS_DASHBOARD_URL to link it here.'))
}

// ---- routing ---------------------------------------------------------------------------------------

function report (error) {
  if (error instanceof SignedOut) return
  page.append(el('p', { class: 'error', role: 'alert' }, error.message))
}

async function route () {
  for (const dispose of disposers) dispose()
  disposers = []
  const signedIn = token() !== null
  document.getElementById('sign-in').hidden = signedIn
  document.getElementById('sign-out').hidden = !signedIn
  page.hidden = !signedIn
  if (!signedIn) return
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?')
  const params = new URLSearchParams(query)
  const [, section, id] = (path || '/').split('/')
  try {
    if (section === 'bulk' && id) await bulkPage(decodeURIComponent(id), params)
    else if (section === 'order' && id) await orderPage(decodeURIComponent(id))
    else if (section === 'admin') await adminPage()
    else await bulksPage(params)
  } catch (error) {
    report(error)
  }
}

document.getElementById('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault()
  sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim())
  document.getElementById('token').value = ''
  document.getElementById('sign-in-error').textContent = ''
  // Admins see the queues page: apiTokens answers only them.
  gql('{ apiTokens { id } }').then(() => { document.getElementById('admin-link').hidden = false }, () => {})
  await route()
})
document.getElementById('sign-out').addEventListener('click', () => signOut())
window.addEventListener('hashchange', () => { route() })
if (token() !== null) gql('{ apiTokens { id } }').then(() => { document.getElementById('admin-link').hidden = false }, () => {})
route()

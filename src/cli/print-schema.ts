import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { printSdl } from '../api/graphql/schema.ts'

/** `npm run schema`: writes schema/schema.graphql from the code. A test fails when the two differ. */
const target = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url))
fs.writeFileSync(target, printSdl())
process.stdout.write(`wrote ${target}\n`)

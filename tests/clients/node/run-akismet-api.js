'use strict'
// Drives the unmodified npm `akismet-api` client against a running Sluice server and prints
// one JSON object with the outcome of every call; tests/clients/test_node_akismet_api.py
// starts the server, runs this script with `node`, and checks the output and the database.
//
// Environment: SLUICE_PORT (required), SLUICE_KEY (a valid key), SLUICE_BAD_KEY (an unknown
// 12-hex key), SLUICE_BLOG (the blog URL to send).
//
// The client puts the key in the host name (`KEY.localhost:PORT/1.1/comment-check`), which
// nothing resolves, so `dns.lookup` is wrapped to answer 127.0.0.1 for `localhost` and
// `*.localhost` (superagent passes no lookup of its own, so net falls back to dns.lookup).

const dns = require('dns')

const originalLookup = dns.lookup

function localLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options
    options = {}
  } else if (typeof options === 'number') {
    options = { family: options }
  }
  const name = String(hostname).toLowerCase()
  if (name === 'localhost' || name.endsWith('.localhost')) {
    if (options && options.all) {
      process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }])
    } else {
      process.nextTick(callback, null, '127.0.0.1', 4)
    }
    return {}
  }
  return originalLookup.call(dns, hostname, options, callback)
}

const { AkismetClient } = require('akismet-api')

const port = process.env.SLUICE_PORT
const key = process.env.SLUICE_KEY
const badKey = process.env.SLUICE_BAD_KEY || '0123456789ab'
const blog = process.env.SLUICE_BLOG || 'http://blog.example/'

const HAM = {
  ip: '203.0.113.20',
  useragent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  name: 'Maria Keller',
  email: 'maria.keller@gmail.com',
  content:
    'Thanks for the detailed write-up. I tried the second approach with PostgreSQL 15 ' +
    'and the vacuum settings you suggested, and the bloat went away.',
  type: 'comment'
}
const SPAM = {
  ip: '203.0.113.21',
  name: 'cheap viagra online',
  email: 'sales123@rx-pills.shop',
  url: 'http://cheap-rx-pills.shop/',
  content:
    'Great post!!! Buy cheap v1agra and cialis online, no prescription: ' +
    'http://cheap-rx-pills.shop/order call +1 888 555 0199'
}

async function outcome(promise) {
  try {
    const value = await promise
    if (value && typeof value === 'object' && 'status' in value) {
      // submitSpam / submitHam resolve with the raw superagent response.
      return { ok: { status: value.status, text: value.text } }
    }
    return { ok: value }
  } catch (error) {
    return { error: error && error.message !== undefined ? error.message : String(error) }
  }
}

async function main() {
  if (!port || !key) {
    throw new Error('set SLUICE_PORT and SLUICE_KEY')
  }
  dns.lookup = localLookup
  const options = { blog, host: `localhost:${port}`, protocol: 'http' }
  const client = new AkismetClient({ ...options, key })
  const bad = new AkismetClient({ ...options, key: badKey })
  const results = {}
  try {
    results.verifyKey = await outcome(client.verifyKey())
    results.checkGuaranteedSpam = await outcome(
      client.checkSpam({ ip: '203.0.113.22', name: 'akismet-guaranteed-spam' })
    )
    results.checkSpam = await outcome(client.checkSpam(SPAM))
    results.checkHam = await outcome(client.checkSpam(HAM))
    results.checkAdministrator = await outcome(
      client.checkSpam({ ...SPAM, role: 'administrator' })
    )
    results.checkTest = await outcome(
      client.checkSpam({ ip: '203.0.113.23', name: 'akismet-guaranteed-spam', isTest: true })
    )
    results.checkHoneypot = await outcome(
      client.checkSpam({ ...HAM, content: HAM.content + ' (honeypot)', honeypot: 'filled by a bot' })
    )
    results.submitSpam = await outcome(
      client.submitSpam({ ...HAM, content: HAM.content + ' (reported)' })
    )
    results.submitHam = await outcome(client.submitHam(SPAM))
    results.badVerifyKey = await outcome(bad.verifyKey())
    results.badCheckSpam = await outcome(bad.checkSpam(HAM))
    results.badSubmitHam = await outcome(bad.submitHam(HAM))
  } finally {
    dns.lookup = originalLookup
  }
  process.stdout.write(JSON.stringify(results) + '\n')
}

main().catch(error => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n')
  process.exit(1)
})

// Cost of putting a hit's lines on a response Express already set X-Powered-By on: remove and
// append every line (what the adapters did before) against `setReplyHeaders`, same process,
// interleaved rounds. `taskset -c 0 node bench/reply-headers.mjs` (packages built first).
import http from 'node:http'
import { setReplyHeaders } from '@cachewire/http/kit'

const lines = Object.freeze([
  ['x-powered-by', 'Express'],
  ['content-type', 'application/json; charset=utf-8'],
  ['content-length', '1027'],
  ['etag', 'W/"403-vB0xxFAiozQzUJlQ8a8gfHvLuXw"'],
  ['accept-ranges', 'bytes'],
  ['age', '0'],
  ['cache-status', 'cachewire; hit; ttl=299'],
])
const req = new http.IncomingMessage(null)
const response = () => {
  const res = new http.ServerResponse(req)
  res.setHeader('X-Powered-By', 'Express')
  return res
}
const removeAndAppend = (res) => {
  for (const [name] of lines) res.removeHeader(name)
  for (const [name, value] of lines) res.appendHeader(name, value)
}
const nothing = () => {}
const perCall = (write, count) => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) write(response())
  return Number(process.hrtime.bigint() - start) / count
}
const ratios = []
for (let round = 1; round <= 7; round++) {
  const empty = perCall(nothing, 100_000)
  const before = perCall(removeAndAppend, 100_000) - empty
  const after = perCall((res) => setReplyHeaders(res, lines), 100_000) - empty
  ratios.push(before / after)
  console.log(
    `round ${round}: remove + append ${before.toFixed(0)} ns, setReplyHeaders ${after.toFixed(0)} ns`
  )
}
ratios.sort((a, b) => a - b)
console.log(`median ratio ${ratios[3].toFixed(2)}`)

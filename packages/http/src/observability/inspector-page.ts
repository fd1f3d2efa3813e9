/**
 * The inspector: one self-contained page (no external assets, so it works offline and under a
 * strict CSP). It holds no data; its script polls `stats` and `health` next to it with the bearer
 * token the user types (or passes once as `?token=`, which is then dropped from the address bar).
 */
export const INSPECTOR_HTML: string = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cachewire inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center}
header h1{font-size:16px;margin:0;flex:1}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:12px;padding:12px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 12px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#5a6372;margin:0 0 8px}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:3px 4px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums}
th{color:#5a6372;font-weight:600}.num{text-align:right}
.big{font-size:28px;font-weight:600}.badge{padding:2px 8px;border-radius:10px;font-weight:600}
.closed,.ok{background:#d9f2e0;color:#17692f}.open,.degraded{background:#fbdada;color:#8a1b1b}.half-open{background:#fff0c2;color:#7a5b00}
.bar{display:inline-block;height:8px;background:#2f6fde;border-radius:2px;vertical-align:middle;margin-right:6px}
.fault-breaker{color:#8a1b1b}.fault-invalidation-applied{color:#17692f}
button{cursor:pointer}input{padding:4px}#error{color:#b00020}
</style></head>
<body>
<header><h1>cachewire inspector</h1>
<form id="login"><input id="token" type="password" placeholder="bearer token" autocomplete="off" aria-label="token"> <button>Connect</button></form>
<span id="error" role="alert"></span></header>
<main>
<section><h2>Hit rate</h2><div class="big" id="rate">–</div>
<svg id="chart" viewBox="0 0 360 120" width="100%" height="120" role="img" aria-label="hit rate over time"></svg></section>
<section><h2>Cache</h2><table id="summary"></table><p id="problems" role="status"></p></section>
<section><h2>Top paths by hits</h2><table id="byHits"></table></section>
<section><h2>Top paths by bytes</h2><table id="byBytes"></table></section>
<section><h2>Hit ratio per route</h2><table id="routes"></table></section>
<section><h2>Faults: breakers and invalidations</h2><table id="faults"></table></section>
<section><h2>Recent bypass and not-stored reasons</h2><table id="reasons"></table></section>
<section><h2>Purge</h2>
<form id="purge"><select id="kind"><option value="tags">tag</option><option value="url">url</option><option value="namespace">namespace</option></select>
<input id="target" placeholder="products or /products?id=7" aria-label="target"> <label><input type="checkbox" id="dry" checked> dry run</label> <button>Purge</button></form>
<pre id="purgeResult"></pre></section>
</main>
<script>
(function () {
  'use strict'
  var params = new URLSearchParams(location.search)
  var token = params.get('token') || sessionStorage.getItem('cachewire-token') || ''
  if (params.has('token')) history.replaceState(null, '', location.pathname)
  var history_ = []
  var last = null
  var $ = function (id) { return document.getElementById(id) }
  $('token').value = token
  function text(value) { return document.createTextNode(String(value)) }
  function row(table, cells, head) {
    var tr = document.createElement('tr')
    cells.forEach(function (cell, i) {
      var td = document.createElement(head ? 'th' : 'td')
      if (cell instanceof Node) td.appendChild(cell); else td.appendChild(text(cell))
      if (i > 0 && typeof cell === 'number') td.className = 'num'
      tr.appendChild(td)
    })
    table.appendChild(tr)
  }
  function bytes(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MiB' : n >= 1024 ? (n / 1024).toFixed(1) + ' KiB' : n + ' B' }
  function api(path, init) {
    init = init || {}
    init.headers = Object.assign({ authorization: 'Bearer ' + token }, init.headers || {})
    return fetch(path, init).then(function (response) {
      if (response.status === 401) throw new Error('unauthorized: check the token')
      return response.json()
    })
  }
  function purgeButton(path) {
    var button = document.createElement('button')
    button.textContent = 'purge'
    button.onclick = function () { purge('url', path, false) }
    return button
  }
  function draw() {
    var svg = $('chart'), points = history_.slice(-60)
    var ns = 'http://www.w3.org/2000/svg'
    while (svg.firstChild) svg.removeChild(svg.firstChild)
    ;[0, 0.5, 1].forEach(function (level) {
      var line = document.createElementNS(ns, 'line')
      line.setAttribute('x1', 0); line.setAttribute('x2', 360)
      line.setAttribute('y1', 110 - level * 100); line.setAttribute('y2', 110 - level * 100)
      line.setAttribute('stroke', '#dde1e7')
      svg.appendChild(line)
    })
    if (points.length === 0) return
    var step = points.length > 1 ? 360 / (points.length - 1) : 0
    var d = points.map(function (p, i) { return (i === 0 ? 'M' : 'L') + (i * step).toFixed(1) + ' ' + (110 - p * 100).toFixed(1) }).join(' ')
    var path = document.createElementNS(ns, 'path')
    path.setAttribute('d', d); path.setAttribute('fill', 'none'); path.setAttribute('stroke', '#2f6fde'); path.setAttribute('stroke-width', 2)
    path.setAttribute('id', 'rate-line')
    svg.appendChild(path)
  }
  function badge(id, state, label) {
    var span = document.createElement('span'); span.className = 'badge ' + state; span.id = id; span.textContent = label
    return span
  }
  function ratio(value) {
    var cell = document.createElement('span'), bar = document.createElement('span')
    bar.className = 'bar'; bar.style.width = Math.round(value * 60) + 'px'
    cell.appendChild(bar); cell.appendChild(text((value * 100).toFixed(1) + '%'))
    return cell
  }
  function renderHealth(health) {
    var row = $('store-health'); if (!row) return
    var cell = row.lastChild; cell.textContent = ''
    var store = health.store
    var label = health.status === 'ok' ? 'ok' : 'degraded'
    var detail = store.ping === 'ok' ? 'ping ' + store.latencyMs.toFixed(1) + ' ms' : store.ping === 'not-supported' ? 'in process' : store.problem + ': ' + store.error
    cell.appendChild(badge('health', label, label)); cell.appendChild(text(' ' + store.name + ', ' + detail))
    var problems = $('problems'); problems.textContent = health.problems.join(' · ')
  }
  function render(stats) {
    var l = stats.lookups
    var reads = l.hit + l.stale + l.miss + l.revalidated
    if (last !== null) {
      var dReads = reads - last.reads, dHits = l.hit + l.stale - last.hits
      history_.push(dReads > 0 ? dHits / dReads : (history_.length ? history_[history_.length - 1] : stats.hitRate))
    } else history_.push(stats.hitRate)
    last = { reads: reads, hits: l.hit + l.stale }
    $('rate').textContent = (stats.hitRate * 100).toFixed(1) + '%'
    draw()
    var s = $('summary'); s.textContent = ''
    row(s, ['breaker', badge('breaker', stats.cache.breaker, stats.cache.breaker)])
    row(s, ['store', ''])
    s.lastChild.id = 'store-health'
    row(s, ['hits / stale / misses / bypasses', l.hit + ' / ' + l.stale + ' / ' + l.miss + ' / ' + l.bypass])
    row(s, ['entries', stats.cache.entries === undefined ? 'n/a' : stats.cache.entries])
    row(s, ['bytes', stats.cache.bytes === undefined ? 'n/a' : bytes(stats.cache.bytes)])
    row(s, ['stores', stats.stores])
    row(s, ['evictions', stats.cache.evictions === undefined ? 'n/a' : stats.cache.evictions])
    row(s, ['invalidated', stats.invalidated])
    ;[['byHits', 'hits'], ['byBytes', 'bytes']].forEach(function (pair) {
      var t = $(pair[0]); t.textContent = ''
      row(t, ['path', 'hits', 'bytes', ''], true)
      stats.topPaths[pair[0]].forEach(function (p) { row(t, [p.path, p.hits, bytes(p.bytes), purgeButton(p.path)]) })
    })
    var routes = $('routes'); routes.textContent = ''
    row(routes, ['route', 'hits', 'misses', 'bypasses', 'hit ratio'], true)
    stats.routes.forEach(function (x) { row(routes, [x.route, x.hit + x.stale, x.miss + x.revalidated, x.bypass, ratio(x.hitRate)]) })
    var faults = $('faults'); faults.textContent = ''
    row(faults, ['when', 'kind', 'detail'], true)
    stats.faults.slice(0, 15).forEach(function (f) { row(faults, [new Date(f.at).toLocaleTimeString(), f.kind, f.detail]); faults.lastChild.className = 'fault-' + f.kind })
    if (stats.faults.length === 0) row(faults, ['', 'none', 'no breaker transitions or delayed invalidations'])
    var r = $('reasons'); r.textContent = ''
    row(r, ['when', 'kind', 'reason', 'path'], true)
    stats.recentReasons.slice(0, 15).forEach(function (e) { row(r, [new Date(e.at).toLocaleTimeString(), e.kind, e.reason, e.path]) })
  }
  function poll() {
    if (!token) return
    api('stats').then(function (stats) {
      $('error').textContent = ''
      render(stats)
      return api('health').then(renderHealth)
    }).catch(function (error) { $('error').textContent = error.message })
  }
  function purge(kind, target, dry) {
    var body = {}
    body[kind === 'tags' ? 'tags' : kind] = kind === 'tags' ? target.split(',').map(function (t) { return t.trim() }) : target
    if (kind === 'url') body.host = location.host
    api('purge/' + kind + (dry ? '?dryRun=1' : ''), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (result) { $('purgeResult').textContent = JSON.stringify(result, null, 1); poll() }, function (error) { $('error').textContent = error.message })
  }
  $('login').onsubmit = function (event) {
    event.preventDefault()
    token = $('token').value
    sessionStorage.setItem('cachewire-token', token)
    poll()
  }
  $('purge').onsubmit = function (event) {
    event.preventDefault()
    purge($('kind').value, $('target').value, $('dry').checked)
  }
  poll()
  setInterval(poll, 2000)
})()
</script></body></html>
`

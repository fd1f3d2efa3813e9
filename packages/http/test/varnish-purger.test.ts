import net, { type AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidOptionError } from '../src/index.js'
import { surrogateKeyRegex, varnishPurger } from '../src/operations.js'

describe('surrogateKeyRegex(tags)', () => {
  it('matches a whole tag in a space-separated list, never a prefix or suffix', () => {
    const regex = new RegExp(surrogateKeyRegex(['product-1', 'a.b']))
    expect(regex.test('products product-1')).toBe(true)
    expect(regex.test('a.b')).toBe(true)
    expect(regex.test('product-10 product-11')).toBe(false)
    expect(regex.test('aXb')).toBe(false)
  })

  it('writes no spaces or quotes, so the regex is one token in a VCL ban expression', () => {
    expect(surrogateKeyRegex(['a "b"', 'c\\d'])).not.toMatch(/[ "]/)
    expect(new RegExp(surrogateKeyRegex(['c\\d'])).test('x c\\d')).toBe(true)
  })
})

describe('varnishPurger(options)', () => {
  it('refuses a missing or non-http url, a bad header name and a bad timeout', () => {
    expect(() => varnishPurger({} as never)).toThrow(InvalidOptionError)
    expect(() => varnishPurger({ url: 'ftp://x' })).toThrow(/options\.url/)
    expect(() => varnishPurger({ url: ['http://a', 'nope'] })).toThrow(/options\.url\[1\]/)
    expect(() => varnishPurger({ url: 'http://a', banHeader: 'a b' })).toThrow(/options\.banHeader/)
    expect(() => varnishPurger({ url: 'http://a', timeout: 0 })).toThrow(/options\.timeout/)
    expect(() => varnishPurger({ url: 'http://a', timeoutMs: 5 } as never)).toThrow(
      /options\.timeoutMs to be written as options\.timeout/
    )
  })

  it('sends one BAN per tag batch and a PURGE per URL with its Host, and rejects on a non-2xx answer', async () => {
    // Node's HTTP parser refuses BAN (not a method it knows), so a raw TCP listener plays Varnish.
    const seen: Array<{
      method: string
      url: string
      host: string | undefined
      ban: string | undefined
    }> = []
    const server = net.createServer((socket) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (!text.includes('\r\n\r\n')) return
        const [line = '', ...fields] = text.split('\r\n\r\n')[0]!.split('\r\n')
        const [method = '', url = ''] = line.split(' ')
        const header = (name: string): string | undefined =>
          fields
            .find((f) => f.toLowerCase().startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim()
        seen.push({ method, url, host: header('host'), ban: header('x-cachewire-ban') })
        socket.end(
          `HTTP/1.1 ${url === '/refused' ? '405 Not Allowed' : '200 OK'}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const purger = varnishPurger({ url: `http://127.0.0.1:${port}` })
    await purger.purge({ kind: 'tags', tags: ['products', 'catalog'], urls: [] })
    await purger.purge({ kind: 'url', tags: [], urls: ['https://shop.example/items?id=7'] })
    expect(seen).toEqual([
      {
        method: 'BAN',
        url: '/',
        host: `127.0.0.1:${port}`,
        ban: '(^|\\s)(products|catalog)(\\s|$)',
      },
      { method: 'PURGE', url: '/items?id=7', host: 'shop.example', ban: undefined },
    ])
    await expect(
      purger.purge({ kind: 'url', tags: [], urls: ['http://x/refused'] })
    ).rejects.toThrow(/answered 405 to PURGE \/refused/)
  })
})

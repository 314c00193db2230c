import { createHash } from 'node:crypto'
import { existsSync, promises as fs, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

/**
 * A local stand-in for the two download sites the torch and tokenizer steps use, on 127.0.0.1:
 *
 * - `/torch/...`: a folder served as is (a PEP 503 simple index like download.pytorch.org/whl,
 *   built by tests/fixtures/torch-standin/make_index.py); a folder answers with its index.html.
 * - `/hf/<org>/<repo>/resolve/<revision>/<file>`: Hugging Face's file endpoint (what HF_ENDPOINT
 *   points at), answering HEAD and GET with the headers huggingface_hub reads (X-Repo-Commit, ETag,
 *   Content-Length); files a repository lacks get 404 with `X-Error-Code: EntryNotFound`, unknown
 *   repositories `RepoNotFound`, as the real hub answers.
 *
 * Every request is recorded (`requests`), so tests can tell what was downloaded.
 */
export interface LocalMirrors {
  url: string
  torchIndexUrl: string
  hfEndpoint: string
  requests: string[]
  close(): Promise<void>
}

export async function startLocalMirrors(opts: {
  torchRoot: string
  /** Hub repository id ("openai/clip-vit-large-patch14") → folder holding its files. */
  hfRepos: Record<string, string>
}): Promise<LocalMirrors> {
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.statusCode = 500
      res.end(String(err))
    })
  })

  async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, headers = {}) {
    const body = await fs.readFile(file)
    res.writeHead(200, { 'Content-Length': body.length, ...headers })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  function notFound(res: http.ServerResponse, code?: string) {
    res.writeHead(404, code ? { 'X-Error-Code': code, 'Content-Type': 'text/plain' } : {})
    res.end('not found')
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const p = decodeURIComponent(url.pathname)
    requests.push(`${req.method} ${p}`)
    if (p.startsWith('/torch/')) {
      const file = path.join(opts.torchRoot, path.normalize(p.slice('/torch/'.length)))
      if (!file.startsWith(opts.torchRoot)) return notFound(res)
      if (existsSync(file) && statSync(file).isDirectory()) {
        const index = path.join(file, 'index.html')
        if (existsSync(index)) return sendFile(req, res, index, { 'Content-Type': 'text/html' })
      } else if (existsSync(file)) {
        return sendFile(req, res, file, { 'Content-Type': 'application/octet-stream' })
      }
      return notFound(res)
    }
    const m = /^\/hf\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p)
    if (m) {
      const [, repo = '', , name = ''] = m
      const folder = opts.hfRepos[repo]
      if (!folder) return notFound(res, 'RepoNotFound')
      const file = path.join(folder, path.normalize(name))
      if (!file.startsWith(folder) || !existsSync(file)) return notFound(res, 'EntryNotFound')
      const body = await fs.readFile(file)
      // A fixed commit per repository, and the blob's hash as ETag, like the hub's non-LFS files.
      const commit = createHash('sha1').update(repo).digest('hex')
      const etag = createHash('sha1').update(body).digest('hex')
      return sendFile(req, res, file, { 'X-Repo-Commit': commit, ETag: `"${etag}"` })
    }
    // The hub API transformers asks for a listing (/api/models/<repo>/tree/<rev>/<folder>: a
    // tokenizer repo's additional_chat_templates/). Our repositories are flat: folders do not exist.
    const api = /^\/hf\/api\/models\/([^/]+\/[^/]+)(?:\/tree\/[^/]+(\/.*)?)?$/.exec(p)
    if (api) {
      const [, repo = '', sub] = api
      const folder = opts.hfRepos[repo]
      if (!folder) return notFound(res, 'RepoNotFound')
      const commit = createHash('sha1').update(repo).digest('hex')
      if (sub && sub !== '/') return notFound(res, 'EntryNotFound')
      const files = await fs.readdir(folder)
      const body = p.includes('/tree/')
        ? files.map((f) => ({
            type: 'file',
            path: f,
            oid: commit,
            size: statSync(path.join(folder, f)).size,
          }))
        : { id: repo, modelId: repo, sha: commit, siblings: files.map((f) => ({ rfilename: f })) }
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Repo-Commit': commit })
      res.end(JSON.stringify(body))
      return
    }
    return notFound(res, p.startsWith('/hf/') ? 'RepoNotFound' : undefined)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    torchIndexUrl: `${url}/torch`,
    hfEndpoint: `${url}/hf`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
